// What only the file backend does: its layout on disk, recovery of temp
// files, and every I/O failure leaving nothing visible.
#include "blob/fs/fs_blob_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "blob_test_util.h"
#include "unit/store/temp_dir.h"

namespace onestack::blob::fs {
namespace {

namespace stdfs = std::filesystem;
using store::testing::TempDir;
using testing::md5_of;
using testing::pattern_bytes;
using testing::read_all;

std::vector<std::string> names_in(const stdfs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : stdfs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

void touch(const stdfs::path& path, const std::string& content = "x") {
  std::ofstream(path) << content;
}

mode_t mode_of(const stdfs::path& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// The last path component of the directory open as `fd`.
std::string dir_name_of(int fd) {
  std::error_code ec;
  stdfs::path p = stdfs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  return p.filename().string();
}

class FsBlobStoreTest : public ::testing::Test {
 protected:
  // Opens the store at root() with `options` (replacing any open one).
  void open_store(FsBlobStore::Options options = {}) {
    store_.reset();
    auto s = FsBlobStore::open_dir(root().string(), std::move(options));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }

  void SetUp() override { open_store(); }

  stdfs::path root() const { return dir_.path() / "blobs"; }
  stdfs::path tmp() const { return root() / "tmp"; }

  // Everything under objects/ that is not a fan-out directory.
  std::vector<std::string> object_files() const {
    std::vector<std::string> out;
    for (const auto& e : stdfs::recursive_directory_iterator(root() / "objects")) {
      if (!e.is_directory()) out.push_back(e.path().filename().string());
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<FsBlobStore> store_;
};

// ---- layout ----

TEST_F(FsBlobStoreTest, OpenCreatesTheLayoutWithPrivateModes) {
  for (const char* sub : {"objects", "tmp", "quarantine"}) {
    SCOPED_TRACE(sub);
    ASSERT_TRUE(stdfs::is_directory(root() / sub));
    EXPECT_EQ(mode_of(root() / sub) & 0027, 0u);
  }
  // Fan-out directories come with their first blob.
  EXPECT_TRUE(names_in(root() / "objects").empty());
}

TEST_F(FsBlobStoreTest, OpenOfAnExistingRootKeepsItsBlobs) {
  auto w = store_->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("persisted"));
  ASSERT_OK((*w)->commit());
  open_store();
  auto r = store_->open((*w)->id());
  ASSERT_OK(r);
  EXPECT_EQ(read_all(**r), "persisted");
}

TEST_F(FsBlobStoreTest, OpenFailsWhenTheRootIsAFile) {
  touch(dir_.path() / "file");
  auto s = FsBlobStore::open_dir((dir_.path() / "file").string());
  EXPECT_CODE(s, ErrorCode::kInternal);
}

TEST_F(FsBlobStoreTest, CommittedBlobLivesUnderItsFanOutDirectory) {
  auto w = store_->create();
  ASSERT_OK(w);
  const std::string id = (*w)->id();
  ASSERT_OK((*w)->write("placed"));
  ASSERT_OK((*w)->commit());
  stdfs::path expected = root() / "objects" / id.substr(0, 2) / id;
  EXPECT_EQ(store_->object_path(id), expected.string());
  ASSERT_TRUE(stdfs::is_regular_file(expected));
  EXPECT_EQ(mode_of(expected.parent_path()) & 0027, 0u);
  EXPECT_EQ(stdfs::file_size(expected), 6u);
  EXPECT_EQ(mode_of(expected) & ~mode_t{0640}, 0u);
  EXPECT_TRUE(names_in(tmp()).empty());
}

TEST_F(FsBlobStoreTest, WritingGoesToATempFileThatAbortRemoves) {
  auto w = store_->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("in flight"));
  EXPECT_EQ(names_in(tmp()), std::vector<std::string>{(*w)->id() + ".tmp"});
  EXPECT_TRUE(object_files().empty());
  (*w)->abort();
  EXPECT_TRUE(names_in(tmp()).empty());
  EXPECT_TRUE(object_files().empty());
}

TEST_F(FsBlobStoreTest, DestroyingAWriterRemovesItsTempFile) {
  {
    auto w = store_->create();
    ASSERT_OK(w);
    ASSERT_OK((*w)->write("in flight"));
    EXPECT_EQ(names_in(tmp()).size(), 1u);
  }
  EXPECT_TRUE(names_in(tmp()).empty());
}

TEST_F(FsBlobStoreTest, ReaderFdReadsTheBlob) {
  auto w = store_->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("sendfile me"));
  ASSERT_OK((*w)->commit());
  auto r = store_->open((*w)->id());
  ASSERT_OK(r);
  ASSERT_GE((*r)->fd(), 0);
  char buf[32];
  ssize_t n = ::pread((*r)->fd(), buf, sizeof buf, 0);
  ASSERT_EQ(n, 11);
  EXPECT_EQ(std::string(buf, 11), "sendfile me");
}

// ---- ids never become paths ----

TEST_F(FsBlobStoreTest, MalformedIdsNeverTouchTheFilesystemOutsideTheRoot) {
  // Files an id-joined path could reach if an id were trusted.
  touch(dir_.path() / "x");
  touch(root() / "x");
  touch(root() / "objects" / "x");
  touch(root() / "objects" / "..x");
  stdfs::create_directories(dir_.path() / "victim");
  touch(dir_.path() / "victim" / "0123456789abcdef0123456789abcdef");
  const std::string cases[] = {
      "../x",
      "../../x",
      "../../../x",
      "..x",
      "x",
      "/../../victim/0123456789abcdef01",
      "../../../victim/0123456789abcdef",
      "0123456789abcdef0123456789abcde/",
  };
  for (const std::string& bad : cases) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(store_->open(bad), ErrorCode::kNotFound);
    EXPECT_CODE(store_->remove(bad), ErrorCode::kNotFound);
    EXPECT_CODE(store_->quarantine(bad), ErrorCode::kNotFound);
  }
  EXPECT_TRUE(stdfs::exists(dir_.path() / "x"));
  EXPECT_TRUE(stdfs::exists(root() / "x"));
  EXPECT_TRUE(stdfs::exists(root() / "objects" / "x"));
  EXPECT_TRUE(stdfs::exists(root() / "objects" / "..x"));
  EXPECT_TRUE(stdfs::exists(dir_.path() / "victim" / "0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(names_in(root() / "quarantine").empty());
}

TEST_F(FsBlobStoreTest, ForEachIgnoresFilesThatAreNotBlobs) {
  auto w = store_->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->commit());
  const std::string id = (*w)->id();
  const std::string wrong_dir = id.substr(0, 2) == "00" ? "01" : "00";
  touch(root() / "objects" / id.substr(0, 2) / "junk");
  touch(root() / "objects" / id.substr(0, 2) / (id + ".tmp"));
  touch(root() / "objects" / wrong_dir / id);
  stdfs::create_directories(root() / "objects" / "zz");
  std::set<std::string> seen;
  ASSERT_OK(store_->for_each([&](const BlobInfo& info) {
    seen.insert(info.id);
    return true;
  }));
  EXPECT_EQ(seen, std::set<std::string>{id});
}

// ---- recovery and quarantine ----

TEST_F(FsBlobStoreTest, RecoverRemovesTempLeftovers) {
  auto kept = store_->create();
  ASSERT_OK(kept);
  ASSERT_OK((*kept)->write("committed"));
  ASSERT_OK((*kept)->commit());
  // What a crash mid-write leaves behind.
  touch(tmp() / "0123456789abcdef0123456789abcdef.tmp", "half a blob");
  touch(tmp() / "fedcba9876543210fedcba9876543210.tmp", "");
  touch(tmp() / "stray");
  auto removed = store_->recover();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 3u);
  EXPECT_TRUE(names_in(tmp()).empty());
  auto r = store_->open((*kept)->id());
  ASSERT_OK(r);
  EXPECT_EQ(read_all(**r), "committed");
}

TEST_F(FsBlobStoreTest, QuarantineMovesTheFileIntoQuarantine) {
  auto w = store_->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("bad bytes"));
  ASSERT_OK((*w)->commit());
  const std::string id = (*w)->id();
  ASSERT_OK(store_->quarantine(id));
  EXPECT_FALSE(stdfs::exists(store_->object_path(id)));
  ASSERT_TRUE(stdfs::is_regular_file(root() / "quarantine" / id));
  EXPECT_EQ(stdfs::file_size(root() / "quarantine" / id), 9u);
  EXPECT_CODE(store_->open(id), ErrorCode::kNotFound);
}

// ---- failures leave nothing visible ----

// Lets `limit` bytes through in total, then fails every write with `err`.
FsBlobStore::Options fail_writes_after(size_t limit, int err) {
  auto written = std::make_shared<size_t>(0);
  FsBlobStore::Options o;
  o.write = [written, limit, err](int fd, const void* buf, size_t len) -> ssize_t {
    if (*written >= limit) {
      errno = err;
      return -1;
    }
    size_t n = std::min(len, limit - *written);
    ssize_t w = ::write(fd, buf, n);
    if (w > 0) *written += static_cast<size_t>(w);
    return w;
  };
  return o;
}

// Expects `id` to be nowhere: not openable, not listed, no temp file.
void expect_nothing_left(FsBlobStore& store, const std::string& id, const stdfs::path& root) {
  EXPECT_CODE(store.open(id), ErrorCode::kNotFound);
  EXPECT_FALSE(stdfs::exists(store.object_path(id)));
  EXPECT_TRUE(names_in(root / "tmp").empty());
  int listed = 0;
  EXPECT_TRUE(store.for_each([&](const BlobInfo&) { return ++listed, true; }).ok());
  EXPECT_EQ(listed, 0);
}

TEST_F(FsBlobStoreTest, DiskFullDuringWriteIsInsufficientStorageAndLeavesNothing) {
  for (int err : {ENOSPC, EDQUOT}) {
    SCOPED_TRACE(err);
    open_store(fail_writes_after(10000, err));
    auto w = store_->create();
    ASSERT_OK(w);
    const std::string id = (*w)->id();
    ASSERT_OK((*w)->write(pattern_bytes(4096)));
    EXPECT_CODE((*w)->write(pattern_bytes(8192)), ErrorCode::kInsufficientStorage);
    // The blob is unusable from then on, and its temp file is already gone.
    EXPECT_TRUE(names_in(tmp()).empty());
    EXPECT_CODE((*w)->write("more"), ErrorCode::kInsufficientStorage);
    EXPECT_CODE((*w)->commit(), ErrorCode::kInsufficientStorage);
    (*w)->abort();
    expect_nothing_left(*store_, id, root());
  }
}

TEST_F(FsBlobStoreTest, OtherWriteErrorsAreInternalAndLeaveNothing) {
  open_store(fail_writes_after(0, EIO));
  auto w = store_->create();
  ASSERT_OK(w);
  const std::string id = (*w)->id();
  EXPECT_CODE((*w)->write("doomed"), ErrorCode::kInternal);
  w->reset();
  expect_nothing_left(*store_, id, root());
}

TEST_F(FsBlobStoreTest, ShortWritesAndInterruptsAreRetried) {
  auto calls = std::make_shared<int>(0);
  FsBlobStore::Options o;
  o.write = [calls](int fd, const void* buf, size_t len) -> ssize_t {
    if (++*calls % 3 == 0) {
      errno = EINTR;
      return -1;
    }
    return ::write(fd, buf, std::min<size_t>(len, 1021));
  };
  open_store(std::move(o));
  const std::string data = pattern_bytes(100000);
  auto w = store_->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write(data));
  EXPECT_EQ((*w)->size(), data.size());
  EXPECT_EQ((*w)->md5_hex(), md5_of(data));
  ASSERT_OK((*w)->commit());
  EXPECT_GT(*calls, 100);
  auto r = store_->open((*w)->id());
  ASSERT_OK(r);
  EXPECT_TRUE(read_all(**r) == data);
}

