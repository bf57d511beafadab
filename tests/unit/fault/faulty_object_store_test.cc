#include "fault/faulty_object_store.h"

#include <gtest/gtest.h>

#include <functional>

#include "store/sqlite/object_store_sqlite.h"

namespace onestack::fault {
namespace {

class FaultyObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto inner = store::sqlite::SqliteObjectStore::open(":memory:");
    ASSERT_TRUE(inner.ok()) << inner.error().message;
    inner_ = std::move(inner).value();
    store_ = std::make_unique<FaultyObjectStore>(inner_, plan_);
    store::ContainerRecord c;
    c.account = "AUTH_p";
    c.name = "c";
    c.created_us = c.put_us = 1;
    ASSERT_TRUE(store_->create_container(c).ok());
  }

  void plan(const std::string& text) {
    auto rules = parse_plan(text);
    ASSERT_TRUE(rules.ok()) << rules.error().message;
    plan_->set_rules(std::move(rules).value());
  }

  static store::ObjectRecord object(const std::string& name, uint64_t size) {
    store::ObjectRecord o;
    o.account = "AUTH_p";
    o.container = "c";
    o.name = name;
    o.size = size;
    o.etag = "d41d8cd98f00b204e9800998ecf8427e";
    o.content_type = "text/plain";
    o.timestamp_us = 2;
    return o;
  }

  std::shared_ptr<store::sqlite::SqliteObjectStore> inner_;
  std::shared_ptr<FaultPlan> plan_ = std::make_shared<FaultPlan>();
  std::unique_ptr<FaultyObjectStore> store_;
};

TEST_F(FaultyObjectStoreTest, AFullDatabaseFailsThePutWholeAndTheNextPutLands) {
  ASSERT_TRUE(store_->put_object(object("old", 3), {}).ok());
  plan("store.put_object SQLITE_FULL\n");
  auto r = store_->put_object(object("new", 5), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInsufficientStorage);
  EXPECT_EQ(store_->get_object("AUTH_p", "c", "new").error().code, ErrorCode::kNotFound);
  auto c = store_->get_container("AUTH_p", "c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->object_count, 1u);
  EXPECT_EQ(c->bytes_used, 3u);
  ASSERT_TRUE(store_->put_object(object("new", 5), {}).ok());
  c = store_->get_container("AUTH_p", "c");
  EXPECT_EQ(c->object_count, 2u);
  EXPECT_EQ(c->bytes_used, 8u);
}

TEST_F(FaultyObjectStoreTest, ALockedDatabaseIsUnavailableAndAnIoErrorInternal) {
  ASSERT_TRUE(store_->put_object(object("o", 3), {}).ok());
  plan("store.delete_object SQLITE_BUSY\nstore.get_object SQLITE_IOERR\n");
  EXPECT_EQ(store_->delete_object("AUTH_p", "c", "o", std::nullopt).error().code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(store_->get_object("AUTH_p", "c", "o").error().code, ErrorCode::kInternal);
  EXPECT_TRUE(store_->get_object("AUTH_p", "c", "o").ok());  // the row is still there
  EXPECT_TRUE(store_->delete_object("AUTH_p", "c", "o", std::nullopt).ok());
}

// Every method has its point, fails with the planned error there, and
// forwards to the real store otherwise.
TEST_F(FaultyObjectStoreTest, EveryMethodHasItsOwnPoint) {
  ASSERT_TRUE(store_->put_object(object("o", 3), {}).ok());
  store::ContainerRecord c2;
  c2.account = "AUTH_p";
  c2.name = "c2";
  const std::vector<std::pair<std::string, std::function<Status()>>> calls = {
      {"store.get_account",
       [&]() -> Status {
         auto r = store_->get_account("AUTH_p");
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.ensure_account", [&] { return store_->ensure_account("AUTH_q", 1); }},
      {"store.update_account_meta",
       [&] {
         return store_->update_account_meta("AUTH_p", {{"x-account-meta-a", "1"}}, 3);
       }},
      {"store.list_containers",
       [&]() -> Status {
         auto r = store_->list_containers("AUTH_p", {});
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.scan_objects",
       [&] { return store_->scan_objects("AUTH_p", "c", {}, [](const store::ObjectListRow&) {}); }},
      {"store.create_container",
       [&]() -> Status {
         auto r = store_->create_container(c2);
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.get_container",
       [&]() -> Status {
         auto r = store_->get_container("AUTH_p", "c");
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.update_container_meta",
       [&] {
         return store_->update_container_meta("AUTH_p", "c", {{"x-container-meta-a", "1"}},
                                              std::nullopt);
       }},
      {"store.delete_container", [&] { return store_->delete_container("AUTH_p", "c2"); }},
      {"store.list_objects",
       [&]() -> Status {
         auto r = store_->list_objects("AUTH_p", "c", {});
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.get_object",
       [&]() -> Status {
         auto r = store_->get_object("AUTH_p", "c", "o");
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.put_object",
       [&]() -> Status {
         auto r = store_->put_object(object("p", 1), {});
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.update_object",
       [&] { return store_->update_object("AUTH_p", "c", "o", {}, "text/html", 0); }},
      {"store.delete_object",
       [&]() -> Status {
         auto r = store_->delete_object("AUTH_p", "c", "p", std::nullopt);
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.list_expired",
       [&]() -> Status {
         auto r = store_->list_expired(100, 10);
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.blob_referenced",
       [&]() -> Status {
         auto r = store_->blob_referenced("0123456789abcdef0123456789abcdef");
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.rows_for_blob",
       [&]() -> Status {
         auto r = store_->rows_for_blob("0123456789abcdef0123456789abcdef", 1);
         return r.ok() ? Status{} : Status(r.error());
       }},
      {"store.list_sync_containers",
       [&]() -> Status {
         auto r = store_->list_sync_containers("", "", 10);
         return r.ok() ? Status{} : Status(r.error());
       }},
  };
  for (const auto& [point, call] : calls) {
    plan(point + " EIO\n");
    Status failed = call();
    ASSERT_FALSE(failed.ok()) << point;
    EXPECT_EQ(failed.error().code, ErrorCode::kInternal) << point;
    EXPECT_NE(failed.error().message.find(point), std::string::npos) << failed.error().message;
    EXPECT_EQ(plan_->fired(point), 1u) << point;
    Status passed = call();
    EXPECT_TRUE(passed.ok()) << point << ": " << passed.error().message;
  }
}

}  // namespace
}  // namespace onestack::fault
