// SQLite-specific behaviour of the identity store: persistence across
// re-opening, start-up migration, and many threads at once.
#include "store/sql/identity_store_sql.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "temp_dir.h"

namespace onestack::store::sqlite {
namespace {

using onestack::store::testing::TempDir;

using sql::SqlIdentityStore;

Result<std::unique_ptr<SqlIdentityStore>> open_identity(const std::string& path) {
  auto db = SqliteDb::open(path, {}, schema_migrations());
  if (!db.ok()) return std::move(db).error();
  return std::make_unique<SqlIdentityStore>(std::move(db).value());
}

std::unique_ptr<SqlIdentityStore> open_store(const std::string& path) {
  auto s = open_identity(path);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(*s) : nullptr;
}

Database& database_of(SqlIdentityStore& store) {
  return static_cast<SqliteDb&>(store.db()).database();
}

TEST(IdentityStoreOnSqlite, EverythingSurvivesReopening) {
  TempDir dir;
  const std::string path = dir.file("identity.db");
  int64_t revocation_id = 0;
  {
    auto store = open_store(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create(Kind::kUser, Record{"u1", "d1", "alice", "", "", "{}"}).ok());
    ASSERT_TRUE(store->add_member("g1", "u1").ok());
    ASSERT_TRUE(store
                    ->add_assignment(
                        Assignment{ActorType::kUser, "u1", TargetType::kProject, "p1", "r1", false})
                    .ok());
    ASSERT_TRUE(store->add_implied_role("r1", "r2").ok());
    auto ev = store->add_revocation(RevocationEvent{.user_id = "u1", .issued_before = 1});
    ASSERT_TRUE(ev.ok());
    revocation_id = ev->id;
  }
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  auto user = store->get(Kind::kUser, "u1");
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->name, "alice");
  EXPECT_TRUE(*store->is_member("g1", "u1"));
  EXPECT_EQ(store->list_assignments({})->size(), 1u);
  EXPECT_EQ(store->list_implied_roles()->size(), 1u);
  auto revs = store->list_revocations(0);
  ASSERT_TRUE(revs.ok());
  ASSERT_EQ(revs->size(), 1u);
  EXPECT_EQ((*revs)[0].id, revocation_id);
  EXPECT_EQ(*schema_version(database_of(*store)), static_cast<int>(schema_migrations().size()));
}

TEST(IdentityStoreOnSqlite, OpeningADatabaseFromANewerBinaryFails) {
  TempDir dir;
  const std::string path = dir.file("identity.db");
  {
    auto store = open_store(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(database_of(*store)
                    .write([](Connection& c) { return c.exec("PRAGMA user_version = 1000"); })
                    .ok());
  }
  auto store = open_identity(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kInternal);
  EXPECT_NE(store.error().message.find("1000"), std::string::npos) << store.error().message;
}

TEST(IdentityStoreOnSqlite, AFileWrittenBeforeTheSharedStoreKeepsEverythingAfterItsMigration) {
  // A version-1 file (tables without the identity_ prefix), as an earlier
  // onestack left it; opening it renames the tables and adds the counter.
  TempDir dir;
  const std::string path = dir.file("identity.db");
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE(migrate(**db, schema_migrations().first(1)).ok());
    ASSERT_TRUE((*db)
                    ->write([](Connection& c) {
                      return c.exec(
                          "INSERT INTO records (kind, id, scope, name, doc, unique_key) VALUES "
                          "('project', 'p1', 'd', 'one', '{}', 'd' || char(31) || 'one');"
                          "INSERT INTO assignments VALUES ('user', 'u1', 'project', 'p1', 'r1', 0);"
                          "INSERT INTO records (kind, id, doc) VALUES ('policy', 'pol1', "
                          "'{\"blob\":\"{}\",\"type\":\"application/json\",\"x\":1}');"
                          "INSERT INTO records (kind, id, doc) VALUES ('endpoint_group', 'eg1', "
                          "'{\"name\":\"g\",\"filters\":{}}');"
                          "INSERT INTO records (kind, id, doc) VALUES ('consumer', 'c1', "
                          "'{\"description\":null,\"secret\":\"s\"}');"
                          "INSERT INTO revocations (user_id, issued_before, revoked_at) "
                          "VALUES ('u1', 5, 5), ('u2', 6, 6);"
                          "DELETE FROM revocations WHERE user_id = 'u2';");
                    })
                    .ok());
  }
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  auto p = store->get(Kind::kProject, "p1");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->name, "one");
  // The unique name still holds, under its new table's constraint.
  auto clash = store->create(Kind::kProject, Record{"p2", "d", "one", "", "", "{}"});
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, ErrorCode::kConflict);
  EXPECT_NE(clash.error().message.find("duplicate project name"), std::string::npos);
  auto grants = store->list_assignments({});
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ(grants->front().role_id, "r1");
  // Revocation ids keep growing past a pruned one: the sequence moved along.
  auto ev = store->add_revocation(RevocationEvent{.user_id = "u3", .issued_before = 7});
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->id, 3);
  // A stored policy moved to the table the resource kit declares it in,
  // its type in the column a list filters by, its document whole.
  Status moved = database_of(*store).read([](Connection& c) -> Status {
    auto stmt = c.prepare("SELECT id, type, doc FROM identity_policies");
    if (!stmt.ok()) return std::move(stmt).error();
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return make_error(ErrorCode::kNotFound, "no policy row");
    EXPECT_EQ(stmt->text(0), "pol1");
    EXPECT_EQ(stmt->text(1), "application/json");
    EXPECT_NE(stmt->text(2).find("\"x\":1"), std::string::npos);
    return ok_status();
  });
  EXPECT_TRUE(moved.ok()) << moved.error().message;
  for (const char* sql : {"SELECT name FROM identity_endpoint_groups WHERE id = 'eg1'",
                          "SELECT description FROM identity_consumers WHERE id = 'c1'"}) {
    Status found = database_of(*store).read([&](Connection& c) -> Status {
      auto stmt = c.prepare(sql);
      if (!stmt.ok()) return std::move(stmt).error();
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) return make_error(ErrorCode::kNotFound, "not moved");
      return ok_status();
    });
    EXPECT_TRUE(found.ok()) << sql << ": " << found.error().message;
  }
  EXPECT_TRUE(store->list(Kind::kEndpointGroup, {})->empty());
  EXPECT_TRUE(store->list(Kind::kConsumer, {})->empty());
  auto leftover = store->list(Kind::kPolicy, {});
  ASSERT_TRUE(leftover.ok());
  EXPECT_TRUE(leftover->empty());
  auto g0 = store->generation();
  ASSERT_TRUE(g0.ok());
  ASSERT_TRUE(store->remove(Kind::kProject, "p1").ok());
  EXPECT_GT(*store->generation(), *g0);
}