TEST_F(FsBlobStoreTest, DataSyncFailureFailsCommitAndLeavesNothing) {
  for (int err : {EIO, ENOSPC}) {
    SCOPED_TRACE(err);
    FsBlobStore::Options o;
    o.fdatasync = [err](int) {
      errno = err;
      return -1;
    };
    open_store(std::move(o));
    auto w = store_->create();
    ASSERT_OK(w);
    const std::string id = (*w)->id();
    ASSERT_OK((*w)->write("not durable"));
    EXPECT_CODE((*w)->commit(),
                err == ENOSPC ? ErrorCode::kInsufficientStorage : ErrorCode::kInternal);
    EXPECT_FALSE((*w)->commit().ok());
    expect_nothing_left(*store_, id, root());
  }
}

TEST_F(FsBlobStoreTest, DirectorySyncFailureFailsCommitAndLeavesNothing) {
  // Fails the sync of objects/ (after making a fan-out directory) in the
  // first round, the sync of the fan-out directory (after the rename) in the
  // second.
  for (std::string failing : {"objects", "fan-out"}) {
    SCOPED_TRACE(failing);
    FsBlobStore::Options o;
    o.fsync_dir = [failing](int fd) {
      bool is_objects = dir_name_of(fd) == "objects";
      if (is_objects == (failing == "objects")) {
        errno = EIO;
        return -1;
      }
      return ::fsync(fd);
    };
    open_store(std::move(o));
    auto w = store_->create();
    ASSERT_OK(w);
    const std::string id = (*w)->id();
    if (failing == "fan-out") stdfs::create_directories(root() / "objects" / id.substr(0, 2));
    ASSERT_OK((*w)->write("renamed but not durable"));
    EXPECT_CODE((*w)->commit(), ErrorCode::kInternal);
    expect_nothing_left(*store_, id, root());
  }
}

