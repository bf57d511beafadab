// The libpq layer (store/pg/pg.h) against a real server: parameters, bytea,
// error mapping, transactions, migrations and a pool that heals.
#include <gtest/gtest.h>

#include <string>

#include "pg_test_env.h"
#include "store/pg/pg.h"

namespace onestack::store::pg {
namespace {

using store::testing::TestSchema;

#define ASSERT_OK(expr)                                                              \
  do {                                                                               \
    const auto& assert_ok_r_ = (expr);                                               \
    ASSERT_TRUE(assert_ok_r_.ok()) << #expr << ": " << assert_ok_r_.error().message; \
  } while (0)

class PgLayer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = store::testing::pg_test_conninfo();
    if (!base) {
      if (store::testing::pg_test_required()) FAIL() << store::testing::kPgTestUnsetMessage;
      GTEST_SKIP() << store::testing::kPgTestUnsetMessage;
    }
    schema_ = std::make_unique<TestSchema>(*base);
    ASSERT_EQ(schema_->error(), "") << "cannot create a test schema";
    auto pool = Pool::open(
        schema_->conninfo(),
        PoolOptions{.max_connections = 2, .acquire_timeout = std::chrono::milliseconds(3000)});
    ASSERT_TRUE(pool.ok()) << pool.error().message;
    pool_ = std::move(*pool);
  }
  void TearDown() override {
    pool_.reset();  // close connections before the schema goes
    schema_.reset();
  }

  Result<Rows> query(const std::string& sql, const Params& params = {}) {
    Result<Rows> out = make_error(ErrorCode::kInternal, "not run");
    Status s = pool_->with_connection([&](Connection& c) -> Status {
      out = c.query(sql, params);
      return ok_status();
    });
    if (!s.ok()) return s.error();
    return out;
  }

  std::unique_ptr<TestSchema> schema_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(PgLayer, ParametersOfEveryTypeArriveAsSent) {
  auto rows =
      query("SELECT $1::text, $2::bigint, $3::boolean, $4::float8, $5::text IS NULL, $6::text",
            Params()
                .add("it's \"quoted\"")
                .add(int64_t{-9007199254740993})
                .add(true)
                .add(0.1)
                .add_null()
                .add(""));
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(rows->str(0, 0), "it's \"quoted\"");
  EXPECT_EQ(rows->int64(0, 1), -9007199254740993);
  EXPECT_TRUE(rows->boolean(0, 2));
  EXPECT_EQ(rows->real(0, 3), 0.1);
  EXPECT_TRUE(rows->boolean(0, 4));
  EXPECT_FALSE(rows->is_null(0, 5));
  EXPECT_EQ(rows->str(0, 5), "");
}

TEST_F(PgLayer, NullReadsAsEmptyAndZero) {
  auto rows = query("SELECT NULL::text, NULL::bigint");
  ASSERT_OK(rows);
  EXPECT_TRUE(rows->is_null(0, 0));
  EXPECT_EQ(rows->str(0, 0), "");
  EXPECT_EQ(rows->int64(0, 1), 0);
}

TEST_F(PgLayer, ByteaRoundTripsEveryByteValue) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += std::string("\0\0\\x'", 6);
  ASSERT_OK(pool_->write([&](Connection& c) -> Status {
    ONESTACK_TRY(c.exec("CREATE TABLE blobs (id INT PRIMARY KEY, data BYTEA NOT NULL)"));
    auto n = c.run("INSERT INTO blobs VALUES ($1, $2)", Params().add(1).add_bytes(bytes));
    if (!n.ok()) return n.error();
    EXPECT_EQ(*n, 1);
    return ok_status();
  }));
  auto rows = query("SELECT data, length(data) FROM blobs WHERE id = $1", Params().add(1));
  ASSERT_OK(rows);
  EXPECT_EQ(rows->int64(0, 1), static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(rows->bytes(0, 0), bytes);
}

TEST_F(PgLayer, UniqueViolationIsConflictAndNamesTheContext) {
  ASSERT_OK(
      pool_->write([](Connection& c) { return c.exec("CREATE TABLE u (k TEXT PRIMARY KEY)"); }));
  ASSERT_OK(pool_->write([](Connection& c) -> Status {
    auto n = c.run("INSERT INTO u VALUES ($1)", Params().add("a"));
    return n.ok() ? ok_status() : Status(n.error());
  }));
  Status again = pool_->write([](Connection& c) -> Status {
    auto n = c.run("INSERT INTO u VALUES ($1)", Params().add("a"));
    return n.ok() ? ok_status() : Status(n.error());
  });
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict) << again.error().message;
  EXPECT_NE(again.error().message.find("duplicate key"), std::string::npos)
      << again.error().message;
  EXPECT_FALSE(is_retryable(again.error()));
}

