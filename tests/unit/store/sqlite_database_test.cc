#include "store/sqlite/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "temp_dir.h"

namespace onestack::store::sqlite {
namespace {

using onestack::store::testing::TempDir;

std::unique_ptr<Database> open_or_die(const std::string& path, Options options = {}) {
  auto db = Database::open(path, options);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
  return db.ok() ? std::move(*db) : nullptr;
}

// Reads one integer with `sql` on a connection of `db`.
int64_t query_int(Database& db, const std::string& sql, bool on_writer = false) {
  int64_t out = -1;
  auto body = [&](Connection& conn) -> Status {
    auto stmt = conn.prepare(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    if (*row) out = stmt->int64(0);
    return ok_status();
  };
  Status st = on_writer ? db.write(body) : db.read(body);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return out;
}

std::string query_text(Database& db, const std::string& sql) {
  std::string out;
  Status st = db.write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    if (*row) out = stmt->text(0);
    return ok_status();
  });
  EXPECT_TRUE(st.ok());
  return out;
}

TEST(SqliteDatabase, OpensAFileInWalModeWithFullSyncAndForeignKeys) {
  TempDir dir;
  auto db = open_or_die(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(query_text(*db, "PRAGMA journal_mode"), "wal");
  // 2 = FULL, on both the writer and the reader connections.
  EXPECT_EQ(query_int(*db, "PRAGMA synchronous", /*on_writer=*/true), 2);
  EXPECT_EQ(query_int(*db, "PRAGMA synchronous"), 2);
  EXPECT_EQ(query_int(*db, "PRAGMA foreign_keys", /*on_writer=*/true), 1);
  EXPECT_EQ(query_int(*db, "PRAGMA foreign_keys"), 1);
}

TEST(SqliteDatabase, OpeningAPathInAMissingDirectoryIsAnError) {
  TempDir dir;
  auto db = Database::open(dir.file("missing/sub/a.db"));
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kInternal);
}

TEST(SqliteDatabase, BindsAndReadsEveryValueType) {
  auto db = open_or_die(":memory:");
  ASSERT_NE(db, nullptr);
  Status st = db->write([](Connection& conn) -> Status {
    ONESTACK_TRY(conn.exec("CREATE TABLE t (s TEXT, i INTEGER, r REAL, n TEXT)"));
    auto ins = conn.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
    if (!ins.ok()) return std::move(ins).error();
    ins->bind(1, std::string("a\0b", 3)).bind(2, int64_t{1} << 40).bind(3, 2.5).bind_null(4);
    ONESTACK_TRY(ins->run());
    auto sel = conn.prepare("SELECT s, i, r, n FROM t");
    if (!sel.ok()) return std::move(sel).error();
    auto row = sel->step();
    if (!row.ok()) return std::move(row).error();
    EXPECT_TRUE(*row);
    EXPECT_EQ(sel->text(0), std::string("a\0b", 3));
    EXPECT_EQ(sel->int64(1), int64_t{1} << 40);
    EXPECT_DOUBLE_EQ(sel->real(2), 2.5);
    EXPECT_TRUE(sel->is_null(3));
    EXPECT_EQ(sel->text(3), "");
    EXPECT_FALSE(sel->is_null(0));
    auto done = sel->step();
    EXPECT_TRUE(done.ok() && !*done);
    return ok_status();
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
}

TEST(SqliteDatabase, ABadBindIndexIsReportedByStep) {
  auto db = open_or_die(":memory:");
  ASSERT_NE(db, nullptr);
  Status st = db->write([](Connection& conn) -> Status {
    auto stmt = conn.prepare("SELECT ?1");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(7, "x");
    return stmt->run();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
}

TEST(SqliteDatabase, InvalidSqlIsInternalError) {
  auto db = open_or_die(":memory:");
  ASSERT_NE(db, nullptr);
  Status st = db->write([](Connection& conn) -> Status {
    auto stmt = conn.prepare("SELEC nonsense");
    if (!stmt.ok()) return std::move(stmt).error();
    return ok_status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  EXPECT_NE(st.error().message.find("syntax error"), std::string::npos) << st.error().message;
}

TEST(SqliteDatabase, ConstraintViolationIsConflict) {
  auto db = open_or_die(":memory:");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      db->write([](Connection& c) { return c.exec("CREATE TABLE t (k TEXT PRIMARY KEY)"); }).ok());
  ASSERT_TRUE(db->write([](Connection& c) { return c.exec("INSERT INTO t VALUES ('a')"); }).ok());
  Status st = db->write([](Connection& c) { return c.exec("INSERT INTO t VALUES ('a')"); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
}

TEST(SqliteDatabase, AFailedWriteRollsBackEverythingItDid) {
  auto db = open_or_die(":memory:");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->write([](Connection& c) { return c.exec("CREATE TABLE t (k INTEGER)"); }).ok());
  Status st = db->write([](Connection& c) -> Status {
    ONESTACK_TRY(c.exec("INSERT INTO t VALUES (1)"));
    return make_error(ErrorCode::kInvalidArgument, "changed my mind");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(query_int(*db, "SELECT count(*) FROM t"), 0);
  // The connection is usable again afterwards.
  ASSERT_TRUE(db->write([](Connection& c) { return c.exec("INSERT INTO t VALUES (2)"); }).ok());
  EXPECT_EQ(query_int(*db, "SELECT count(*) FROM t"), 1);
}

TEST(SqliteDatabase, ReadsCannotWrite) {
  TempDir dir;
  auto db = open_or_die(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->write([](Connection& c) { return c.exec("CREATE TABLE t (k INTEGER)"); }).ok());
  Status st = db->read([](Connection& c) { return c.exec("INSERT INTO t VALUES (1)"); });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(query_int(*db, "SELECT count(*) FROM t"), 0);
}

TEST(SqliteDatabase, ReadersSeeCommittedWrites) {
  TempDir dir;
  auto db = open_or_die(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->write([](Connection& c) { return c.exec("CREATE TABLE t (k INTEGER)"); }).ok());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(db->write([](Connection& c) { return c.exec("INSERT INTO t VALUES (1)"); }).ok());
    EXPECT_EQ(query_int(*db, "SELECT count(*) FROM t"), i);
  }
}

TEST(SqliteDatabase, AStatementIsReusableAfterItIsReturnedToTheCache) {
  auto db = open_or_die(":memory:");
  ASSERT_NE(db, nullptr);
  Status st = db->write([](Connection& conn) -> Status {
    for (int i = 0; i < 3; ++i) {
      auto stmt = conn.prepare("SELECT ?1 + 1");
      if (!stmt.ok()) return std::move(stmt).error();
      stmt->bind(1, i);
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      EXPECT_EQ(stmt->int64(0), i + 1);
      // Left mid-result on purpose: the cache must reset it.
    }
    // Two live statements with the same text do not share state.
    auto a = conn.prepare("SELECT ?1");
    auto b = conn.prepare("SELECT ?1");
    if (!a.ok() || !b.ok()) return make_error(ErrorCode::kInternal, "prepare");
    a->bind(1, "a");
    b->bind(1, "b");
    EXPECT_TRUE(*a->step());
    EXPECT_TRUE(*b->step());
    EXPECT_EQ(a->text(0), "a");
    EXPECT_EQ(b->text(0), "b");
    return ok_status();
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
}

TEST(SqliteDatabase, ALockHeldByAnotherProcessPastTheTimeoutIsUnavailable) {
  TempDir dir;
  auto db = open_or_die(dir.file("a.db"), Options{.busy_timeout_ms = 50});
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->write([](Connection& c) { return c.exec("CREATE TABLE t (k INTEGER)"); }).ok());
  // A second raw connection stands in for another process holding the lock.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("a.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  Status st = db->write([](Connection& c) { return c.exec("INSERT INTO t VALUES (1)"); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable) << st.error().message;
  // Readers are not blocked by a writer in WAL mode.
  EXPECT_EQ(query_int(*db, "SELECT count(*) FROM t"), 0);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_TRUE(db->write([](Connection& c) { return c.exec("INSERT INTO t VALUES (1)"); }).ok());
}

TEST(SqliteDatabase, ErrorMappingFollowsTheResultCode) {
  struct Case {
    int rc;
    ErrorCode code;
  };
  const Case cases[] = {
      {SQLITE_CONSTRAINT, ErrorCode::kConflict},
      {SQLITE_CONSTRAINT_UNIQUE, ErrorCode::kConflict},
      {SQLITE_CONSTRAINT_FOREIGNKEY, ErrorCode::kConflict},
      {SQLITE_BUSY, ErrorCode::kUnavailable},
      {SQLITE_BUSY_SNAPSHOT, ErrorCode::kUnavailable},
      {SQLITE_LOCKED, ErrorCode::kUnavailable},
      {SQLITE_FULL, ErrorCode::kInsufficientStorage},
      {SQLITE_IOERR, ErrorCode::kInternal},
      {SQLITE_CORRUPT, ErrorCode::kInternal},
      {SQLITE_ERROR, ErrorCode::kInternal},
  };
  for (const Case& c : cases) {
    Error e = sqlite_error(nullptr, c.rc, "ctx");
    EXPECT_EQ(e.code, c.code) << c.rc;
    EXPECT_EQ(e.message.rfind("ctx: ", 0), 0u) << e.message;
  }
}

}  // namespace
}  // namespace onestack::store::sqlite
