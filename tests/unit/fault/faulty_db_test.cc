#include "fault/faulty_db.h"

#include <gtest/gtest.h>

#include "store/sql/identity_store_sql.h"
#include "store/sqlite/sqlite_db.h"

namespace onestack::fault {
namespace {

using store::Kind;

// The identity store on SQLite, with the seam's fault hook on its database.
class FaultyDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::sqlite::SqliteDb::open(":memory:", {}, store::sqlite::schema_migrations());
    ASSERT_TRUE(db.ok()) << db.error().message;
    (*db)->set_fault_hook(db_fault_hook(plan_));
    store_ = std::make_unique<store::sql::SqlIdentityStore>(std::move(db).value());
  }

  void plan(const std::string& text) {
    auto rules = parse_plan(text);
    ASSERT_TRUE(rules.ok()) << rules.error().message;
    plan_->set_rules(std::move(rules).value());
  }

  static store::Record project(const std::string& id) {
    store::Record r;
    r.id = id;
    r.scope = "d";
    r.name = "name-" + id;
    r.doc = R"({"enabled":true})";
    return r;
  }

  std::shared_ptr<FaultPlan> plan_ = std::make_shared<FaultPlan>();
  std::unique_ptr<store::sql::SqlIdentityStore> store_;
};

TEST_F(FaultyDbTest, AFullDatabaseFailsTheCreateWholeAndTheRetryLands) {
  plan("identity.create SQLITE_FULL\n");
  auto st = store_->create(Kind::kProject, project("p1"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInsufficientStorage);
  EXPECT_EQ(store_->get(Kind::kProject, "p1").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->create(Kind::kProject, project("p1")).ok());
  EXPECT_TRUE(store_->get(Kind::kProject, "p1").ok());
  EXPECT_EQ(plan_->fired("identity.create"), 1u);
}

TEST_F(FaultyDbTest, ReadsAndRelationWritesHaveTheirOwnPoints) {
  ASSERT_TRUE(store_->create(Kind::kProject, project("p1")).ok());
  plan(
      "identity.get SQLITE_BUSY\nidentity.remove SQLITE_IOERR\n"
      "identity.add_assignment SQLITE_FULL\nidentity.add_revocation EIO\n");
  EXPECT_EQ(store_->get(Kind::kProject, "p1").error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store_->remove(Kind::kProject, "p1").error().code, ErrorCode::kInternal);
  store::Assignment a;
  a.actor_id = "u1";
  a.target_type = store::TargetType::kProject;
  a.target_id = "p1";
  a.role_id = "r1";
  EXPECT_EQ(store_->add_assignment(a).error().code, ErrorCode::kInsufficientStorage);
  EXPECT_EQ(store_->add_revocation({}).error().code, ErrorCode::kInternal);
  auto listed = store_->list_assignments({});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  auto revs = store_->list_revocations(0);
  ASSERT_TRUE(revs.ok());
  EXPECT_TRUE(revs->empty());
  EXPECT_TRUE(store_->get(Kind::kProject, "p1").ok());  // used up, and still there
  EXPECT_TRUE(store_->remove(Kind::kProject, "p1").ok());
}

TEST_F(FaultyDbTest, EveryTransactionIsCountedUnderItsPointWithItsFailures) {
  plan("identity.create SQLITE_FULL\n");
  EXPECT_FALSE(store_->create(Kind::kProject, project("p1")).ok());
  EXPECT_TRUE(store_->create(Kind::kProject, project("p1")).ok());
  EXPECT_TRUE(store_->get(Kind::kProject, "p1").ok());
  auto stats = store_->db().stats();
  auto find = [&](const std::string& point) -> const store::sql::PointStats* {
    for (const auto& s : stats) {
      if (s.point == point) return &s;
    }
    return nullptr;
  };
  const auto* create = find("identity.create");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->calls, 2u);
  EXPECT_EQ(create->failures, 1u);
  EXPECT_EQ(create->retries, 0u);
  const auto* get = find("identity.get");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->calls, 1u);
  EXPECT_EQ(get->failures, 0u);
  std::string text;
  store::sql::render_stats({{"identity", stats}}, &text);
  EXPECT_NE(
      text.find("onestack_db_transactions_total{store=\"identity\",point=\"identity.create\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("onestack_db_failures_total{store=\"identity\",point=\"identity.create\"} 1"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace onestack::fault