// Records the first failure seen by any thread, and whether any failure was
// the "database is locked" kind that must never reach a request.
class FailureLog {
 public:
  void check(const char* what, bool ok, const Error* err) {
    if (ok) return;
    failures_.fetch_add(1);
    if (err != nullptr && err->code == ErrorCode::kUnavailable) unavailable_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.empty()) first_ = std::string(what) + ": " + (err ? err->message : "wrong result");
  }
  template <typename R>
  void check(const char* what, const R& r) {
    check(what, r.ok(), r.ok() ? nullptr : &r.error());
  }
  int failures() const { return failures_.load(); }
  int unavailable() const { return unavailable_.load(); }
  std::string first() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  std::atomic<int> failures_{0};
  std::atomic<int> unavailable_{0};
  std::mutex mu_;
  std::string first_;  // guarded by mu_
};

// One worker's share of mixed traffic: creates, reads, updates, lists,
// relations and revocations, interleaved with every other worker's.
void mixed_traffic(IdentityStore& store, int worker, int rounds, FailureLog& log) {
  const std::string domain = "d" + std::to_string(worker % 2);
  for (int i = 0; i < rounds; ++i) {
    const std::string id = "w" + std::to_string(worker) + "-" + std::to_string(i);
    log.check("create", store.create(Kind::kUser, Record{id, domain, id, "", "", "{}"}));
    auto got = store.get(Kind::kUser, id);
    log.check("get", got);
    if (got.ok() && got->name != id) log.check("get returned the wrong record", false, nullptr);
    log.check("update", store.update(Kind::kUser, Record{id, domain, id, "", "", R"({"n":1})"}));
    log.check("list", store.list(Kind::kUser, RecordQuery{.scope = domain}));
    log.check("add_member", store.add_member("g" + std::to_string(i % 3), id));
    log.check("groups_of_user", store.groups_of_user(id));
    Assignment a{
        ActorType::kUser, id, TargetType::kProject, "p" + std::to_string(i % 4), "r", false};
    log.check("add_assignment", store.add_assignment(a));
    log.check("list_assignments",
              store.list_assignments(AssignmentQuery{.target_id = a.target_id}));
    if (i % 5 == 0) {
      log.check("add_revocation",
                store.add_revocation(RevocationEvent{.user_id = id, .issued_before = 1}));
    }
    log.check("list_revocations", store.list_revocations(0));
    if (i % 7 == 0) log.check("remove", store.remove(Kind::kUser, id));
  }
}

TEST(IdentityStoreOnSqlite, EightThreadsOfMixedTrafficNeverSeeALockedDatabase) {
  TempDir dir;
  auto store = open_store(dir.file("identity.db"));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kRounds = 60;
  FailureLog log;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { mixed_traffic(*store, t, kRounds, log); });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(log.unavailable(), 0);
  EXPECT_EQ(log.failures(), 0) << log.first();
  auto users = store->list(Kind::kUser, {});
  ASSERT_TRUE(users.ok());
  const size_t removed_per_thread = (kRounds + 6) / 7;
  EXPECT_EQ(users->size(), static_cast<size_t>(kThreads) * (kRounds - removed_per_thread));
}

TEST(IdentityStoreOnSqlite, TwoStoresOnOneFileWaitForEachOtherInsteadOfFailing) {
  // As two onestack processes sharing a file would: each has its own writer,
  // so SQLite's busy timeout, not our mutex, keeps them apart.
  TempDir dir;
  auto first = open_store(dir.file("identity.db"));
  auto second = open_store(dir.file("identity.db"));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  FailureLog log;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    IdentityStore& store = (t % 2 == 0) ? static_cast<IdentityStore&>(*first) : *second;
    threads.emplace_back([&store, &log, t] { mixed_traffic(store, t, 20, log); });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(log.failures(), 0) << log.first();
}

TEST(IdentityStoreOnSqlite, InMemoryStoreIsSafeUnderConcurrentUse) {
  auto store = open_store(":memory:");
  ASSERT_NE(store, nullptr);
  FailureLog log;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] { mixed_traffic(*store, t, 30, log); });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(log.failures(), 0) << log.first();
}

}  // namespace
}  // namespace onestack::store::sqlite
