#include "identity/token/token_formatter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "identity/token/base64url.h"

namespace onestack::identity::token {
namespace {

namespace fs = std::filesystem;

class TokenFormatterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("onestack-formatter-" + new_hex_id());
    ASSERT_TRUE(KeyRepository::setup(dir_).ok());
    auto f = TokenFormatter::open(dir_);
    ASSERT_TRUE(f.ok()) << f.error().message;
    formatter_ = std::move(*f);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static TokenPayload project_payload() {
    TokenPayload p;
    p.user_id = new_hex_id();
    p.methods = {"password"};
    p.scope = Scope::kProject;
    p.project_id = new_hex_id();
    p.expires_at = 1935817689.5;
    p.audit_ids = {TokenFormatter::new_audit_id()};
    return p;
  }

  fs::path dir_;
  std::unique_ptr<TokenFormatter> formatter_;
};

TEST_F(TokenFormatterTest, IssuesAnUnpaddedTokenThatValidatesToThePayload) {
  TokenPayload p = project_payload();
  auto token = formatter_->issue_at(p, 1700000000);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->find('='), std::string::npos);
  EXPECT_EQ(token->rfind("gAAAAA", 0), 0u);  // version byte 0x80 then the time
  auto back = formatter_->validate(*token);
  ASSERT_TRUE(back.ok()) << back.error().message;
  p.issued_at = 1700000000;
  EXPECT_EQ(*back, p);
}

TEST_F(TokenFormatterTest, StampsIssueWithTheCurrentTime) {
  auto before = static_cast<uint64_t>(std::time(nullptr));
  auto token = formatter_->issue(project_payload());
  ASSERT_TRUE(token.ok());
  auto back = formatter_->validate(*token);
  ASSERT_TRUE(back.ok());
  EXPECT_GE(back->issued_at, before);
  EXPECT_LE(back->issued_at, before + 5);
}

TEST_F(TokenFormatterTest, StampsIssueWithItsClocksTime) {
  FakeClock clock;
  auto f = TokenFormatter::open(dir_, default_auth_methods(), clock);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto first = (*f)->issue(project_payload());
  ASSERT_TRUE(first.ok());
  clock.advance(std::chrono::milliseconds(2500));
  auto later = (*f)->issue(project_payload());
  ASSERT_TRUE(later.ok());
  EXPECT_EQ((*f)->validate(*first)->issued_at, 1700000000u);
  EXPECT_EQ((*f)->validate(*later)->issued_at, 1700000002u);  // whole seconds
}

TEST_F(TokenFormatterTest, DoesNotCheckExpiry) {
  TokenPayload p = project_payload();
  p.expires_at = 1.0;
  auto token = formatter_->issue(p);
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(formatter_->validate(*token).ok());
}

TEST_F(TokenFormatterTest, RejectsATokenWithAnyCharacterChanged) {
  auto token = formatter_->issue(project_payload());
  ASSERT_TRUE(token.ok());
  for (size_t i = 0; i < token->size(); ++i) {
    std::string bad = *token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto got = formatter_->validate(bad);
    // The last character may carry only unused padding bits.
    if (got.ok()) {
      EXPECT_EQ(i, token->size() - 1);
      continue;
    }
    EXPECT_EQ(got.error().code, ErrorCode::kUnauthenticated) << i;
  }
  EXPECT_FALSE(formatter_->validate(*token + "AAAA").ok());
  EXPECT_FALSE(formatter_->validate("").ok());
}

TEST_F(TokenFormatterTest, RejectsATokenFromAnotherRepository) {
  fs::path other = dir_ / "other";
  ASSERT_TRUE(KeyRepository::setup(other).ok());
  auto stranger = TokenFormatter::open(other);
  ASSERT_TRUE(stranger.ok());
  auto token = (*stranger)->issue(project_payload());
  ASSERT_TRUE(token.ok());
  auto got = formatter_->validate(*token);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(TokenFormatterTest, KeepsValidatingOldTokensAcrossRotations) {
  auto old_token = formatter_->issue(project_payload());
  ASSERT_TRUE(old_token.ok());
  ASSERT_TRUE(KeyRepository::rotate(dir_).ok());
  ASSERT_TRUE(formatter_->reload().ok());
  EXPECT_EQ(formatter_->keys()->indexes, (std::vector<int>{2, 1, 0}));
  auto new_token = formatter_->issue(project_payload());
  ASSERT_TRUE(new_token.ok());
  EXPECT_TRUE(formatter_->validate(*old_token).ok());  // key 1 is now a secondary
  EXPECT_TRUE(formatter_->validate(*new_token).ok());

  // Two more rotations with max_active_keys 3 drop key 1: its tokens die.
  ASSERT_TRUE(KeyRepository::rotate(dir_).ok());
  ASSERT_TRUE(formatter_->reload().ok());
  EXPECT_FALSE(formatter_->validate(*old_token).ok());
  EXPECT_TRUE(formatter_->validate(*new_token).ok());
}

TEST_F(TokenFormatterTest, ValidatesATokenSignedWithTheStagedKey) {
  // A node that rotated first issues with what is still our staged key.
  auto staged = KeyRepository::load(dir_);
  ASSERT_TRUE(staged.ok());
  TokenFormatter ahead(dir_);
  auto set = std::make_shared<KeySet>();
  set->keys = {staged->keys.back()};
  set->indexes = {0};
  ahead.set_keys(set);
  auto token = ahead.issue(project_payload());
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(formatter_->validate(*token).ok());
}

TEST_F(TokenFormatterTest, KeepsTheOldKeysWhenAReloadFails) {
  auto token = formatter_->issue(project_payload());
  ASSERT_TRUE(token.ok());
  fs::remove_all(dir_);
  EXPECT_FALSE(formatter_->reload().ok());
  EXPECT_TRUE(formatter_->validate(*token).ok());
}

TEST(TokenFormatterWithoutKeys, ReportsUnavailable) {
  TokenFormatter f(fs::temp_directory_path() / ("onestack-none-" + new_hex_id()));
  TokenPayload p;
  EXPECT_EQ(f.issue(p).error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(f.validate("gAAAAA").error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(TokenFormatter::open(fs::temp_directory_path() / "onestack-none-x").error().code,
            ErrorCode::kUnavailable);
}

TEST_F(TokenFormatterTest, ValidatesFromManyThreadsWhileKeysAreReloaded) {
  auto token = formatter_->issue(project_payload());
  ASSERT_TRUE(token.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (!formatter_->validate(*token).ok()) failures++;
        if (!formatter_->issue(project_payload()).ok()) failures++;
      }
    });
  }
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(formatter_->reload().ok());
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(NewAuditId, IsTwentyTwoUrlSafeCharactersOfSixteenRandomBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = TokenFormatter::new_audit_id();
    EXPECT_EQ(id.size(), 22u);
    auto raw = urlsafe_b64decode(id);
    ASSERT_TRUE(raw.has_value()) << id;
    EXPECT_EQ(raw->size(), 16u);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace onestack::identity::token
