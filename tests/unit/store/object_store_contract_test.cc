// The ObjectStore contract, run against every backend. A new backend joins
// by adding one entry to kBackends. SQLite-only checks (re-opening, the
// commit counter) come last.
//
// The Postgres backend runs when ONESTACK_TEST_PG holds a connection string
// ("postgresql://user@host:port/db"): each test gets a schema of its own,
// dropped afterwards. Without it those tests are skipped, or fail when
// ONESTACK_TEST_REQUIRE_BACKENDS=1 says every backend must run.
//
// This file is UTF-8: names such as "café" and "€" are their UTF-8 bytes.
#include <gtest/gtest.h>
#include <ctime>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "blob/small_blob_table.h"
#include "store/object_store.h"
#include "store/pg/object_store_pg.h"
#include "store/pg/pg.h"
#include "store/sqlite/object_migrations.h"
#include "store/sqlite/object_store_sqlite.h"
#include "temp_dir.h"

namespace onestack::store {
namespace {

using testing::TempDir;

// What one test's stores live in: files under `dir`, or a database schema
// the backend creates on first open and drops when the test ends.
struct Scratch {
  TempDir dir;
  std::string conninfo;            // the Postgres backend's, with the test's schema
  std::string schema;              // that schema, also the connections' application_name
  std::function<void()> teardown;  // drops the schema
  ~Scratch() {
    if (teardown) teardown();
  }
};

struct Backend {
  std::string name;
  // Opens a store in `scratch`: the first call a fresh, empty one; for a
  // shared backend, a later call another node on the same database.
  std::function<std::unique_ptr<ObjectStore>(Scratch& scratch)> open;
  // Whether writes pay for durability (an fsync per commit), so that
  // concurrent writers are sure to pile up behind a commit.
  bool durable = false;
  // Whether several stores (nodes) share one database: leases are
  // exclusive between them and each sees the others' writes.
  bool shared = false;
  // Why the backend cannot run here ("" when it can).
  std::function<std::string()> unavailable = [] { return std::string(); };
};

// ONESTACK_TEST_PG's connection string with `param` ("options=...") added,
// as a URI query parameter or a key=value pair.
std::string with_param(const std::string& conninfo, const std::string& key,
                       const std::string& uri_value, const std::string& kv_value) {
  if (conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0) {
    const char sep = conninfo.find('?') == std::string::npos ? '?' : '&';
    return conninfo + sep + key + "=" + uri_value;
  }
  return conninfo + " " + key + "='" + kv_value + "'";
}

std::string test_pg() {
  const char* env = std::getenv("ONESTACK_TEST_PG");
  return env != nullptr ? env : "";
}

// Creates schema t_<random> for this test and returns a store on it (or,
// once created, another store on the same schema: a second node).
std::unique_ptr<ObjectStore> open_pg(Scratch& scratch) {
  if (scratch.conninfo.empty()) {
    const std::string base = test_pg();
    auto admin = pg::Connection::open(base);
    if (!admin.ok()) {
      ADD_FAILURE() << "cannot connect to ONESTACK_TEST_PG: " << admin.error().message;
      return nullptr;
    }
    std::random_device rd;
    char buf[32];
    std::snprintf(buf, sizeof buf, "t_%08x%08x", rd(), rd());
    const std::string schema = buf;
    scratch.schema = schema;
    auto created = (*admin)->exec("CREATE SCHEMA " + schema);
    if (!created.ok()) {
      ADD_FAILURE() << "CREATE SCHEMA: " << created.error().message;
      return nullptr;
    }
    // application_name lets a test find (and cut) this schema's connections.
    scratch.conninfo = with_param(
        with_param(base, "options", "-c%20search_path%3D" + schema, "-c search_path=" + schema),
        "application_name", schema, schema);
    scratch.teardown = [base, schema] {
      auto conn = pg::Connection::open(base);
      if (!conn.ok()) return;
      (void)(*conn)->exec("DROP SCHEMA " + schema + " CASCADE");
    };
  }
  auto s = pg::PgObjectStore::open(scratch.conninfo);
  if (!s.ok()) {
    ADD_FAILURE() << "PgObjectStore::open: " << s.error().message;
    return nullptr;
  }
  return std::move(*s);
}

const Backend kBackends[] = {
    {"SqliteFile",
     [](Scratch& scratch) -> std::unique_ptr<ObjectStore> {
       auto s = sqlite::SqliteObjectStore::open(scratch.dir.file("objects.db"));
       return s.ok() ? std::move(*s) : nullptr;
     },
     true},
    {"SqliteMemory",
     [](Scratch&) -> std::unique_ptr<ObjectStore> {
       auto s = sqlite::SqliteObjectStore::open(":memory:");
       return s.ok() ? std::move(*s) : nullptr;
     },
     false},
    // PostgreSQL commits with an fsync (synchronous_commit on, as deployed).
    {"Postgres", open_pg, true, true,
     [] {
       return test_pg().empty() ? std::string(
                                      "ONESTACK_TEST_PG is not set (a PostgreSQL "
                                      "connection string); Postgres tests skipped")
                                : std::string();
     }},
};

// Keeps gtest's failure lines readable ("GetParam() = SqliteFile").
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

#define ASSERT_OK(expr)                                                              \
  do {                                                                               \
    auto assert_ok_r_ = (expr);                                                      \
    ASSERT_TRUE(assert_ok_r_.ok()) << #expr << ": " << assert_ok_r_.error().message; \
  } while (0)

#define EXPECT_CODE(expr, expected_code)                                     \
  do {                                                                       \
    auto expect_code_r_ = (expr);                                            \
    ASSERT_FALSE(expect_code_r_.ok()) << #expr << " unexpectedly succeeded"; \
    EXPECT_EQ(expect_code_r_.error().code, expected_code)                    \
        << #expr << ": " << expect_code_r_.error().message;                  \
  } while (0)

constexpr char kAccount[] = "AUTH_test";

ContainerRecord container(std::string name, Metadata meta = {}, int64_t ts = 1000) {
  ContainerRecord c;
  c.account = kAccount;
  c.name = std::move(name);
  c.created_us = ts;
  c.put_us = ts;
  c.meta = std::move(meta);
  c.storage_policy = "gold";
  return c;
}

ObjectRecord object(std::string container, std::string name, std::string blob = "",
                    uint64_t size = 0) {
  ObjectRecord o;
  o.account = kAccount;
  o.container = std::move(container);
  o.name = std::move(name);
  o.blob_id = std::move(blob);
  o.size = size;
  o.etag = "d41d8cd98f00b204e9800998ecf8427e";
  o.content_type = "application/octet-stream";
  o.timestamp_us = 2000;
  return o;
}

// Renders a listing as names, subdirs as "dir:<subdir>".
template <typename Entry, typename NameOf>
std::vector<std::string> render(const std::vector<Entry>& entries, NameOf name_of) {
  std::vector<std::string> out;
  for (const Entry& e : entries) out.push_back(e.subdir.empty() ? name_of(e) : "dir:" + e.subdir);
  return out;
}

class ObjectStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (std::string why = GetParam().unavailable(); !why.empty()) {
      const char* require = std::getenv("ONESTACK_TEST_REQUIRE_BACKENDS");
      if (require != nullptr && std::string(require) == "1") {
        FAIL() << why << " (ONESTACK_TEST_REQUIRE_BACKENDS=1 requires every backend)";
      }
      GTEST_SKIP() << why;
    }
    store_ = GetParam().open(scratch_);
    ASSERT_NE(store_, nullptr) << "backend failed to open";
  }

  // The SQLite store behind store_, for its counters.
  sqlite::SqliteObjectStore* sqlite_store() {
    return dynamic_cast<sqlite::SqliteObjectStore*>(store_.get());
  }
  pg::PgObjectStore* pg_store() { return dynamic_cast<pg::PgObjectStore*>(store_.get()); }

  // Commits so far, for a store that counts them.
  std::optional<uint64_t> commits() {
    if (auto* s = sqlite_store()) return s->commits();
    if (auto* s = pg_store()) return s->commits();
    return std::nullopt;
  }

  ContainerRecord get_container(const std::string& name) {
    auto c = store_->get_container(kAccount, name);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : ContainerRecord{};
  }

  std::vector<std::string> list_objects(const ListQuery& q, const std::string& c = "c") {
    auto r = store_->list_objects(kAccount, c, q);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return {};
    auto listed = render(*r, [](const ObjectListEntry& e) { return e.object.name; });
    // The streamed page is the same page.
    std::vector<ObjectListRow> rows;
    auto scanned = store_->scan_objects(kAccount, c, q,
                                        [&](const ObjectListRow& row) { rows.push_back(row); });
    EXPECT_TRUE(scanned.ok()) << (scanned.ok() ? "" : scanned.error().message);
    EXPECT_EQ(render(rows, [](const ObjectListRow& e) { return e.name; }), listed);
    return listed;
  }

