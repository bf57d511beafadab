// Token validation with a store several nodes share: validate() never
// touches the database, and sync() (which the server runs off the I/O
// threads before validating) waits for a stalled database only so long.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "identity/service/bootstrap.h"
#include "identity/service/default_rules.h"
#include "identity/service/identity_service.h"
#include "identity/token/key_repository.h"
#include "store/sql/identity_store_sql.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"

namespace onestack::identity {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Blocks every "identity.generation" transaction while stalled, as a
// database that stopped answering would.
class Stall {
 public:
  std::optional<Error> hit(std::string_view point) {
    if (point != "identity.generation") return std::nullopt;
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.wait(lock, [this] { return !stalled_; });
    --waiting_;
    return std::nullopt;
  }
  void set(bool stalled) {
    {
      std::lock_guard lock(mu_);
      stalled_ = stalled;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stalled_ = false;  // guarded by mu_
  int waiting_ = 0;       // guarded by mu_
};

class IdentityServiceSync : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("onestack-sync-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    ASSERT_TRUE(token::KeyRepository::setup(dir_ / "keys", 3).ok());
    auto db = store::sqlite::SqliteDb::open((dir_ / "identity.db").string(), {},
                                            store::sqlite::schema_migrations());
    ASSERT_TRUE(db.ok()) << db.error().message;
    (*db)->set_fault_hook([this](std::string_view point) { return stall_.hit(point); });
    store_ = std::make_unique<store::sql::SqlIdentityStore>(std::move(db).value());
    BootstrapOptions boot;
    boot.password = "secret";
    boot.bcrypt_rounds = 4;
    ASSERT_TRUE(bootstrap(*store_, boot).ok());
    auto formatter = token::TokenFormatter::open(dir_ / "keys");
    ASSERT_TRUE(formatter.ok()) << formatter.error().message;
    auto policy = policy::PolicyEngine::load(default_policy_rules(), "", false);
    ASSERT_TRUE(policy.ok());
    Settings settings;
    settings.shared_store = true;
    settings.sync_patience = milliseconds(200);
    svc_ = std::make_unique<IdentityService>(settings, *store_, std::move(formatter).value(),
                                             std::move(policy).value());
    ASSERT_TRUE(svc_->refresh().ok());
  }

  void TearDown() override {
    stall_.set(false);
    if (svc_) svc_->stop();
    svc_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string admin_token() {
    auto users = store_->list(store::Kind::kUser, {.name = std::string("admin")});
    EXPECT_TRUE(users.ok() && users->size() == 1);
    auto projects = store_->list(store::Kind::kProject, {.name = std::string("admin")});
    EXPECT_TRUE(projects.ok() && projects->size() == 1);
    ScopeRequest scope;
    scope.kind = ScopeRequest::Kind::kProject;
    scope.project_id = projects->front().id;
    auto info = svc_->issue(users->front().id, {"password"}, scope, nullptr, "");
    EXPECT_TRUE(info.ok()) << info.error().message;
    return info.ok() ? info->token : "";
  }

  static double seconds_since(steady_clock::time_point t) {
    return std::chrono::duration<double>(steady_clock::now() - t).count();
  }

  fs::path dir_;
  Stall stall_;
  std::unique_ptr<store::sql::SqlIdentityStore> store_;
  std::unique_ptr<IdentityService> svc_;
};

TEST_F(IdentityServiceSync, ValidationNeedsNoDatabaseAndSyncIsWhatTheServerRunsFirst) {
  const std::string token = admin_token();
  EXPECT_TRUE(svc_->needs_sync());
  ASSERT_TRUE(svc_->sync().ok());
  stall_.set(true);
  // validate() itself never waits for the database.
  auto started = steady_clock::now();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(svc_->validate(token, false).ok());
  EXPECT_LT(seconds_since(started), 0.2);
}

TEST_F(IdentityServiceSync, AStalledDatabaseDoesNotStallValidationOfAKnownToken) {
  const std::string token = admin_token();
  stall_.set(true);
  // The first request waits out the patience, no longer.
  auto started = steady_clock::now();
  EXPECT_TRUE(svc_->sync().ok());
  EXPECT_GE(seconds_since(started), 0.19);
  EXPECT_LT(seconds_since(started), 2.0);
  EXPECT_TRUE(svc_->validate(token, false).ok());
  // Once the check has run past the patience, requests do not queue behind it.
  started = steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(svc_->sync().ok());
    EXPECT_TRUE(svc_->validate(token, false).ok());
  }
  EXPECT_LT(seconds_since(started), 0.2);
  // A login needs the store: a strict catch-up waits for the real answer.
  stall_.set(false);
  EXPECT_TRUE(svc_->catch_up().ok());
}

TEST_F(IdentityServiceSync, AWriteByAnotherNodeIsSeenByTheNextSync) {
  const std::string token = admin_token();
  ASSERT_TRUE(svc_->sync().ok());
  ASSERT_TRUE(svc_->validate(token, false).ok());
  // Another node (another store on the same file) disables the admin user.
  auto db = store::sqlite::SqliteDb::open((dir_ / "identity.db").string(), {},
                                          store::sqlite::schema_migrations());
  ASSERT_TRUE(db.ok());
  store::sql::SqlIdentityStore other(std::move(db).value());
  auto users = other.list(store::Kind::kUser, {.name = std::string("admin")});
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 1u);
  store::Record admin = users->front();
  auto pos = admin.doc.find("\"enabled\":true");
  ASSERT_NE(pos, std::string::npos) << admin.doc;
  admin.doc.replace(pos, 14, "\"enabled\":false");
  ASSERT_TRUE(other.update(store::Kind::kUser, admin).ok());
  // Not seen until synced (validate() reads no database) ...
  EXPECT_TRUE(svc_->validate(token, false).ok());
  // ... and refused at once after.
  ASSERT_TRUE(svc_->sync().ok());
  auto refused = svc_->validate(token, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace onestack::identity

namespace onestack::identity {
namespace {

// Quotas read their limits from Keystone's unified limits through the
// service (auth::LimitSource), stored as api/limit_routes.cc stores them.
TEST_F(IdentityServiceSync, LimitsComeFromAProjectsOwnLimitElseTheRegisteredDefault) {
  auto rec = [](std::string id, std::string scope, std::string name, std::string parent,
                std::string owner, std::string doc) {
    return store::Record{std::move(id),     std::move(scope), std::move(name),
                         std::move(parent), std::move(owner), std::move(doc)};
  };
  ASSERT_TRUE(store_
                  ->create(store::Kind::kService,
                           rec("svc-compute", "", "nova", "", "", R"({"type":"compute"})"))
                  .ok());
  ASSERT_TRUE(store_
                  ->create(store::Kind::kRegisteredLimit,
                           rec("rl1", "", "cores", "svc-compute", "", R"({"default_limit":20})"))
                  .ok());
  ASSERT_TRUE(
      store_
          ->create(store::Kind::kRegisteredLimit,
                   rec("rl2", "RegionTwo", "cores", "svc-compute", "", R"({"default_limit":-1})"))
          .ok());
  ASSERT_TRUE(
      store_
          ->create(store::Kind::kLimit, rec("l1", "", "cores", "svc-compute", "p-small",
                                            R"({"resource_limit":4,"project_id":"p-small"})"))
          .ok());
  ASSERT_TRUE(svc_->refresh().ok());
  const auth::LimitSource& limits = *svc_;
  EXPECT_EQ(limits.limit("compute", "", "cores", "p-small"), 4);
  EXPECT_EQ(limits.limit("compute", "", "cores", "p-other"), 20);
  EXPECT_EQ(limits.limit("compute", "RegionTwo", "cores", "p-small"), -1);
  EXPECT_EQ(limits.limit("compute", "", "ram", "p-small"), std::nullopt);
  EXPECT_EQ(limits.limit("network", "", "cores", "p-small"), std::nullopt);
}

}  // namespace
}  // namespace onestack::identity
