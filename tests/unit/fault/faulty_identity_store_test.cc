#include "fault/faulty_identity_store.h"

#include <gtest/gtest.h>

#include "store/sqlite/identity_store_sqlite.h"

namespace onestack::fault {
namespace {

using store::Kind;

class FaultyIdentityStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto inner = store::sqlite::SqliteIdentityStore::open(":memory:");
    ASSERT_TRUE(inner.ok()) << inner.error().message;
    inner_ = std::move(inner).value();
    store_ = std::make_unique<FaultyIdentityStore>(*inner_, plan_);
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

  std::unique_ptr<store::sqlite::SqliteIdentityStore> inner_;
  std::shared_ptr<FaultPlan> plan_ = std::make_shared<FaultPlan>();
  std::unique_ptr<FaultyIdentityStore> store_;
};

TEST_F(FaultyIdentityStoreTest, AFullDatabaseFailsTheCreateWholeAndTheRetryLands) {
  plan("identity.create SQLITE_FULL\n");
  auto st = store_->create(Kind::kProject, project("p1"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInsufficientStorage);
  EXPECT_EQ(store_->get(Kind::kProject, "p1").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->create(Kind::kProject, project("p1")).ok());
  EXPECT_TRUE(store_->get(Kind::kProject, "p1").ok());
}

TEST_F(FaultyIdentityStoreTest, ReadsAndRelationWritesHaveTheirOwnPoints) {
  ASSERT_TRUE(store_->create(Kind::kProject, project("p1")).ok());
  plan("identity.get SQLITE_BUSY\nidentity.remove SQLITE_IOERR\n"
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

}  // namespace
}  // namespace onestack::fault