  std::vector<std::string> list_containers(const ListQuery& q) {
    auto r = store_->list_containers(kAccount, q);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return {};
    return render(*r, [](const ContainerListEntry& e) { return e.container.name; });
  }

  // Puts `names` into container `c` from several threads (so that a durable
  // backend shares commits), each with `size` bytes and no blob.
  void put_many(const std::string& c, const std::vector<std::string>& names, uint64_t size) {
    constexpr size_t kThreads = 16;
    std::atomic<size_t> failures{0};
    std::vector<std::thread> threads;
    for (size_t t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < names.size(); i += kThreads) {
          if (!store_->put_object(object(c, names[i], "", size), {}).ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(failures.load(), 0u);
  }

  Scratch scratch_;  // outlives store_
  std::unique_ptr<ObjectStore> store_;
};

// ---- accounts ----

TEST_P(ObjectStoreContract, GetAccountOfAnAccountNeverCreatedIsNotFound) {
  EXPECT_CODE(store_->get_account("AUTH_nobody"), ErrorCode::kNotFound);
}

TEST_P(ObjectStoreContract, EnsureAccountCreatesOnceAndKeepsTheFirstTimestamps) {
  ASSERT_OK(store_->ensure_account(kAccount, 100));
  ASSERT_OK(store_->ensure_account(kAccount, 200));
  auto a = store_->get_account(kAccount);
  ASSERT_OK(a);
  EXPECT_EQ(a->name, kAccount);
  EXPECT_EQ(a->created_us, 100);
  EXPECT_EQ(a->put_us, 100);
  EXPECT_TRUE(a->meta.empty());
  EXPECT_EQ(a->container_count, 0u);
  EXPECT_EQ(a->object_count, 0u);
  EXPECT_EQ(a->bytes_used, 0u);
}

TEST_P(ObjectStoreContract, UpdateAccountMetaCreatesTheAccountAndAddsReplacesAndRemovesKeys) {
  ASSERT_OK(store_->update_account_meta(
      kAccount, {{"x-account-meta-a", "1"}, {"x-account-meta-b", "2"}}, 100));
  ASSERT_OK(store_->update_account_meta(
      kAccount, {{"x-account-meta-a", ""}, {"x-account-meta-b", "3"}, {"x-account-meta-c", "4"}},
      200));
  auto a = store_->get_account(kAccount);
  ASSERT_OK(a);
  EXPECT_EQ(a->created_us, 100);
  EXPECT_EQ(a->meta, (Metadata{{"x-account-meta-b", "3"}, {"x-account-meta-c", "4"}}));
}

TEST_P(ObjectStoreContract, AccountTotalsAreSummedOverItsContainersOnly) {
  ASSERT_OK(store_->create_container(container("c1")));
  ASSERT_OK(store_->create_container(container("c2")));
  ContainerRecord other = container("c1");
  other.account = "AUTH_other";
  ASSERT_OK(store_->create_container(other));
  ASSERT_OK(store_->put_object(object("c1", "a", "b1", 10), {}));
  ASSERT_OK(store_->put_object(object("c1", "b", "b2", 20), {}));
  ASSERT_OK(store_->put_object(object("c2", "a", "b3", 5), {}));
  ObjectRecord elsewhere = object("c1", "a", "b4", 1000);
  elsewhere.account = "AUTH_other";
  ASSERT_OK(store_->put_object(elsewhere, {}));

  auto a = store_->get_account(kAccount);
  ASSERT_OK(a);
  EXPECT_EQ(a->container_count, 2u);
  EXPECT_EQ(a->object_count, 3u);
  EXPECT_EQ(a->bytes_used, 35u);
}

TEST_P(ObjectStoreContract, ListContainersOfAnUnknownAccountIsEmpty) {
  EXPECT_TRUE(list_containers({}).empty());
}

// ---- containers ----

TEST_P(ObjectStoreContract, CreateContainerCreatesItsAccountAndReturnsTrue) {
  auto created = store_->create_container(container("c", {{"x-container-meta-a", "1"}}, 500));
  ASSERT_OK(created);
  EXPECT_TRUE(*created);
  auto a = store_->get_account(kAccount);
  ASSERT_OK(a);
  EXPECT_EQ(a->created_us, 500);
  EXPECT_EQ(a->container_count, 1u);

  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.account, kAccount);
  EXPECT_EQ(c.name, "c");
  EXPECT_EQ(c.created_us, 500);
  EXPECT_EQ(c.put_us, 500);
  EXPECT_EQ(c.meta, (Metadata{{"x-container-meta-a", "1"}}));
  EXPECT_EQ(c.storage_policy, "gold");
  EXPECT_EQ(c.object_count, 0u);
  EXPECT_EQ(c.bytes_used, 0u);
}

TEST_P(ObjectStoreContract, CreatingAnExistingContainerAppliesItsMetaAsUpdatesAndReturnsFalse) {
  ASSERT_OK(store_->create_container(
      container("c", {{"x-container-meta-a", "1"}, {"x-container-meta-b", "2"}}, 500)));
  ASSERT_OK(store_->put_object(object("c", "o", "b1", 7), {}));
  auto created = store_->create_container(
      container("c", {{"x-container-meta-a", ""}, {"x-container-meta-c", "3"}}, 900));
  ASSERT_OK(created);
  EXPECT_FALSE(*created);
  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.created_us, 500);
  EXPECT_EQ(c.meta, (Metadata{{"x-container-meta-b", "2"}, {"x-container-meta-c", "3"}}));
  EXPECT_EQ(c.object_count, 1u);
  EXPECT_EQ(c.bytes_used, 7u);
}

TEST_P(ObjectStoreContract, GetContainerOfAnUnknownContainerIsNotFound) {
  EXPECT_CODE(store_->get_container(kAccount, "nope"), ErrorCode::kNotFound);
}

TEST_P(ObjectStoreContract, UpdateContainerMetaAddsReplacesAndRemovesKeys) {
  ASSERT_OK(store_->create_container(
      container("c", {{"x-container-read", ".r:*"}, {"x-container-meta-a", "1"}})));
  const int64_t put_before = get_container("c").put_us;
  ASSERT_OK(store_->update_container_meta(
      kAccount, "c",
      {{"x-container-read", ""}, {"x-container-meta-a", "2"}, {"x-versions-location", "v"}},
      std::nullopt));
  EXPECT_EQ(get_container("c").meta,
            (Metadata{{"x-container-meta-a", "2"}, {"x-versions-location", "v"}}));
  EXPECT_EQ(get_container("c").put_us, put_before);
  EXPECT_CODE(store_->update_container_meta(kAccount, "nope", {{"a", "b"}}, std::nullopt),
              ErrorCode::kNotFound);
}

TEST_P(ObjectStoreContract, UpdateContainerMetaMovesThePutTimestampWhenGivenOne) {
  ASSERT_OK(store_->create_container(container("c", {})));
  const ContainerRecord before = get_container("c");
  const int64_t later = before.put_us + 5'000'000;
  ASSERT_OK(store_->update_container_meta(kAccount, "c", {{"x-container-meta-a", "1"}}, later));
  const ContainerRecord after = get_container("c");
  EXPECT_EQ(after.put_us, later);
  EXPECT_EQ(after.created_us, before.created_us);
}

TEST_P(ObjectStoreContract, DeleteContainerRemovesAnEmptyContainer) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->delete_container(kAccount, "c"));
  EXPECT_CODE(store_->get_container(kAccount, "c"), ErrorCode::kNotFound);
  EXPECT_EQ(store_->get_account(kAccount)->container_count, 0u);
}

TEST_P(ObjectStoreContract, DeleteContainerOfAnUnknownContainerIsNotFound) {
  EXPECT_CODE(store_->delete_container(kAccount, "nope"), ErrorCode::kNotFound);
}

TEST_P(ObjectStoreContract, DeleteContainerHoldingObjectsIsConflictUntilTheyAreGone) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->put_object(object("c", "o"), {}));
  EXPECT_CODE(store_->delete_container(kAccount, "c"), ErrorCode::kConflict);
  ASSERT_OK(store_->delete_object(kAccount, "c", "o", std::nullopt));
  ASSERT_OK(store_->delete_container(kAccount, "c"));
}

// ---- objects ----

