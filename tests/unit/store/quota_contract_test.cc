// Quotas counted in the create's own transaction (store/sql/quota.h), on
// every engine: parallel creates against a limit admit exactly the limit.
#include "store/sql/quota.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "sql_engines.h"

namespace onestack::store::testing {
namespace {

using sql::QuotaClaim;
using sql::Tx;

constexpr Step kSteps[] = {
    {"quota usage", sql::kQuotaUsageSchema},
    {"what the quota counts",
     "CREATE TABLE things (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, size BIGINT NOT NULL)"},
};

class QuotaContract : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    ONESTACK_ENGINE_SETUP(engine_);
    auto db = engine_.open();
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
  }

  // Creates a thing of `size` for `project` in one transaction that claims
  // one "things" and `size` "bytes" against the limits.
  Status create(const std::string& id, const std::string& project, int64_t size,
                int64_t thing_limit, int64_t byte_limit) {
    return db_->write("test.create", [&](Tx& tx) -> Status {
      auto n = tx.run("INSERT INTO things (id, project_id, size) VALUES ($1, $2, $3)",
                      sql::Params().add(id).add(project).add(size));
      if (!n.ok()) return std::move(n).error();
      ONESTACK_TRY(sql::claim_quota(tx, {"test", project, "things", 1}, thing_limit));
      return sql::claim_quota(tx, {"test", project, "bytes", size}, byte_limit);
    });
  }

  Status remove(const std::string& id, const std::string& project, int64_t size) {
    return db_->write("test.remove", [&](Tx& tx) -> Status {
      auto n = tx.run("DELETE FROM things WHERE id = $1", sql::Params().add(id));
      if (!n.ok()) return std::move(n).error();
      if (*n == 0) return make_error(ErrorCode::kNotFound, "no such thing");
      ONESTACK_TRY(sql::release_quota(tx, {"test", project, "things", 1}));
      return sql::release_quota(tx, {"test", project, "bytes", size});
    });
  }

  int64_t usage(const std::string& project, const std::string& resource) {
    int64_t out = -1;
    Status st = db_->read("test.usage", [&](Tx& tx) -> Status {
      auto u = sql::quota_usage(tx, "test", project, resource);
      if (!u.ok()) return std::move(u).error();
      out = *u;
      return ok_status();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return out;
  }

  int64_t rows(const std::string& project) {
    int64_t out = -1;
    Status st = db_->read("test.count", [&](Tx& tx) -> Status {
      auto r =
          tx.query("SELECT COUNT(*) FROM things WHERE project_id = $1", sql::Params().add(project));
      if (!r.ok()) return std::move(r).error();
      out = r->int64(0, 0);
      return ok_status();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return out;
  }

  EngineFixture engine_{GetParam(), {std::begin(kSteps), std::end(kSteps)}};
  std::unique_ptr<sql::Db> db_;
};

TEST_P(QuotaContract, ParallelCreatesAgainstALimitAdmitExactlyTheLimit) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 4;
  constexpr int64_t kLimit = 7;
  std::atomic<int> admitted{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Status st = create("t" + std::to_string(t) + "-" + std::to_string(i), "p1", 10, kLimit, -1);
        if (st.ok()) {
          ++admitted;
        } else if (st.error().code == ErrorCode::kOverQuota) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), kLimit);
  EXPECT_EQ(refused.load(), kThreads * kPerThread - kLimit);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(rows("p1"), kLimit);  // a refused create left nothing behind
  EXPECT_EQ(usage("p1", "things"), kLimit);
  EXPECT_EQ(usage("p1", "bytes"), kLimit * 10);
}

TEST_P(QuotaContract, ParallelCreatesOnSeveralNodesShareOneCount) {
  // A second Db on the same database, as another node (or, on SQLite,
  // another process on the same file) would open it.
  auto second = engine_.open();
  ASSERT_TRUE(second.ok()) << second.error().message;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    sql::Db& db = (t % 2 == 0) ? *db_ : **second;
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        Status st = db.write("test.create", [&](Tx& tx) -> Status {
          auto n = tx.run("INSERT INTO things (id, project_id, size) VALUES ($1, 'p2', 1)",
                          sql::Params().add("n" + std::to_string(t) + "-" + std::to_string(i)));
          if (!n.ok()) return std::move(n).error();
          return sql::claim_quota(tx, {"test", "p2", "things", 1}, 11);
        });
        if (st.ok()) ++admitted;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 11);
  EXPECT_EQ(rows("p2"), 11);
  EXPECT_EQ(usage("p2", "things"), 11);
}

TEST_P(QuotaContract, ALargeAmountPassesTheByteLimitAndIsRefusedWhole) {
  const int64_t gib = int64_t{1} << 30;
  ASSERT_TRUE(create("big", "p3", 5 * gib, -1, 10 * gib).ok());
  Status over = create("bigger", "p3", 6 * gib, -1, 10 * gib);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::kOverQuota);
  EXPECT_NE(over.error().message.find("bytes"), std::string::npos) << over.error().message;
  EXPECT_EQ(usage("p3", "bytes"), 5 * gib);
  EXPECT_EQ(usage("p3", "things"), 1);  // the first claim of the refused create rolled back
  EXPECT_EQ(rows("p3"), 1);
}

TEST_P(QuotaContract, ADeleteGivesBackWhatItsCreateClaimedAndProjectsCountApart) {
  ASSERT_TRUE(create("a", "p4", 3, 2, -1).ok());
  ASSERT_TRUE(create("b", "p4", 4, 2, -1).ok());
  EXPECT_EQ(create("c", "p4", 5, 2, -1).error().code, ErrorCode::kOverQuota);
  ASSERT_TRUE(create("c", "p5", 5, 2, -1).ok());  // another project's count
  ASSERT_TRUE(remove("a", "p4", 3).ok());
  EXPECT_EQ(usage("p4", "things"), 1);
  EXPECT_EQ(usage("p4", "bytes"), 4);
  EXPECT_TRUE(create("c2", "p4", 5, 2, -1).ok());
  // A limit lowered below the usage refuses more but keeps what exists.
  EXPECT_EQ(create("d", "p4", 1, 1, -1).error().code, ErrorCode::kOverQuota);
  EXPECT_EQ(rows("p4"), 2);
  // Usage never goes below zero, and a negative claim is refused.
  Status st = db_->write("test.release", [&](Tx& tx) {
    return sql::release_quota(tx, {"test", "p5", "things", 10});
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(usage("p5", "things"), 0);
  Status neg = db_->write("test.claim", [&](Tx& tx) {
    return sql::claim_quota(tx, {"test", "p5", "things", -1}, 5);
  });
  EXPECT_EQ(neg.error().code, ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(AllEngines, QuotaContract,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres), engine_name);

}  // namespace
}  // namespace onestack::store::testing