TEST_F(PgLayer, OtherErrorsAreInternalAndSerializationFailuresRetryable) {
  auto bad = query("SELECT * FROM no_such_table");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
  EXPECT_NE(bad.error().message.find("no_such_table"), std::string::npos);

  auto serial = query("DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$");
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(is_retryable(serial.error()));

  auto full = query("DO $$ BEGIN RAISE EXCEPTION 'full' USING ERRCODE = '53100'; END $$");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kInsufficientStorage);
  EXPECT_FALSE(is_retryable(full.error()));
}

TEST_F(PgLayer, WriteRollsBackWhenFnFails) {
  ASSERT_OK(pool_->write([](Connection& c) { return c.exec("CREATE TABLE t (v INT)"); }));
  Status s = pool_->write([](Connection& c) -> Status {
    auto n = c.run("INSERT INTO t VALUES ($1)", Params().add(1));
    if (!n.ok()) return n.error();
    return make_error(ErrorCode::kInvalidArgument, "changed my mind");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message, "changed my mind");
  auto rows = query("SELECT count(*) FROM t");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->int64(0, 0), 0);
  // The connection went back clean: the next write commits.
  ASSERT_OK(pool_->write([](Connection& c) -> Status {
    auto n = c.run("INSERT INTO t VALUES ($1)", Params().add(2));
    return n.ok() ? ok_status() : Status(n.error());
  }));
  rows = query("SELECT count(*) FROM t");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->int64(0, 0), 1);
}

TEST_F(PgLayer, WriteDoesNotReportSuccessForAnAbortedTransaction) {
  ASSERT_OK(pool_->write([](Connection& c) { return c.exec("CREATE TABLE t (v INT)"); }));
  Status s = pool_->write([](Connection& c) -> Status {
    (void)c.run("INSERT INTO t VALUES ($1)", Params().add(1));
    (void)c.run("INSERT INTO t VALUES ('not a number')");  // fails; error ignored
    return ok_status();
  });
  EXPECT_FALSE(s.ok());
  auto rows = query("SELECT count(*) FROM t");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->int64(0, 0), 0);
}

TEST_F(PgLayer, ReadIsReadOnly) {
  ASSERT_OK(pool_->write([](Connection& c) { return c.exec("CREATE TABLE t (v INT)"); }));
  Status s = pool_->read([](Connection& c) -> Status {
    auto n = c.run("INSERT INTO t VALUES ($1)", Params().add(1));
    return n.ok() ? ok_status() : Status(n.error());
  });
  EXPECT_FALSE(s.ok());
}

constexpr Migration kSteps[] = {
    {1, "table a", "CREATE TABLE a (x INT); INSERT INTO a VALUES (1);"},
    {2, "table b", "CREATE TABLE b (y INT)"},
};

TEST_F(PgLayer, MigrateTwiceAppliesEachStepOnceInTheTestSchema) {
  ASSERT_OK(migrate(*pool_, "widget", kSteps));
  ASSERT_OK(migrate(*pool_, "widget", kSteps));
  auto rows = query("SELECT count(*) FROM a");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->int64(0, 0), 1);
  rows = query(
      "SELECT s.version, t.table_schema FROM onestack_schema s, information_schema.tables t "
      "WHERE s.component = 'widget' AND t.table_name = 'onestack_schema' AND t.table_schema = $1",
      Params().add(schema_->name()));
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(rows->int64(0, 0), 2);
}

TEST_F(PgLayer, MigrateRefusesANewerSchemaAndMisnumberedSteps) {
  ASSERT_OK(migrate(*pool_, "widget", kSteps));
  Status older = migrate(*pool_, "widget", std::span<const Migration>(kSteps, 1));
  ASSERT_FALSE(older.ok());
  EXPECT_NE(older.error().message.find("newer"), std::string::npos) << older.error().message;
  constexpr Migration kGap[] = {{1, "one", "SELECT 1"}, {3, "three", "SELECT 1"}};
  EXPECT_FALSE(migrate(*pool_, "gadget", kGap).ok());
}

TEST_F(PgLayer, AFailedStepRollsBackAndRecordsNoVersion) {
  constexpr Migration kBad[] = {{1, "broken", "CREATE TABLE c (z INT); SELECT nonsense;"}};
  Status s = migrate(*pool_, "broken", kBad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("broken"), std::string::npos);
  auto rows = query(
      "SELECT count(*) FROM information_schema.tables WHERE table_name = 'c' AND table_schema = $1",
      Params().add(schema_->name()));
  ASSERT_OK(rows);
  EXPECT_EQ(rows->int64(0, 0), 0);
}