TEST_P(ObjectStoreContract, PutThenGetReturnsEveryField) {
  ASSERT_OK(store_->create_container(container("c")));
  ObjectRecord o = object("c", "dir/café €😀", "blob-1", 1234);
  o.etag = "0123456789abcdef0123456789abcdef";
  o.content_type = "text/plain; charset=utf-8";
  o.timestamp_us = 1700000000123456;
  o.delete_at = 1800000000;
  // Header values are bytes: quotes, backslashes, control and non-UTF-8
  // bytes must all come back unchanged.
  o.meta = {{"x-object-meta-color", "blue"},
            {"x-object-meta-odd", std::string("q\"b\\s\n\x01\xff\xfe end", 14)},
            {"content-disposition", "attachment; filename=\"ü.txt\""}};
  auto put = store_->put_object(o, {});
  ASSERT_OK(put);
  EXPECT_FALSE(put->previous.has_value());
  EXPECT_TRUE(put->freed_blobs.empty());

  auto got = store_->get_object(kAccount, "c", o.name);
  ASSERT_OK(got);
  EXPECT_EQ(got->account, kAccount);
  EXPECT_EQ(got->container, "c");
  EXPECT_EQ(got->name, o.name);
  EXPECT_EQ(got->blob_id, "blob-1");
  EXPECT_EQ(got->size, 1234u);
  EXPECT_EQ(got->etag, o.etag);
  EXPECT_EQ(got->content_type, o.content_type);
  EXPECT_EQ(got->timestamp_us, o.timestamp_us);
  EXPECT_EQ(got->delete_at, o.delete_at);
  EXPECT_EQ(got->meta, o.meta);
}

TEST_P(ObjectStoreContract, GetObjectOfAnUnknownObjectIsNotFound) {
  ASSERT_OK(store_->create_container(container("c")));
  EXPECT_CODE(store_->get_object(kAccount, "c", "nope"), ErrorCode::kNotFound);
  EXPECT_CODE(store_->get_object(kAccount, "nope", "nope"), ErrorCode::kNotFound);
}

TEST_P(ObjectStoreContract, PutIntoAMissingContainerIsNotFoundAndChangesNothing) {
  EXPECT_CODE(store_->put_object(object("nope", "o", "b1", 1), {}), ErrorCode::kNotFound);
  EXPECT_CODE(store_->get_object(kAccount, "nope", "o"), ErrorCode::kNotFound);
  EXPECT_FALSE(*store_->blob_referenced("b1"));
}

TEST_P(ObjectStoreContract, CountersAreExactAfterPutsOverwritesAndDeletes) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->put_object(object("c", "a", "b1", 100), {}));
  ASSERT_OK(store_->put_object(object("c", "b", "b2", 50), {}));
  ASSERT_OK(store_->put_object(object("c", "c", "", 0), {}));
  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.object_count, 3u);
  EXPECT_EQ(c.bytes_used, 150u);

  ASSERT_OK(store_->put_object(object("c", "a", "b3", 10), {}));  // shrink
  ASSERT_OK(store_->put_object(object("c", "b", "b4", 70), {}));  // grow
  c = get_container("c");
  EXPECT_EQ(c.object_count, 3u);
  EXPECT_EQ(c.bytes_used, 80u);

  ASSERT_OK(store_->delete_object(kAccount, "c", "b", std::nullopt));
  c = get_container("c");
  EXPECT_EQ(c.object_count, 2u);
  EXPECT_EQ(c.bytes_used, 10u);

  EXPECT_CODE(store_->delete_object(kAccount, "c", "b", std::nullopt), ErrorCode::kNotFound);
  ASSERT_OK(store_->delete_object(kAccount, "c", "a", std::nullopt));
  ASSERT_OK(store_->delete_object(kAccount, "c", "c", std::nullopt));
  c = get_container("c");
  EXPECT_EQ(c.object_count, 0u);
  EXPECT_EQ(c.bytes_used, 0u);
}

TEST_P(ObjectStoreContract, OverwriteReturnsThePreviousRowAndFreesItsBlob) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->put_object(object("c", "o", "old", 3), {}));
  auto put = store_->put_object(object("c", "o", "new", 4), {});
  ASSERT_OK(put);
  ASSERT_TRUE(put->previous.has_value());
  EXPECT_EQ(put->previous->blob_id, "old");
  EXPECT_EQ(put->previous->size, 3u);
  EXPECT_EQ(put->freed_blobs, std::vector<std::string>{"old"});
  EXPECT_FALSE(*store_->blob_referenced("old"));
  EXPECT_TRUE(*store_->blob_referenced("new"));
}

TEST_P(ObjectStoreContract, OverwriteWithTheSameBlobOrNoBlobFreesNothing) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->put_object(object("c", "o", "b1", 3), {}));
  auto same = store_->put_object(object("c", "o", "b1", 3), {});
  ASSERT_OK(same);
  EXPECT_TRUE(same->freed_blobs.empty());
  ASSERT_OK(store_->put_object(object("c", "empty", "", 0), {}));
  auto none = store_->put_object(object("c", "empty", "", 0), {});
  ASSERT_OK(none);
  EXPECT_TRUE(none->freed_blobs.empty());
}

TEST_P(ObjectStoreContract, ASharedBlobIsFreedOnlyWithItsLastRow) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->create_container(container("versions")));
  ASSERT_OK(store_->put_object(object("c", "o", "shared", 9), {}));
  ASSERT_OK(store_->put_object(object("versions", "o.v1", "shared", 9), {.blob_shared = true}));

  auto first = store_->delete_object(kAccount, "c", "o", std::nullopt);
  ASSERT_OK(first);
  EXPECT_TRUE(first->freed_blobs.empty());
  EXPECT_EQ(first->previous.blob_id, "shared");
  EXPECT_TRUE(*store_->blob_referenced("shared"));

  auto second = store_->delete_object(kAccount, "versions", "o.v1", std::nullopt);
  ASSERT_OK(second);
  EXPECT_EQ(second->freed_blobs, std::vector<std::string>{"shared"});
  EXPECT_FALSE(*store_->blob_referenced("shared"));
}

TEST_P(ObjectStoreContract, OverwritingOneOfTwoRowsSharingABlobFreesNothing) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->put_object(object("c", "a", "shared", 9), {}));
  ASSERT_OK(store_->put_object(object("c", "b", "shared", 9), {.blob_shared = true}));
  auto put = store_->put_object(object("c", "a", "other", 1), {});
  ASSERT_OK(put);
  EXPECT_TRUE(put->freed_blobs.empty());
  auto last = store_->put_object(object("c", "b", "other", 1), {.blob_shared = true});
  ASSERT_OK(last);
  EXPECT_EQ(last->freed_blobs, std::vector<std::string>{"shared"});
}

TEST_P(ObjectStoreContract, IfNoneMatchFailsWhenARowExistsAndChangesNothing) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->put_object(object("c", "o", "b1", 3), {.if_none_match = true}));
  EXPECT_CODE(store_->put_object(object("c", "o", "b2", 5), {.if_none_match = true}),
              ErrorCode::kPreconditionFailed);
  EXPECT_EQ(store_->get_object(kAccount, "c", "o")->blob_id, "b1");
  EXPECT_FALSE(*store_->blob_referenced("b2"));
  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.object_count, 1u);
  EXPECT_EQ(c.bytes_used, 3u);
}

TEST_P(ObjectStoreContract, IfNoneMatchReplacesARowPastItsDeleteAt) {
  ASSERT_OK(store_->create_container(container("c")));
  ObjectRecord old = object("c", "o", "b1", 3);
  old.delete_at = static_cast<int64_t>(std::time(nullptr)) - 10;
  ASSERT_OK(store_->put_object(old, {}));
  ASSERT_OK(store_->put_object(object("c", "o", "b2", 5), {.if_none_match = true}));
  EXPECT_EQ(store_->get_object(kAccount, "c", "o")->blob_id, "b2");
  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.object_count, 1u);
  EXPECT_EQ(c.bytes_used, 5u);
}

TEST_P(ObjectStoreContract, BlobSharedIsConflictWhenNoRowRefersToTheBlob) {
  ASSERT_OK(store_->create_container(container("c")));
  EXPECT_CODE(store_->put_object(object("c", "copy", "gone", 3), {.blob_shared = true}),
              ErrorCode::kConflict);
  EXPECT_CODE(store_->get_object(kAccount, "c", "copy"), ErrorCode::kNotFound);
  EXPECT_EQ(get_container("c").object_count, 0u);
}

TEST_P(ObjectStoreContract, BlobSharedSucceedsWhileTheReplacedRowStillRefersToTheBlob) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->put_object(object("c", "o", "b1", 3), {}));
  // A COPY of an object onto itself (e.g. to change its metadata).
  auto put = store_->put_object(object("c", "o", "b1", 3), {.blob_shared = true});
  ASSERT_OK(put);
  EXPECT_TRUE(put->freed_blobs.empty());
  EXPECT_TRUE(*store_->blob_referenced("b1"));
}

