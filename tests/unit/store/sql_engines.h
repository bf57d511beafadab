// The engines a store written on the transaction seam (store/sql/db.h) must
// behave the same on, for contract suites parameterised over them. Each
// test gets a fresh database: a SQLite file in a temporary directory, or a
// schema of its own in ONESTACK_TEST_PG's database (pg_test_env.h; without
// it the PostgreSQL cases skip, or fail under
// ONESTACK_TEST_REQUIRE_BACKENDS=1).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pg_test_env.h"
#include "store/pg/pg_db.h"
#include "store/sql/db.h"
#include "store/sqlite/sqlite_db.h"
#include "temp_dir.h"

namespace onestack::store::testing {

// One schema step, in SQL both engines run, or with PostgreSQL's own text
// where the two differ (COLLATE "C" text columns, say).
struct Step {
  std::string_view description;
  std::string_view sql;
  std::string_view pg_sql = {};
};

enum class Engine { kSqlite, kPostgres };

inline void PrintTo(Engine e, std::ostream* os) {
  *os << (e == Engine::kSqlite ? "Sqlite" : "Postgres");
}

inline std::string engine_name(const ::testing::TestParamInfo<Engine>& info) {
  return info.param == Engine::kSqlite ? "Sqlite" : "Postgres";
}

// Owns what one test's database lives in and opens Dbs on it: several, as
// several nodes would, all seeing one database.
class EngineFixture {
 public:
  // Prepares a fresh database for `engine` with `steps` applied. Sets
  // skip_reason() when PostgreSQL is wanted but not configured.
  EngineFixture(Engine engine, std::vector<Step> steps)
      : engine_(engine), steps_(std::move(steps)) {
    if (engine_ == Engine::kPostgres) {
      auto base = pg_test_conninfo();
      if (!base) {
        skip_reason_ = kPgTestUnsetMessage;
        return;
      }
      schema_ = std::make_unique<TestSchema>(*base);
      if (!schema_->error().empty()) error_ = "cannot create a test schema: " + schema_->error();
    }
  }

  const std::string& skip_reason() const { return skip_reason_; }
  const std::string& error() const { return error_; }

  // Opens a Db on the test's database (migrating it the first time).
  Result<std::unique_ptr<sql::Db>> open() {
    if (engine_ == Engine::kSqlite) {
      std::vector<sqlite::Migration> m;
      for (size_t i = 0; i < steps_.size(); ++i) {
        m.push_back({static_cast<int>(i) + 1, steps_[i].description, steps_[i].sql});
      }
      auto db = sqlite::SqliteDb::open(dir_.file("test.db"), {}, m);
      if (!db.ok()) return std::move(db).error();
      return std::unique_ptr<sql::Db>(std::move(db).value());
    }
    std::vector<pg::Migration> m;
    for (size_t i = 0; i < steps_.size(); ++i) {
      m.push_back({static_cast<int>(i) + 1, steps_[i].description,
                   steps_[i].pg_sql.empty() ? steps_[i].sql : steps_[i].pg_sql});
    }
    auto db = pg::PgDb::open(schema_->conninfo(), pg::PoolOptions{.max_connections = 8}, "test", m,
                             "the test store");
    if (!db.ok()) return std::move(db).error();
    return std::unique_ptr<sql::Db>(std::move(db).value());
  }

 private:
  Engine engine_;
  std::vector<Step> steps_;
  TempDir dir_;
  std::unique_ptr<TestSchema> schema_;
  std::string skip_reason_;
  std::string error_;
};

// In a test's SetUp: skips (or fails when backends are required) a
// PostgreSQL case without a database, fails on a fixture error.
#define ONESTACK_ENGINE_SETUP(fixture)                                                       \
  do {                                                                                       \
    if (!(fixture).skip_reason().empty()) {                                                  \
      if (::onestack::store::testing::pg_test_required()) FAIL() << (fixture).skip_reason(); \
      GTEST_SKIP() << (fixture).skip_reason();                                               \
    }                                                                                        \
    ASSERT_EQ((fixture).error(), "");                                                        \
  } while (0)

}  // namespace onestack::store::testing