TEST_F(PgLayer, AConnectionLostMidTransactionIsUnavailableOnceThenThePoolHeals) {
  auto pid = query("SELECT pg_backend_pid()");
  ASSERT_OK(pid);
  // The server ends this very session while the transaction runs.
  Status first = pool_->write([](Connection& c) -> Status {
    auto r = c.query("SELECT pg_terminate_backend(pg_backend_pid())");
    if (!r.ok()) return r.error();
    auto again = c.query("SELECT 1");
    return again.ok() ? ok_status() : Status(again.error());
  });
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kUnavailable) << first.error().message;
  // The dead connection was not returned: the next caller gets a fresh one.
  auto next = query("SELECT pg_backend_pid()");
  ASSERT_OK(next);
  EXPECT_NE(next->str(0, 0), pid->str(0, 0));
  ASSERT_OK(pool_->write([](Connection& c) { return c.exec("CREATE TABLE healed (v INT)"); }));
}

TEST_F(PgLayer, PoolHealsAfterItsIdleConnectionIsTerminated) {
  auto pid = query("SELECT pg_backend_pid()");
  ASSERT_OK(pid);
  // Ends the pool's idle connection from outside, waiting until it is gone.
  std::string error = store::testing::pg_test_exec(
      schema_->conninfo(), "SELECT pg_terminate_backend(" + pid->str(0, 0) + ", 5000)");
  ASSERT_EQ(error, "");
  // The pool notices the closed connection when it lends it (or, if the
  // server's goodbye is still in flight, the first caller sees
  // kUnavailable); either way it never hangs, and it heals at once.
  int unavailable = 0;
  std::string last_pid;
  for (int i = 0; i < 3; ++i) {
    auto r = query("SELECT pg_backend_pid()");
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
      ++unavailable;
      continue;
    }
    last_pid = r->str(0, 0);
  }
  EXPECT_LE(unavailable, 1);
  EXPECT_NE(last_pid, "");
  EXPECT_NE(last_pid, pid->str(0, 0));
}

TEST_F(PgLayer, ALostConnectionAlsoRetiresTheIdleOnes) {
  // Two connections idle in the pool.
  std::string inner_pid, outer_pid;
  ASSERT_OK(pool_->with_connection([&](Connection& outer) -> Status {
    auto o = outer.query("SELECT pg_backend_pid()");
    if (!o.ok()) return o.error();
    outer_pid = o->str(0, 0);
    return pool_->with_connection([&](Connection& inner) -> Status {
      auto r = inner.query("SELECT pg_backend_pid()");
      if (!r.ok()) return r.error();
      inner_pid = r->str(0, 0);
      return ok_status();
    });
  }));
  ASSERT_NE(inner_pid, outer_pid);
  // One of them is lost in use; the other, idle and still fine, is closed
  // too (after a server restart it would be dead as well).
  Status lost = pool_->write([](Connection& c) -> Status {
    auto r = c.query("SELECT pg_terminate_backend(pg_backend_pid())");
    if (!r.ok()) return r.error();
    auto again = c.query("SELECT 1");
    return again.ok() ? ok_status() : Status(again.error());
  });
  ASSERT_FALSE(lost.ok());
  auto next = query("SELECT pg_backend_pid()");
  ASSERT_OK(next);
  EXPECT_NE(next->str(0, 0), inner_pid);
  EXPECT_NE(next->str(0, 0), outer_pid);
}

TEST_F(PgLayer, PoolWaitsForAFreeConnectionAndTimesOut) {
  auto small = Pool::open(
      schema_->conninfo(),
      PoolOptions{.max_connections = 1, .acquire_timeout = std::chrono::milliseconds(200)});
  ASSERT_OK(small);
  Status inner_status;
  ASSERT_OK((*small)->with_connection([&](Connection&) -> Status {
    inner_status = (*small)->with_connection([](Connection&) { return ok_status(); });
    return ok_status();
  }));
  ASSERT_FALSE(inner_status.ok());
  EXPECT_EQ(inner_status.error().code, ErrorCode::kUnavailable);
}

TEST(PgLayerOpen, UnreachableServerIsUnavailableWithTheReason) {
  auto pool = Pool::open("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(pool.error().message.find("127.0.0.1"), std::string::npos) << pool.error().message;
}

}  // namespace
}  // namespace onestack::store::pg