TEST_P(ObjectStoreContract, UpdateObjectReplacesMetaContentTypeAndDeleteAtOnly) {
  ASSERT_OK(store_->create_container(container("c")));
  ObjectRecord o = object("c", "o", "b1", 3);
  o.meta = {{"x-object-meta-a", "1"}};
  ASSERT_OK(store_->put_object(o, {}));
  ASSERT_OK(store_->update_object(kAccount, "c", "o", {{"x-object-meta-b", "2"}}, "text/plain",
                                  1900000000));
  auto got = store_->get_object(kAccount, "c", "o");
  ASSERT_OK(got);
  EXPECT_EQ(got->meta, (Metadata{{"x-object-meta-b", "2"}}));
  EXPECT_EQ(got->content_type, "text/plain");
  EXPECT_EQ(got->delete_at, 1900000000);
  EXPECT_EQ(got->blob_id, "b1");
  EXPECT_EQ(got->size, 3u);
  EXPECT_EQ(got->etag, o.etag);
  EXPECT_EQ(got->timestamp_us, o.timestamp_us);
  EXPECT_CODE(store_->update_object(kAccount, "c", "nope", {}, "", 0), ErrorCode::kNotFound);
}

TEST_P(ObjectStoreContract, DeleteOnlyIfDeleteAtRemovesOnlyTheScheduledVersion) {
  ASSERT_OK(store_->create_container(container("c")));
  ObjectRecord o = object("c", "o", "b1", 3);
  o.delete_at = 1000;
  ASSERT_OK(store_->put_object(o, {}));
  // Re-PUT since the reaper listed it: a new expiry.
  o.delete_at = 2000;
  o.blob_id = "b2";
  ASSERT_OK(store_->put_object(o, {}));
  EXPECT_CODE(store_->delete_object(kAccount, "c", "o", 1000), ErrorCode::kPreconditionFailed);
  EXPECT_EQ(store_->get_object(kAccount, "c", "o")->blob_id, "b2");
  EXPECT_EQ(get_container("c").object_count, 1u);
  auto del = store_->delete_object(kAccount, "c", "o", 2000);
  ASSERT_OK(del);
  EXPECT_EQ(del->freed_blobs, std::vector<std::string>{"b2"});
  EXPECT_CODE(store_->delete_object(kAccount, "c", "o", 2000), ErrorCode::kNotFound);
}

TEST_P(ObjectStoreContract, ListExpiredReturnsDueRowsOldestFirstUpToTheLimit) {
  ASSERT_OK(store_->create_container(container("c")));
  auto put = [&](const std::string& name, int64_t delete_at) {
    ObjectRecord o = object("c", name);
    o.delete_at = delete_at;
    return store_->put_object(o, {});
  };
  ASSERT_OK(put("never", 0));
  ASSERT_OK(put("late", 300));
  ASSERT_OK(put("early-b", 100));
  ASSERT_OK(put("early-a", 100));
  ASSERT_OK(put("middle", 200));
  ASSERT_OK(put("future", 5000));

  auto names = [](const std::vector<ObjectRecord>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.name);
    return out;
  };
  auto due = store_->list_expired(300, 100);
  ASSERT_OK(due);
  EXPECT_EQ(names(*due), (std::vector<std::string>{"early-a", "early-b", "middle", "late"}));
  EXPECT_EQ((*due)[0].delete_at, 100);
  auto two = store_->list_expired(300, 2);
  ASSERT_OK(two);
  EXPECT_EQ(names(*two), (std::vector<std::string>{"early-a", "early-b"}));
  EXPECT_TRUE(store_->list_expired(99, 100)->empty());

  // POST clears or moves the expiry.
  ASSERT_OK(store_->update_object(kAccount, "c", "early-a", {}, "", 0));
  ASSERT_OK(store_->update_object(kAccount, "c", "middle", {}, "", 4000));
  EXPECT_EQ(names(*store_->list_expired(300, 100)), (std::vector<std::string>{"early-b", "late"}));
}

TEST_P(ObjectStoreContract, BlobReferencedAndRowsForBlobFollowTheRows) {
  ASSERT_OK(store_->create_container(container("c")));
  EXPECT_FALSE(*store_->blob_referenced("b1"));
  EXPECT_FALSE(*store_->blob_referenced(""));
  ASSERT_OK(store_->put_object(object("c", "y", "b1", 3), {}));
  ASSERT_OK(store_->put_object(object("c", "x", "b1", 3), {.blob_shared = true}));
  ASSERT_OK(store_->put_object(object("c", "empty", "", 0), {}));
  EXPECT_TRUE(*store_->blob_referenced("b1"));
  EXPECT_FALSE(*store_->blob_referenced(""));

  auto one = store_->rows_for_blob("b1");
  ASSERT_OK(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].blob_id, "b1");
  auto all = store_->rows_for_blob("b1", 10);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_TRUE(store_->rows_for_blob("", 10)->empty());
  EXPECT_TRUE(store_->rows_for_blob("b9", 10)->empty());
}

// ---- listings ----

// One listing case: the query and the expected page, subdirs as "dir:...".
struct ListCase {
  std::string label;
  ListQuery query;
  std::vector<std::string> expected;
};

// Object names in byte order; they include the delimiter at several depths,
// at position 0, at the end ("a/", "a/b/": Swift's pseudo-directory marker
// objects), just before the delimiter's successor ("a/b0"), and multibyte
// UTF-8 (2, 3 and 4 bytes) which sorts after ASCII.
const std::vector<std::string> kNames = {"/lead",   "a",         "a/",      "a/b", "a/b/", "a/b/c",
                                         "a/b/d/e", "a/b0",      "a/c",     "a0",  "b",    "b/x",
                                         "café",    "café/menu", "d/e/f/g", "€",   "€/x",  "😀"};

