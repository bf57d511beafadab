#include "store/sqlite/migrations.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "temp_dir.h"

namespace onestack::store::sqlite {
namespace {

using onestack::store::testing::TempDir;

std::unique_ptr<Database> open_db(const std::string& path) {
  auto db = Database::open(path);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
  return db.ok() ? std::move(*db) : nullptr;
}

int version_of(Database& db) {
  auto v = schema_version(db);
  EXPECT_TRUE(v.ok());
  return v.ok() ? *v : -1;
}

bool table_exists(Database& db, const std::string& table) {
  bool exists = false;
  Status st = db.read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, table);
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    exists = *row;
    return ok_status();
  });
  EXPECT_TRUE(st.ok());
  return exists;
}

Status set_user_version(Database& db, int v) {
  return db.write(
      [&](Connection& c) { return c.exec("PRAGMA user_version = " + std::to_string(v)); });
}

const Migration kTwoSteps[] = {
    {1, "a", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
    {2, "b", "CREATE TABLE b (y INTEGER);"},
};

TEST(SqliteMigrations, BuiltInStepsAreNumberedFromOneWithoutGaps) {
  auto steps = schema_migrations();
  ASSERT_FALSE(steps.empty());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(steps[i].description.empty());
  }
}

TEST(SqliteMigrations, AFreshDatabaseReachesTheLatestVersion) {
  TempDir dir;
  auto db = open_db(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(version_of(*db), 0);
  ASSERT_TRUE(migrate(*db).ok());
  EXPECT_EQ(version_of(*db), static_cast<int>(schema_migrations().size()));
  for (const char* table : {"identity_records", "identity_memberships", "identity_assignments",
                            "identity_implied_roles", "identity_revocations", "identity_state",
                            "identity_fernet_keys"}) {
    EXPECT_TRUE(table_exists(*db, table)) << table;
  }
  EXPECT_FALSE(table_exists(*db, "records"));
}

TEST(SqliteMigrations, MigratingAgainOrAfterReopeningIsANoOp) {
  TempDir dir;
  {
    auto db = open_db(dir.file("a.db"));
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(migrate(*db, kTwoSteps).ok());
    // Running the steps twice would fail on CREATE TABLE or duplicate the row.
    ASSERT_TRUE(migrate(*db, kTwoSteps).ok());
  }
  auto db = open_db(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(migrate(*db, kTwoSteps).ok());
  EXPECT_EQ(version_of(*db), 2);
  int64_t rows = 0;
  ASSERT_TRUE(db->read([&](Connection& c) -> Status {
                  auto s = c.prepare("SELECT count(*) FROM a");
                  if (!s.ok()) return std::move(s).error();
                  EXPECT_TRUE(*s->step());
                  rows = s->int64(0);
                  return ok_status();
                }).ok());
  EXPECT_EQ(rows, 1);
}

TEST(SqliteMigrations, OnlyTheMissingStepsAreApplied) {
  TempDir dir;
  auto db = open_db(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(migrate(*db, std::span(kTwoSteps).first(1)).ok());
  EXPECT_EQ(version_of(*db), 1);
  EXPECT_FALSE(table_exists(*db, "b"));
  ASSERT_TRUE(migrate(*db, kTwoSteps).ok());
  EXPECT_EQ(version_of(*db), 2);
  EXPECT_TRUE(table_exists(*db, "b"));
}

TEST(SqliteMigrations, ADatabaseNewerThanTheBinaryIsRefused) {
  TempDir dir;
  auto db = open_db(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(migrate(*db, kTwoSteps).ok());
  ASSERT_TRUE(set_user_version(*db, 3).ok());
  Status st = migrate(*db, kTwoSteps);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  EXPECT_NE(st.error().message.find("newer"), std::string::npos) << st.error().message;
  EXPECT_EQ(version_of(*db), 3);
}

TEST(SqliteMigrations, AFailingStepLeavesThePreviousVersionIntact) {
  TempDir dir;
  auto db = open_db(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  const Migration steps[] = {
      kTwoSteps[0],
      // The first statement succeeds, the second fails: neither may stay.
      {2, "broken", "CREATE TABLE half (z INTEGER); INSERT INTO no_such_table VALUES (1);"},
  };
  Status st = migrate(*db, steps);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  EXPECT_NE(st.error().message.find("broken"), std::string::npos) << st.error().message;
  EXPECT_EQ(version_of(*db), 1);
  EXPECT_TRUE(table_exists(*db, "a"));
  EXPECT_FALSE(table_exists(*db, "half"));
  // A fixed binary then completes the migration.
  ASSERT_TRUE(migrate(*db, kTwoSteps).ok());
  EXPECT_EQ(version_of(*db), 2);
}

TEST(SqliteMigrations, StepsOutOfOrderAreRejectedBeforeAnythingRuns) {
  TempDir dir;
  auto db = open_db(dir.file("a.db"));
  ASSERT_NE(db, nullptr);
  const Migration gap[] = {kTwoSteps[0], {3, "c", "CREATE TABLE c (x);"}};
  Status st = migrate(*db, gap);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  EXPECT_EQ(version_of(*db), 0);
  EXPECT_FALSE(table_exists(*db, "a"));
}

TEST(SqliteMigrations, InMemoryDatabasesMigrateToo) {
  auto db = open_db(":memory:");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(migrate(*db).ok());
  EXPECT_EQ(version_of(*db), static_cast<int>(schema_migrations().size()));
}

}  // namespace
}  // namespace onestack::store::sqlite