TEST_F(FsBlobStoreTest, CommitSyncsTheDataThenEveryDirectoryItChanged) {
  auto order = std::make_shared<std::vector<std::string>>();
  FsBlobStore::Options o;
  o.fdatasync = [order](int fd) {
    order->push_back("data");
    return ::fdatasync(fd);
  };
  o.fsync_dir = [order](int fd) {
    order->push_back(dir_name_of(fd));
    return ::fsync(fd);
  };
  open_store(std::move(o));
  auto first = store_->create();
  ASSERT_OK(first);
  const std::string fan_out = (*first)->id().substr(0, 2);
  ASSERT_OK((*first)->commit());
  EXPECT_EQ(*order, (std::vector<std::string>{"data", "objects", fan_out}));

  // A later blob in the same directory does not make it again.
  order->clear();
  std::unique_ptr<BlobWriter> second;
  for (;;) {
    auto w = store_->create();
    ASSERT_OK(w);
    if ((*w)->id().substr(0, 2) == fan_out) {
      second = std::move(*w);
      break;
    }
  }
  ASSERT_OK(second->commit());
  EXPECT_EQ(*order, (std::vector<std::string>{"data", fan_out}));
}

TEST_F(FsBlobStoreTest, CreateFailsWhenTheTempDirectoryIsGone) {
  stdfs::remove_all(tmp());
  EXPECT_CODE(store_->create(), ErrorCode::kInternal);
  EXPECT_CODE(store_->recover(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace onestack::blob::fs