// Expected pages follow Swift's container server (swift/container/backend.py
// list_objects_iter) and the API reference ("Page through large lists",
// "Pseudo-hierarchical folders and directories"): markers are exclusive,
// reverse swaps which bound each marker sets, a subdir equal to the start
// marker is not repeated. For `path`, this store lists the direct children
// in both directions alike (see list_page in object_store_sqlite.cc for how
// that differs from Swift's strict-bound seek).
const ListCase kObjectCases[] = {
    {"everything in byte order", {}, kNames},
    {"limit stops the page", {.limit = 3}, {"/lead", "a", "a/"}},
    {"limit zero is empty", {.limit = 0}, {}},
    {"marker is exclusive",
     {.marker = "a/b0"},
     {"a/c", "a0", "b", "b/x", "café", "café/menu", "d/e/f/g", "€", "€/x", "😀"}},
    {"marker between names",
     {.marker = "a/bz"},
     {"a/c", "a0", "b", "b/x", "café", "café/menu", "d/e/f/g", "€", "€/x", "😀"}},
    {"marker past every name is empty", {.marker = "😀"}, {}},
    {"end_marker is exclusive", {.end_marker = "a/b/c"}, {"/lead", "a", "a/", "a/b", "a/b/"}},
    {"marker and end_marker",
     {.marker = "a", .end_marker = "a/c"},
     {"a/", "a/b", "a/b/", "a/b/c", "a/b/d/e", "a/b0"}},
    {"marker past end_marker is empty", {.marker = "b", .end_marker = "a"}, {}},
    {"prefix", {.prefix = "a/b"}, {"a/b", "a/b/", "a/b/c", "a/b/d/e", "a/b0"}},
    {"multibyte prefix", {.prefix = "€"}, {"€", "€/x"}},
    {"prefix ending inside a multibyte character", {.prefix = "caf\xc3"}, {"café", "café/menu"}},
    {"prefix with a marker before it",
     {.prefix = "a/", .marker = "0"},
     {"a/", "a/b", "a/b/", "a/b/c", "a/b/d/e", "a/b0", "a/c"}},
    {"prefix with a marker inside it",
     {.prefix = "a/", .marker = "a/b/c"},
     {"a/b/d/e", "a/b0", "a/c"}},
    {"prefix with an end_marker past it",
     {.prefix = "a/", .end_marker = "z"},
     {"a/", "a/b", "a/b/", "a/b/c", "a/b/d/e", "a/b0", "a/c"}},
    {"prefix with an end_marker inside it",
     {.prefix = "a/", .end_marker = "a/b0"},
     {"a/", "a/b", "a/b/", "a/b/c", "a/b/d/e"}},
    {"prefix matching nothing", {.prefix = "zz"}, {}},
    {"delimiter rolls up at the first level",
     {.delimiter = "/"},
     {"dir:/", "a", "dir:a/", "a0", "b", "dir:b/", "café", "dir:café/", "dir:d/", "€", "dir:€/",
      "😀"}},
    {"delimiter with limit counts subdirs",
     {.delimiter = "/", .limit = 4},
     {"dir:/", "a", "dir:a/", "a0"}},
    {"delimiter with prefix",
     {.prefix = "a/", .delimiter = "/"},
     {"a/", "a/b", "dir:a/b/", "a/b0", "a/c"}},
    {"delimiter with a deeper prefix",
     {.prefix = "a/b/", .delimiter = "/"},
     {"a/b/", "a/b/c", "dir:a/b/d/"}},
    {"delimiter with a prefix not ending in it",
     {.prefix = "a/b", .delimiter = "/"},
     {"a/b", "dir:a/b/", "a/b0"}},
    {"delimiter with the marker at a subdir does not repeat it",
     {.prefix = "a/", .marker = "a/b/", .delimiter = "/"},
     {"a/b0", "a/c"}},
    {"delimiter with the marker inside a subdir lists it again",
     {.prefix = "a/", .marker = "a/b/c", .delimiter = "/"},
     {"dir:a/b/", "a/b0", "a/c"}},
    {"delimiter with the end_marker inside a subdir",
     {.end_marker = "a/b", .delimiter = "/"},
     {"dir:/", "a", "dir:a/"}},
    {"another delimiter",
     {.delimiter = "b"},
     {"/lead", "a", "a/", "dir:a/b", "a/c", "a0", "dir:b", "café", "café/menu", "d/e/f/g", "€",
      "€/x", "😀"}},
    {"reverse",
     {.reverse = true},
     {"😀", "€/x", "€", "d/e/f/g", "café/menu", "café", "b/x", "b", "a0", "a/c", "a/b0", "a/b/d/e",
      "a/b/c", "a/b/", "a/b", "a/", "a", "/lead"}},
    {"reverse with limit", {.limit = 3, .reverse = true}, {"😀", "€/x", "€"}},
    {"reverse makes the marker an upper bound",
     {.marker = "a/b0", .reverse = true},
     {"a/b/d/e", "a/b/c", "a/b/", "a/b", "a/", "a", "/lead"}},
    {"reverse makes the end_marker a lower bound",
     {.end_marker = "b", .reverse = true},
     {"😀", "€/x", "€", "d/e/f/g", "café/menu", "café", "b/x"}},
    {"reverse with both markers",
     {.marker = "b/x", .end_marker = "a/b", .reverse = true},
     {"b", "a0", "a/c", "a/b0", "a/b/d/e", "a/b/c", "a/b/"}},
    {"reverse with prefix",
     {.prefix = "a/", .reverse = true},
     {"a/c", "a/b0", "a/b/d/e", "a/b/c", "a/b/", "a/b", "a/"}},
    {"reverse with delimiter",
     {.delimiter = "/", .reverse = true},
     {"😀", "dir:€/", "€", "dir:d/", "dir:café/", "café", "dir:b/", "b", "a0", "dir:a/", "a",
      "dir:/"}},
    {"reverse with prefix and delimiter",
     {.prefix = "a/", .delimiter = "/", .reverse = true},
     {"a/c", "a/b0", "dir:a/b/", "a/b", "a/"}},
    {"reverse with the end_marker at a subdir does not list it",
     {.end_marker = "a/", .delimiter = "/", .reverse = true},
     {"😀", "dir:€/", "€", "dir:d/", "dir:café/", "café", "dir:b/", "b", "a0"}},
    {"reverse with delimiter and limit",
     {.marker = "b", .delimiter = "/", .limit = 2, .reverse = true},
     {"a0", "dir:a/"}},
    {"path lists direct children", {.path = "a"}, {"a/b", "a/b/", "a/b0", "a/c"}},
    {"path with a trailing slash", {.path = "a/"}, {"a/b", "a/b/", "a/b0", "a/c"}},
    {"path one level deeper", {.path = "a/b"}, {"a/b/c"}},
    {"empty path lists names without a slash but at the end",
     {.path = ""},
     {"a", "a/", "a0", "b", "café", "€", "😀"}},
    {"path overrides prefix and delimiter",
     {.prefix = "zz", .delimiter = "b", .path = "a"},
     {"a/b", "a/b/", "a/b0", "a/c"}},
    {"path with a marker", {.marker = "a/b", .path = "a"}, {"a/b/", "a/b0", "a/c"}},
    {"path in reverse", {.path = "a", .reverse = true}, {"a/c", "a/b0", "a/b/", "a/b"}},
    {"multibyte path", {.path = "café"}, {"café/menu"}},
};

TEST_P(ObjectStoreContract, ObjectListingsFollowSwiftsSemantics) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->create_container(container("other")));
  for (const std::string& name : kNames) ASSERT_OK(store_->put_object(object("c", name), {}));
  // Rows of another container never leak into a page.
  ASSERT_OK(store_->put_object(object("other", "a/zzz"), {}));
  for (const ListCase& tc : kObjectCases) {
    EXPECT_EQ(list_objects(tc.query), tc.expected) << tc.label;
  }
}

TEST_P(ObjectStoreContract, ListingAnUnknownContainerIsNotFound) {
  EXPECT_CODE(store_->list_objects(kAccount, "nope", {}), ErrorCode::kNotFound);
  size_t visited = 0;
  EXPECT_CODE(store_->scan_objects(kAccount, "nope", {}, [&](const ObjectListRow&) { ++visited; }),
              ErrorCode::kNotFound);
  EXPECT_EQ(visited, 0u);
}

TEST_P(ObjectStoreContract, ListedObjectsCarryTheirRows) {
  ASSERT_OK(store_->create_container(container("c")));
  ObjectRecord o = object("c", "o", "b1", 42);
  o.meta = {{"x-object-meta-a", "1"}};
  ASSERT_OK(store_->put_object(o, {}));
  auto page = store_->list_objects(kAccount, "c", {});
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 1u);
  const ObjectListEntry& e = (*page)[0];
  EXPECT_TRUE(e.subdir.empty());
  EXPECT_EQ(e.object.size, 42u);
  EXPECT_EQ(e.object.etag, o.etag);
  EXPECT_EQ(e.object.content_type, o.content_type);
  EXPECT_EQ(e.object.timestamp_us, o.timestamp_us);
  EXPECT_EQ(e.object.meta, o.meta);

  // The streamed row: the listed fields, and a symlink's target from the
  // metadata.
  ObjectRecord link = object("c", "p", "", 0);
  link.meta = {{"x-symlink-target", "c2/t"}, {"x-symlink-target-account", "AUTH_x"}};
  ASSERT_OK(store_->put_object(link, {}));
  std::vector<ObjectListRow> rows;
  ASSERT_OK(store_->scan_objects(kAccount, "c", {},
                                 [&](const ObjectListRow& row) { rows.push_back(row); }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "o");
  EXPECT_EQ(rows[0].size, 42u);
  EXPECT_EQ(rows[0].etag, o.etag);
  EXPECT_EQ(rows[0].content_type, o.content_type);
  EXPECT_EQ(rows[0].timestamp_us, o.timestamp_us);
  EXPECT_EQ(rows[0].symlink_target, "");
  EXPECT_EQ(rows[1].name, "p");
  EXPECT_EQ(rows[1].symlink_target, "c2/t");
  EXPECT_EQ(rows[1].symlink_account, "AUTH_x");
}

// Container names; listing semantics are the account server's
// (swift/account/backend.py list_containers_iter): the same as objects', no
// `path`.
const ListCase kContainerCases[] = {
    {"everything in byte order", {}, {"alpha", "beta", "logs-2023", "logs-2024", "photos", "€uro"}},
    {"limit", {.limit = 2}, {"alpha", "beta"}},
    {"marker", {.marker = "beta"}, {"logs-2023", "logs-2024", "photos", "€uro"}},
    {"end_marker", {.end_marker = "logs-2024"}, {"alpha", "beta", "logs-2023"}},
    {"prefix", {.prefix = "logs"}, {"logs-2023", "logs-2024"}},
    {"delimiter", {.delimiter = "-"}, {"alpha", "beta", "dir:logs-", "photos", "€uro"}},
    {"delimiter with prefix", {.prefix = "logs-", .delimiter = "-"}, {"logs-2023", "logs-2024"}},
    {"delimiter with the marker at a subdir",
     {.marker = "logs-", .delimiter = "-"},
     {"photos", "€uro"}},
    {"reverse", {.reverse = true}, {"€uro", "photos", "logs-2024", "logs-2023", "beta", "alpha"}},
    {"reverse with delimiter",
     {.delimiter = "-", .reverse = true},
     {"€uro", "photos", "dir:logs-", "beta", "alpha"}},
    {"reverse with both markers",
     {.marker = "photos", .end_marker = "alpha", .reverse = true},
     {"logs-2024", "logs-2023", "beta"}},
    {"path is ignored",
     {.path = "logs"},
     {"alpha", "beta", "logs-2023", "logs-2024", "photos", "€uro"}},
};

TEST_P(ObjectStoreContract, ContainerListingsFollowSwiftsSemantics) {
  for (const char* name : {"photos", "alpha", "logs-2024", "€uro", "beta", "logs-2023"}) {
    ASSERT_OK(store_->create_container(container(name)));
  }
  ContainerRecord elsewhere = container("aardvark");
  elsewhere.account = "AUTH_other";
  ASSERT_OK(store_->create_container(elsewhere));
  for (const ListCase& tc : kContainerCases) {
    EXPECT_EQ(list_containers(tc.query), tc.expected) << tc.label;
  }
}

