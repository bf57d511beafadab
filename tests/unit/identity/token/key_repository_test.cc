#include "identity/token/key_repository.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/ids.h"

namespace onestack::identity::token {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("onestack-keys-" + new_hex_id())) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::string> names(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(KeyRepositorySetup, CreatesStagedAndPrimaryKeysWithPrivateModes) {
  TempDir tmp;
  fs::path dir = tmp.path() / "fernet-keys";
  ASSERT_TRUE(KeyRepository::setup(dir).ok());
  EXPECT_EQ(names(dir), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(dir / "0"), 0600u);
  EXPECT_EQ(mode_of(dir / "1"), 0600u);
  EXPECT_EQ(slurp(dir / "0").size(), 44u);
  EXPECT_NE(slurp(dir / "0"), slurp(dir / "1"));
}

TEST(KeyRepositorySetup, IsIdempotent) {
  TempDir tmp;
  ASSERT_TRUE(KeyRepository::setup(tmp.path()).ok());
  std::string staged = slurp(tmp.path() / "0");
  std::string primary = slurp(tmp.path() / "1");
  ASSERT_TRUE(KeyRepository::setup(tmp.path()).ok());
  EXPECT_EQ(names(tmp.path()), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(slurp(tmp.path() / "0"), staged);
  EXPECT_EQ(slurp(tmp.path() / "1"), primary);
}

struct RotationCase {
  int max_active_keys;
  int rotations;
  std::vector<std::string> files;  // after setup + rotations, as keystone leaves them
};

TEST(KeyRepositoryRotate, LeavesTheSameFilesAsKeystone) {
  // Traced by hand through keystone's FernetUtils.rotate_keys; the API
  // interop test also compares against keystone itself.
  const std::vector<RotationCase> cases = {
      {3, 0, {"0", "1"}},
      {3, 1, {"0", "1", "2"}},
      {3, 2, {"0", "2", "3"}},
      {3, 5, {"0", "5", "6"}},
      {2, 1, {"0", "2"}},
      {2, 3, {"0", "4"}},
      {5, 2, {"0", "1", "2", "3"}},
      {5, 4, {"0", "2", "3", "4", "5"}},
      {1, 0, {"0"}},  // keystone drops even the new primary with max 1
      {1, 2, {"0"}},
  };
  for (const auto& c : cases) {
    TempDir tmp;
    ASSERT_TRUE(KeyRepository::setup(tmp.path(), c.max_active_keys).ok());
    for (int i = 0; i < c.rotations; ++i) {
      ASSERT_TRUE(KeyRepository::rotate(tmp.path(), c.max_active_keys).ok());
    }
    EXPECT_EQ(names(tmp.path()), c.files)
        << "max_active_keys=" << c.max_active_keys << " rotations=" << c.rotations;
    for (const auto& n : names(tmp.path())) EXPECT_EQ(mode_of(tmp.path() / n), 0600u) << n;
  }
}

TEST(KeyRepositoryRotate, PromotesTheStagedKeyToPrimary) {
  TempDir tmp;
  ASSERT_TRUE(KeyRepository::setup(tmp.path()).ok());
  std::string staged = slurp(tmp.path() / "0");
  std::string primary = slurp(tmp.path() / "1");
  ASSERT_TRUE(KeyRepository::rotate(tmp.path()).ok());
  EXPECT_EQ(slurp(tmp.path() / "2"), staged);
  EXPECT_EQ(slurp(tmp.path() / "1"), primary);
  EXPECT_NE(slurp(tmp.path() / "0"), staged);
}

TEST(KeyRepositoryRotate, RefusesWithoutAStagedKeyOrWithABadMaximum) {
  TempDir tmp;
  fs::create_directories(tmp.path());
  EXPECT_EQ(KeyRepository::rotate(tmp.path()).error().code, ErrorCode::kPreconditionFailed);
  ASSERT_TRUE(KeyRepository::setup(tmp.path()).ok());
  EXPECT_EQ(KeyRepository::rotate(tmp.path(), 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(KeyRepository::setup(tmp.path() / "new", 0).error().code, ErrorCode::kInvalidArgument);
  fs::remove(tmp.path() / "0");
  EXPECT_EQ(KeyRepository::rotate(tmp.path()).error().code, ErrorCode::kPreconditionFailed);
}

TEST(KeyRepositoryLoad, ReturnsThePrimaryFirstAndTheStagedKeyLast) {
  TempDir tmp;
  ASSERT_TRUE(KeyRepository::setup(tmp.path()).ok());
  ASSERT_TRUE(KeyRepository::rotate(tmp.path()).ok());
  ASSERT_TRUE(KeyRepository::rotate(tmp.path(), 4).ok());
  auto set = KeyRepository::load(tmp.path());
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->indexes, (std::vector<int>{3, 2, 1, 0}));
  ASSERT_EQ(set->keys.size(), 4u);
  auto primary = parse_fernet_key(slurp(tmp.path() / "3"));
  ASSERT_TRUE(primary.ok());
  EXPECT_EQ(set->keys[0].signing_key, primary->signing_key);
  EXPECT_EQ(set->keys[0].encryption_key, primary->encryption_key);
}

TEST(KeyRepositoryLoad, IgnoresEmptyAndNonNumericFilesLikeKeystone) {
  TempDir tmp;
  ASSERT_TRUE(KeyRepository::setup(tmp.path()).ok());
  write(tmp.path() / "0.tmp", "half-written");
  write(tmp.path() / "README", "not a key");
  write(tmp.path() / "7", "");
  auto set = KeyRepository::load(tmp.path());
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->indexes, (std::vector<int>{1, 0}));
}

TEST(KeyRepositoryLoad, RejectsAKeyFileThatIsNotAKey) {
  TempDir tmp;
  ASSERT_TRUE(KeyRepository::setup(tmp.path()).ok());
  write(tmp.path() / "2", "garbage");
  auto set = KeyRepository::load(tmp.path());
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(set.error().message.find("2"), std::string::npos);
}

TEST(KeyRepositoryLoad, ReportsAMissingOrEmptyRepositoryAsUnavailable) {
  TempDir tmp;
  EXPECT_EQ(KeyRepository::load(tmp.path() / "nope").error().code, ErrorCode::kUnavailable);
  fs::create_directories(tmp.path());
  EXPECT_EQ(KeyRepository::load(tmp.path()).error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace onestack::identity::token