TEST_P(ObjectStoreContract, HeldBytesCountInsteadOfTheSizeAndAreReadBack) {
  ASSERT_OK(store_->create_container(container("c")));
  ObjectRecord manifest = object("c", "m", "b1", 1000);
  manifest.held_bytes = 120;  // a large object counts its manifest
  ASSERT_OK(store_->put_object(manifest, {}));
  ObjectRecord linked = object("c", "v", "b2", 50);
  linked.held_bytes = 0;  // its data counts elsewhere
  ASSERT_OK(store_->put_object(linked, {}));
  ASSERT_OK(store_->put_object(object("c", "p", "b3", 7), {}));
  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.object_count, 3u);
  EXPECT_EQ(c.bytes_used, 127u);
  auto read = store_->get_object(kAccount, "c", "m");
  ASSERT_OK(read);
  EXPECT_EQ(read->size, 1000u);
  EXPECT_EQ(read->held_bytes, std::optional<uint64_t>(120));
  read = store_->get_object(kAccount, "c", "p");
  ASSERT_OK(read);
  EXPECT_FALSE(read->held_bytes);

  // Replacing a row takes back what the old one held, not its size.
  ASSERT_OK(store_->put_object(object("c", "m", "b4", 10), {}));
  c = get_container("c");
  EXPECT_EQ(c.bytes_used, 17u);
  ASSERT_OK(store_->put_object(object("c", "p", "b5", 7), {}));  // same size again
  ASSERT_OK(store_->delete_object(kAccount, "c", "v", std::nullopt));
  c = get_container("c");
  EXPECT_EQ(c.object_count, 2u);
  EXPECT_EQ(c.bytes_used, 17u);
}

TEST_P(ObjectStoreContract, ListedContainersCarryTheirCounters) {
  ASSERT_OK(store_->create_container(container("c", {{"x-container-meta-a", "1"}})));
  ASSERT_OK(store_->put_object(object("c", "o", "b1", 42), {}));
  auto page = store_->list_containers(kAccount, {});
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].container.object_count, 1u);
  EXPECT_EQ((*page)[0].container.bytes_used, 42u);
  EXPECT_EQ((*page)[0].container.put_us, 1000);
  EXPECT_EQ((*page)[0].container.meta, (Metadata{{"x-container-meta-a", "1"}}));
}

TEST_P(ObjectStoreContract, PagingWithTheLastNameAsMarkerVisitsEveryEntryOnce) {
  ASSERT_OK(store_->create_container(container("c")));
  for (const std::string& name : kNames) ASSERT_OK(store_->put_object(object("c", name), {}));
  for (bool reverse : {false, true}) {
    for (std::string delimiter : {"", "/"}) {
      ListQuery all{.delimiter = delimiter, .reverse = reverse};
      std::vector<std::string> whole = list_objects(all);
      std::vector<std::string> paged;
      ListQuery q{.delimiter = delimiter, .limit = 2, .reverse = reverse};
      for (int guard = 0; guard < 100; ++guard) {
        auto page = store_->list_objects(kAccount, "c", q);
        ASSERT_OK(page);
        if (page->empty()) break;
        for (const auto& e : *page) {
          paged.push_back(e.subdir.empty() ? e.object.name : "dir:" + e.subdir);
          q.marker = e.subdir.empty() ? e.object.name : e.subdir;
        }
      }
      EXPECT_EQ(paged, whole) << "reverse=" << reverse << " delimiter='" << delimiter << "'";
    }
  }
}

TEST_P(ObjectStoreContract, DelimiterRollUpCostsOLimitWhateverTheContainerSize) {
  ASSERT_OK(store_->create_container(container("big")));
  std::vector<std::string> names;
  for (int i = 0; i < 10000; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%05d", i);
    names.push_back(std::string("photos/") + buf);
    names.push_back(std::string("videos/") + buf);
  }
  put_many("big", names, 1);
  EXPECT_EQ(get_container("big").object_count, 20000u);

  sqlite::SqliteObjectStore* s = sqlite_store();
  pg::PgObjectStore* p = pg_store();
  const uint64_t before =
      s != nullptr ? s->listing_rows_read() : (p != nullptr ? p->listing_rows_read() : 0);
  EXPECT_EQ(list_objects({.delimiter = "/"}, "big"),
            (std::vector<std::string>{"dir:photos/", "dir:videos/"}));
  EXPECT_EQ(list_objects({.delimiter = "/", .reverse = true}, "big"),
            (std::vector<std::string>{"dir:videos/", "dir:photos/"}));
  EXPECT_EQ(list_objects({.prefix = "videos/", .delimiter = "/", .limit = 3}, "big"),
            (std::vector<std::string>{"videos/00000", "videos/00001", "videos/00002"}));
  EXPECT_EQ(list_objects({.marker = "photos/09998", .limit = 3}, "big"),
            (std::vector<std::string>{"photos/09999", "videos/00000", "videos/00001"}));
  if (s != nullptr) {
    // One row per subdir (each query stops at the roll-up and seeks past
    // it), one per listed object: 2 + 2 + 3 + 3, read twice (list_objects
    // lists each page, then scan_objects streams it).
    EXPECT_LE(s->listing_rows_read() - before, 2 * 10u);
  }
  if (p != nullptr) {
    // Rows fetched: a roll-up's query fetches one chunk (it cannot know the
    // roll-up is coming), so 2 + 2 chunks and 3 + 3 rows, twice.
    EXPECT_LE(p->listing_rows_read() - before, 2 * (4 * pg::PgObjectStore::kRollUpChunk + 6));
  }
}

// ---- group commit ----

TEST_P(ObjectStoreContract, ConcurrentPutsAllSucceedWithExactCountersAndShareCommits) {
  ASSERT_OK(store_->create_container(container("c")));
  constexpr int kThreads = 64;
  constexpr int kPerThread = 200;
  const std::optional<uint64_t> commits_before = commits();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = "t" + std::to_string(t) + "/o" + std::to_string(i);
        auto r =
            store_->put_object(object("c", name, "blob-" + name, static_cast<uint64_t>(i)), {});
        if (!r.ok() || r->previous.has_value()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);

  constexpr uint64_t kOps = uint64_t{kThreads} * kPerThread;
  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.object_count, kOps);
  EXPECT_EQ(c.bytes_used, uint64_t{kThreads} * (kPerThread * (kPerThread - 1) / 2));
  EXPECT_TRUE(*store_->blob_referenced("blob-t63/o199"));
  if (commits_before) {
    const uint64_t commits = *this->commits() - *commits_before;
    EXPECT_LE(commits, kOps);
    // With an fsync per commit, writers pile up behind each commit and the
    // next commit carries them all.
    if (GetParam().durable) {
      EXPECT_LT(commits, kOps / 4) << commits << " commits";
    }
  }
}

TEST_P(ObjectStoreContract, AFailingWriteInABatchFailsAloneAndChangesNothing) {
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->put_object(object("c", "taken", "b0", 1), {}));
  constexpr int kThreads = 64;
  constexpr int kPerThread = 50;
  // Each thread mixes writes that succeed with writes that must fail, so
  // batches carry both.
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        switch ((t + i) % 4) {
          case 0: {
            auto r = store_->put_object(object("missing", name, "x-" + name, 5), {});
            if (r.ok() || r.error().code != ErrorCode::kNotFound) ++wrong;
            break;
          }
          case 1: {
            auto r =
                store_->put_object(object("c", "taken", "y-" + name, 5), {.if_none_match = true});
            if (r.ok() || r.error().code != ErrorCode::kPreconditionFailed) ++wrong;
            break;
          }
          case 2: {
            auto r = store_->delete_object(kAccount, "c", "absent-" + name, std::nullopt);
            if (r.ok() || r.error().code != ErrorCode::kNotFound) ++wrong;
            break;
          }
          default: {
            auto r = store_->put_object(object("c", name, "z-" + name, 2), {});
            if (!r.ok()) ++wrong;
            break;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);

  const uint64_t successes = uint64_t{kThreads} * kPerThread / 4;
  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.object_count, 1 + successes);
  EXPECT_EQ(c.bytes_used, 1 + 2 * successes);
  EXPECT_EQ(store_->get_object(kAccount, "c", "taken")->blob_id, "b0");
  EXPECT_FALSE(*store_->blob_referenced("x-t0-0"));
  EXPECT_FALSE(*store_->blob_referenced("y-t0-1"));
  EXPECT_TRUE(*store_->blob_referenced("z-t0-3"));
}

TEST_P(ObjectStoreContract, AWriteWhoseStatementFailsInABatchFailsAloneAndChangesNothing) {
  auto* table = dynamic_cast<blob::SmallBlobTable*>(store_.get());
  ASSERT_NE(table, nullptr);
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(table->put_small_blob("dup", "first", 1));
  // Every fourth put stores its bytes under an id already stored: the
  // database refuses that statement, in batches with writes that succeed.
  constexpr int kThreads = 32;
  constexpr int kPerThread = 20;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        const bool dup = (t + i) % 4 == 0;
        const std::string bytes = "bytes of " + name;
        auto r = store_->put_object(object("c", name, dup ? "dup" : "sb-" + name, bytes.size()),
                                    {.blob_bytes = &bytes});
        if (r.ok() == dup) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const uint64_t successes = uint64_t{kThreads} * kPerThread * 3 / 4;
  EXPECT_EQ(get_container("c").object_count, successes);
  EXPECT_EQ(**table->get_small_blob("dup"), "first");
  EXPECT_FALSE(*store_->blob_referenced("dup"));
  EXPECT_CODE(store_->get_object(kAccount, "c", "t0-0"), ErrorCode::kNotFound);
  auto stored = table->get_small_blob("sb-t0-1");
  ASSERT_OK(stored);
  ASSERT_NE(*stored, nullptr);
  EXPECT_EQ(**stored, "bytes of t0-1");
}

// ---- container sync ----

TEST_P(ObjectStoreContract, ListSyncContainersListsOnlyContainersWithSyncToInOrderAndPages) {
  ASSERT_OK(store_->create_container(container("plain")));
  ASSERT_OK(store_->create_container(container("b", {{"x-container-sync-to", "//r/c/a/x"}})));
  ASSERT_OK(store_->create_container(
      container("a", {{"x-container-sync-to", "//r/c/a/y"}, {"x-container-sync-key", "k"}})));
  ASSERT_OK(store_->create_container(container("keyonly", {{"x-container-sync-key", "k"}})));

  auto all = store_->list_sync_containers("", "", 10);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "a");
  EXPECT_EQ((*all)[0].meta.at("x-container-sync-key"), "k");
  EXPECT_EQ((*all)[1].name, "b");

  auto page = store_->list_sync_containers(kAccount, "a", 10);
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].name, "b");
  auto one = store_->list_sync_containers("", "", 1);
  ASSERT_OK(one);
  EXPECT_EQ(one->size(), 1u);

  // Removing the setting takes the container off the list.
  ASSERT_OK(
      store_->update_container_meta(kAccount, "b", {{"x-container-sync-to", ""}}, std::nullopt));
  auto after = store_->list_sync_containers("", "", 10);
  ASSERT_OK(after);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].name, "a");
}

// ---- leases ----

TEST_P(ObjectStoreContract, TheHolderGetsALeaseAndRenewsIt) {
  auto first = store_->acquire_lease("object-expirer", "node-a", std::chrono::seconds(60));
  ASSERT_OK(first);
  EXPECT_TRUE(*first);
  auto renewed = store_->acquire_lease("object-expirer", "node-a", std::chrono::seconds(60));
  ASSERT_OK(renewed);
  EXPECT_TRUE(*renewed);
}

TEST_P(ObjectStoreContract, ALeaseIsExclusiveWhileLiveRenewableAndFreeOnceItLapses) {
  if (!GetParam().shared) GTEST_SKIP() << "a store one process owns grants every lease";
  auto other = GetParam().open(scratch_);  // a second node on the same database
  ASSERT_NE(other, nullptr);
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  auto take = [](ObjectStore& s, const std::string& name, const std::string& holder, seconds ttl) {
    auto r = s.acquire_lease(name, holder, ttl);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() && *r;
  };
  EXPECT_TRUE(take(*store_, "auditor", "node-a", seconds(1)));
  EXPECT_FALSE(take(*other, "auditor", "node-b", seconds(60)));
  // The holder's name decides, not the store it asks through.
  EXPECT_FALSE(take(*store_, "auditor", "node-b", seconds(60)));
  EXPECT_TRUE(take(*other, "auditor", "node-a", seconds(1)));
  // Leases are independent of each other.
  EXPECT_TRUE(take(*other, "container-sync", "node-b", seconds(60)));
  EXPECT_FALSE(take(*store_, "container-sync", "node-a", seconds(60)));

  // The waits below are real: a lease lapses by the database's clock
  // (PostgreSQL's now(), the one clock every node shares), which no
  // process-side FakeClock can move.
  // Renewed after 0.7 s for 1 s more, the lease outlives its first second.
  std::this_thread::sleep_for(milliseconds(700));
  EXPECT_TRUE(take(*store_, "auditor", "node-a", seconds(1)));
  std::this_thread::sleep_for(milliseconds(700));
  EXPECT_FALSE(take(*other, "auditor", "node-b", seconds(60)));

  // Lapsed, it goes to whoever asks first, and its old holder is refused.
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_TRUE(take(*other, "auditor", "node-b", seconds(60)));
  EXPECT_FALSE(take(*store_, "auditor", "node-a", seconds(60)));
}

TEST_P(ObjectStoreContract, OfManyNodesRacingForAFreeLeaseExactlyOneGetsIt) {
  if (!GetParam().shared) GTEST_SKIP() << "a store one process owns grants every lease";
  auto other = GetParam().open(scratch_);
  ASSERT_NE(other, nullptr);
  constexpr int kPerNode = 16;
  std::atomic<int> granted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 2; ++n) {
    ObjectStore* node = n == 0 ? store_.get() : other.get();
    for (int t = 0; t < kPerNode; ++t) {
      threads.emplace_back([&, node, n, t] {
        auto r = node->acquire_lease("race", "holder-" + std::to_string(n * kPerNode + t),
                                     std::chrono::seconds(60));
        if (!r.ok()) {
          ++errors;
        } else if (*r) {
          ++granted;
        }
      });
    }
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(granted.load(), 1);
}

// ---- several nodes ----

TEST_P(ObjectStoreContract, TwoNodesSeeEachOthersWritesAndKeepCountersAndBlobsExact) {
  if (!GetParam().shared) GTEST_SKIP() << "one process owns this store";
  auto other = GetParam().open(scratch_);
  ASSERT_NE(other, nullptr);
  ASSERT_OK(store_->create_container(container("c", {{"x-container-meta-a", "1"}})));
  auto seen = other->get_container(kAccount, "c");
  ASSERT_OK(seen);
  EXPECT_EQ(seen->meta.at("x-container-meta-a"), "1");
  ASSERT_OK(other->put_object(object("c", "from-b", "blob-b", 7), {}));
  auto o = store_->get_object(kAccount, "c", "from-b");
  ASSERT_OK(o);
  EXPECT_EQ(o->blob_id, "blob-b");
  EXPECT_EQ(list_objects({}), (std::vector<std::string>{"from-b"}));
  auto gone = store_->delete_object(kAccount, "c", "from-b", std::nullopt);
  ASSERT_OK(gone);
  EXPECT_EQ(gone->freed_blobs, (std::vector<std::string>{"blob-b"}));
  EXPECT_CODE(other->get_object(kAccount, "c", "from-b"), ErrorCode::kNotFound);

  // Both nodes write one container at once: names of their own, and shared
  // names that every thread overwrites, each put with a blob of its own.
  constexpr int kThreadsPerNode = 8;
  constexpr int kOwn = 40;
  constexpr int kShared = 30;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::multiset<std::string> freed;  // guarded by mu
  std::vector<std::thread> threads;
  for (int n = 0; n < 2; ++n) {
    ObjectStore* node = n == 0 ? store_.get() : other.get();
    for (int t = 0; t < kThreadsPerNode; ++t) {
      threads.emplace_back([&, node, n, t] {
        const std::string me = "n" + std::to_string(n) + "t" + std::to_string(t);
        for (int i = 0; i < kOwn + kShared; ++i) {
          const bool shared = i >= kOwn;
          const std::string name =
              shared ? "shared/" + std::to_string(i - kOwn) : me + "/" + std::to_string(i);
          const uint64_t size = shared ? static_cast<uint64_t>(i - kOwn) : 3;
          auto r =
              node->put_object(object("c", name, "blob-" + me + "-" + std::to_string(i), size), {});
          if (!r.ok()) {
            ++failures;
            continue;
          }
          std::lock_guard<std::mutex> lock(mu);
          freed.insert(r->freed_blobs.begin(), r->freed_blobs.end());
        }
      });
    }
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  constexpr uint64_t kOwnRows = 2 * kThreadsPerNode * kOwn;
  constexpr uint64_t kSharedBytes = kShared * (kShared - 1) / 2;
  for (ObjectStore* node : {store_.get(), other.get()}) {
    auto c = node->get_container(kAccount, "c");
    ASSERT_OK(c);
    EXPECT_EQ(c->object_count, kOwnRows + kShared);
    EXPECT_EQ(c->bytes_used, 3 * kOwnRows + kSharedBytes);
  }
  // Every overwrite freed the blob it replaced, and no blob was freed twice.
  EXPECT_EQ(freed.size(), size_t{2 * kThreadsPerNode * kShared - kShared});
  EXPECT_EQ(std::set<std::string>(freed.begin(), freed.end()).size(), freed.size());

  // Both nodes delete the shared names at once: each goes exactly once.
  std::atomic<int> deleted{0};
  std::atomic<int> wrong{0};
  threads.clear();
  for (int n = 0; n < 2; ++n) {
    ObjectStore* node = n == 0 ? store_.get() : other.get();
    for (int t = 0; t < kThreadsPerNode; ++t) {
      threads.emplace_back([&, node] {
        for (int i = 0; i < kShared; ++i) {
          auto r = node->delete_object(kAccount, "c", "shared/" + std::to_string(i), std::nullopt);
          if (r.ok() && r->freed_blobs.size() == 1) {
            ++deleted;
          } else if (r.ok() || r.error().code != ErrorCode::kNotFound) {
            ++wrong;
          }
        }
      });
    }
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(deleted.load(), kShared);
  auto a = other->get_account(kAccount);
  ASSERT_OK(a);
  EXPECT_EQ(a->object_count, kOwnRows);
  EXPECT_EQ(a->bytes_used, 3 * kOwnRows);
}

TEST_P(ObjectStoreContract, ABatchWhoseConnectionIsLostFailsWhollyAndTheStoreRecovers) {
  pg::PgObjectStore* p = pg_store();
  if (p == nullptr) GTEST_SKIP() << "only a store on a database server loses connections";
  ASSERT_OK(store_->create_container(container("c")));
  ASSERT_OK(store_->create_container(container("d")));
  ASSERT_OK(store_->put_object(object("c", "before", "b1", 5), {}));

  // Another session holds container c's row, so a write to c waits inside
  // its batch's transaction until that session's connection is cut.
  auto admin = pg::Connection::open(test_pg());
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  pg::Connection& a = **admin;
  ASSERT_OK(a.exec("BEGIN"));
  ASSERT_OK(a.exec("SELECT 1 FROM " + scratch_.schema + ".containers WHERE name = 'c' FOR UPDATE"));
  pg::Params app;
  app.add(scratch_.schema);
  // Cuts the store's connection that waits for the lock, from a session
  // outside any transaction (one inside sees a frozen pg_stat_activity).
  auto killer = pg::Connection::open(test_pg());
  ASSERT_TRUE(killer.ok()) << killer.error().message;
  auto cut_waiter = [&] {
    for (int i = 0; i < 200; ++i) {
      auto cut = (*killer)->query(
          "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
          "WHERE application_name = $1 AND wait_event_type = 'Lock'",
          app);
      if (!cut.ok()) {
        ADD_FAILURE() << cut.error().message;
        return;
      }
      if (!cut->empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no write waited for the lock";
  };
  auto wait_for_ops = [&](uint64_t n) {
    for (int i = 0; i < 500 && p->write_ops() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  const uint64_t ops = p->write_ops();
  std::optional<Status> first;
  std::optional<Status> second;
  std::optional<Status> third;
  // The first write leads a batch of its own and waits for the lock; the
  // next two queue behind it and become one batch: a write to d, then
  // one to c that waits again.
  std::thread t1([&] {
    auto r = store_->put_object(object("c", "x0", "b2", 7), {});
    first = r.ok() ? ok_status() : Status(r.error());
  });
  wait_for_ops(ops + 1);
  std::thread t2([&] {
    auto r = store_->put_object(object("d", "y", "b3", 11), {});
    second = r.ok() ? ok_status() : Status(r.error());
  });
  wait_for_ops(ops + 2);
  std::thread t3([&] {
    auto r = store_->put_object(object("c", "z", "b4", 13), {});
    third = r.ok() ? ok_status() : Status(r.error());
  });
  wait_for_ops(ops + 3);
  cut_waiter();
  t1.join();
  cut_waiter();
  t2.join();
  t3.join();
  ASSERT_OK(a.exec("ROLLBACK"));
  for (const auto* st : {&first, &second, &third}) {
    ASSERT_TRUE(st->has_value());
    ASSERT_FALSE((*st)->ok()) << "a write on a cut connection succeeded";
    EXPECT_EQ((*st)->error().code, ErrorCode::kUnavailable) << (*st)->error().message;
  }

  // Nothing of either batch is visible, and the store works on.
  EXPECT_CODE(store_->get_object(kAccount, "d", "y"), ErrorCode::kNotFound);
  EXPECT_CODE(store_->get_object(kAccount, "c", "x0"), ErrorCode::kNotFound);
  EXPECT_CODE(store_->get_object(kAccount, "c", "z"), ErrorCode::kNotFound);
  EXPECT_FALSE(*store_->blob_referenced("b3"));
  EXPECT_EQ(get_container("d").object_count, 0u);
  ASSERT_OK(store_->put_object(object("c", "after", "b5", 11), {}));
  ContainerRecord c = get_container("c");
  EXPECT_EQ(c.object_count, 2u);
  EXPECT_EQ(c.bytes_used, 16u);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ObjectStoreContract, ::testing::ValuesIn(kBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

// ---- SQLite specifics ----

std::unique_ptr<sqlite::SqliteObjectStore> open_sqlite(const std::string& path) {
  auto s = sqlite::SqliteObjectStore::open(path);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(SqliteObjectStore, EverythingSurvivesReopening) {
  TempDir dir;
  const std::string path = dir.file("objects.db");
  {
    auto store = open_sqlite(path);
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->update_account_meta(kAccount, {{"x-account-meta-a", "1"}}, 10));
    ASSERT_OK(store->create_container(container("c", {{"x-container-meta-b", "2"}})));
    ObjectRecord o = object("c", "café", "b1", 5);
    o.delete_at = 77;
    ASSERT_OK(store->put_object(o, {}));
  }
  auto store = open_sqlite(path);
  ASSERT_NE(store, nullptr);
  auto a = store->get_account(kAccount);
  ASSERT_OK(a);
  EXPECT_EQ(a->meta, (Metadata{{"x-account-meta-a", "1"}}));
  EXPECT_EQ(a->object_count, 1u);
  EXPECT_EQ(a->bytes_used, 5u);
  auto c = store->get_container(kAccount, "c");
  ASSERT_OK(c);
  EXPECT_EQ(c->meta, (Metadata{{"x-container-meta-b", "2"}}));
  auto o = store->get_object(kAccount, "c", "café");
  ASSERT_OK(o);
  EXPECT_EQ(o->blob_id, "b1");
  EXPECT_EQ(store->list_expired(100, 10)->size(), 1u);
  EXPECT_EQ(*sqlite::schema_version(store->database()),
            static_cast<int>(sqlite::object_migrations().size()));
}

TEST(SqliteObjectStore, OneWriterAloneCommitsOncePerWrite) {
  auto store = open_sqlite(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->create_container(container("c")));
  ASSERT_OK(store->put_object(object("c", "o"), {}));
  EXPECT_CODE(store->put_object(object("nope", "o"), {}), ErrorCode::kNotFound);
  EXPECT_EQ(store->write_ops(), 3u);
  EXPECT_EQ(store->commits(), 3u);
}

// Prints put_object throughput into a fresh container of `store` for one
// writer and for 64 concurrent writers, with the commits each took.
void put_throughput(ObjectStore& store, const std::function<uint64_t()>& commits) {
  ASSERT_OK(store.create_container(container("c")));
  auto run = [&](int threads, int per_thread, const std::string& tag) {
    const uint64_t commits_before = commits();
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          std::string name = tag + std::to_string(t) + "/" + std::to_string(i);
          (void)store.put_object(object("c", name, "blob-" + name, 1024), {});
        }
      });
    }
    for (auto& th : pool) th.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int ops = threads * per_thread;
    std::printf("%2d thread(s): %6d puts in %.2fs = %8.0f puts/s, %llu commits\n", threads, ops,
                secs, ops / secs, static_cast<unsigned long long>(commits() - commits_before));
  };
  run(1, 500, "single");
  run(64, 200, "multi");
}

// Not a test: prints put_object throughput on a file database. Run with
//   object_store_test --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'
TEST(SqliteObjectStoreBenchmark, DISABLED_PutThroughputOneThreadVersus64) {
  TempDir dir;
  auto store = open_sqlite(dir.file("objects.db"));
  ASSERT_NE(store, nullptr);
  put_throughput(*store, [&] { return store->commits(); });
}

// The same on PostgreSQL (ONESTACK_TEST_PG), in a schema of its own.
TEST(PgObjectStoreBenchmark, DISABLED_PutThroughputOneThreadVersus64) {
  if (test_pg().empty()) GTEST_SKIP() << "ONESTACK_TEST_PG is not set";
  Scratch scratch;
  auto store = open_pg(scratch);
  ASSERT_NE(store, nullptr);
  auto* pg_store = dynamic_cast<pg::PgObjectStore*>(store.get());
  put_throughput(*store, [&] { return pg_store->commits(); });
}

}  // namespace
}  // namespace onestack::store
