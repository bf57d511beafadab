// Container sync within one cluster: X-Container-Sync-To parsing with
// Swift's messages, and the sync pass over a real SQLite store (in memory)
// and the in-memory blob store.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "blob/memory/memory_blob_store.h"
#include "core/worker_pool.h"
#include "object/service/object_service.h"
#include "store/sqlite/object_store_sqlite.h"

namespace onestack::object {
namespace {

// ---- X-Container-Sync-To ----

struct SyncToCase {
  std::string value;
  std::string account;  // expected target, when valid
  std::string container;
  std::string error;  // expected message, when invalid
};

TEST(ParseSyncTo, AcceptsThisRealmAndClusterAndLocalUrlsAndRefusesOthersWithSwiftsMessages) {
  const std::vector<SyncToCase> cases = {
      {"//realm1/name1/AUTH_a/c", "AUTH_a", "c", ""},
      {"//REALM1/Name1/AUTH_a/c/", "AUTH_a", "c", ""},
      {"http://127.0.0.1:8080/v1/AUTH_b/d", "AUTH_b", "d", ""},
      {"https://[::1]:8080/v1/AUTH_b/d", "AUTH_b", "d", ""},
      {"//invalid/name1/a/c", "", "", "No realm key for 'invalid'"},
      {"//realm1/invalid/a/c", "", "", "No cluster endpoint for 'realm1' 'invalid'"},
      {"//realm1/name1/a/", "", "", "Invalid X-Container-Sync-To format '//realm1/name1/a/'"},
      {"//realm1/name1/a/c/d", "", "", "Invalid X-Container-Sync-To format '//realm1/name1/a/c/d'"},
      {"ftp://127.0.0.1/v1/a/c", "", "",
       "Invalid scheme 'ftp' in X-Container-Sync-To, must be \"//\", \"http\", or \"https\"."},
      {"http://127.0.0.1", "", "", "Path required in X-Container-Sync-To"},
      {"http://127.0.0.1/v1/a/c?x=1", "", "",
       "Params, queries, and fragments not allowed in X-Container-Sync-To"},
      {"http://10.0.0.1/v1/a/c", "", "", "Invalid host '10.0.0.1' in X-Container-Sync-To"},
  };
  ObjectConfig config;
  for (const auto& c : cases) {
    auto r = parse_sync_to(c.value, config);
    if (c.error.empty()) {
      ASSERT_TRUE(r.ok()) << c.value << ": " << r.error().message;
      EXPECT_EQ(r->account, c.account) << c.value;
      EXPECT_EQ(r->container, c.container) << c.value;
    } else {
      ASSERT_FALSE(r.ok()) << c.value;
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.value;
      EXPECT_EQ(r.error().message, c.error) << c.value;
    }
  }
}

// ---- the sync pass ----

constexpr const char* kSrcAccount = "AUTH_src";
constexpr const char* kDstAccount = "AUTH_dst";

class ContainerSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::SqliteObjectStore::open(":memory:");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    svc_ = std::make_unique<ObjectService>(*store_, blobs_, pool_, ObjectConfig{});
  }

  void make_container(const std::string& account, const std::string& name,
                      const store::Metadata& meta) {
    store::ContainerRecord c;
    c.account = account;
    c.name = name;
    c.created_us = c.put_us = 1700000000000000;
    c.meta = meta;
    ASSERT_TRUE(store_->create_container(c).ok());
  }

  // "src" syncs to "dst" with `src_key`; "dst" holds `dst_key`.
  void make_pair(const std::string& src_key, const std::string& dst_key) {
    make_container(kSrcAccount, "src",
                   {{"x-container-sync-to", "//realm1/name1/AUTH_dst/dst"},
                    {"x-container-sync-key", src_key}});
    make_container(kDstAccount, "dst", {{"x-container-sync-key", dst_key}});
  }

  void put(const std::string& account, const std::string& container, const std::string& name,
           std::string_view data, int64_t ts) {
    auto w = blobs_.create();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(data).ok());
    ASSERT_TRUE((*w)->commit().ok());
    store::ObjectRecord o;
    o.account = account;
    o.container = container;
    o.name = name;
    o.blob_id = (*w)->id();
    o.size = data.size();
    o.etag = (*w)->md5_hex();
    o.content_type = "text/x-" + name;
    o.timestamp_us = ts;
    o.meta = {{"x-object-meta-color", "blue"}};
    auto r = store_->put_object(o, {});
    ASSERT_TRUE(r.ok()) << r.error().message;
    svc_->free_blobs(r->freed_blobs);
  }

  void remove(const std::string& account, const std::string& container, const std::string& name) {
    auto r = store_->delete_object(account, container, name, std::nullopt);
    ASSERT_TRUE(r.ok()) << r.error().message;
    svc_->free_blobs(r->freed_blobs);
  }

  std::vector<store::ObjectRecord> rows(const std::string& account, const std::string& container) {
    auto r = store_->list_objects(account, container, store::ListQuery{});
    EXPECT_TRUE(r.ok());
    std::vector<store::ObjectRecord> out;
    if (r.ok()) {
      for (auto& e : *r) out.push_back(e.object);
    }
    return out;
  }

  std::string content(const store::ObjectRecord& o) {
    auto r = blobs_.open(o.blob_id);
    if (!r.ok()) return "<missing>";
    std::string buf((*r)->size(), '\0');
    auto n = (*r)->read(0, buf.data(), buf.size());
    return n.ok() ? buf.substr(0, *n) : "<unreadable>";
  }

  std::unique_ptr<store::sqlite::SqliteObjectStore> store_;
  blob::memory::MemoryBlobStore blobs_;
  WorkerPool pool_{1};
  std::unique_ptr<ObjectService> svc_;
};

TEST_F(ContainerSyncTest, CopiesRowsWithIdenticalListingEntriesAndSharedBytes) {
  make_pair("k", "k");
  put(kSrcAccount, "src", "a", "alpha", 1700000001000000);
  put(kSrcAccount, "src", "b", "beta!", 1700000002123450);

  auto res = svc_->sync_containers_once();
  EXPECT_EQ(res.containers, 1u);
  EXPECT_EQ(res.copied, 2u);

  auto src = rows(kSrcAccount, "src");
  auto dst = rows(kDstAccount, "dst");
  ASSERT_EQ(dst.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(dst[i].name, src[i].name);
    EXPECT_EQ(dst[i].etag, src[i].etag);
    EXPECT_EQ(dst[i].size, src[i].size);
    EXPECT_EQ(dst[i].content_type, src[i].content_type);
    EXPECT_EQ(dst[i].timestamp_us, src[i].timestamp_us);
    EXPECT_EQ(dst[i].blob_id, src[i].blob_id);
    EXPECT_EQ(dst[i].meta.at("x-object-meta-color"), "blue");
    EXPECT_EQ(content(dst[i]), content(src[i]));
  }
  auto c = store_->get_container(kDstAccount, "dst");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->object_count, 2u);
  EXPECT_EQ(c->bytes_used, 10u);

  // A second pass has nothing to do.
  res = svc_->sync_containers_once();
  EXPECT_EQ(res.copied, 0u);
  EXPECT_EQ(res.deleted, 0u);
}

TEST_F(ContainerSyncTest, PropagatesDeletionsButKeepsTheTargetsOwnRows) {
  make_pair("k", "k");
  put(kSrcAccount, "src", "a", "alpha", 1700000001000000);
  put(kDstAccount, "dst", "own", "mine", 1700000001000000);
  svc_->sync_containers_once();
  ASSERT_EQ(rows(kDstAccount, "dst").size(), 2u);

  const std::string shared_blob = rows(kSrcAccount, "src")[0].blob_id;
  remove(kSrcAccount, "src", "a");
  EXPECT_TRUE(blobs_.open(shared_blob).ok());  // the copy still refers to it
  auto res = svc_->sync_containers_once();
  EXPECT_EQ(res.deleted, 1u);
  auto dst = rows(kDstAccount, "dst");
  ASSERT_EQ(dst.size(), 1u);
  EXPECT_EQ(dst[0].name, "own");
  // The shared blob went with its last row.
  EXPECT_FALSE(blobs_.open(shared_blob).ok());
}

TEST_F(ContainerSyncTest, ANewerTargetRowIsNotOverwrittenAndAnOlderOneIs) {
  make_pair("k", "k");
  put(kSrcAccount, "src", "newer-in-dst", "old", 1700000001000000);
  put(kDstAccount, "dst", "newer-in-dst", "new", 1700000009000000);
  put(kSrcAccount, "src", "older-in-dst", "new", 1700000009000000);
  put(kDstAccount, "dst", "older-in-dst", "old", 1700000001000000);

  auto res = svc_->sync_containers_once();
  EXPECT_EQ(res.copied, 1u);
  auto dst = rows(kDstAccount, "dst");
  ASSERT_EQ(dst.size(), 2u);
  EXPECT_EQ(content(dst[0]), "new");
  EXPECT_EQ(dst[0].timestamp_us, 1700000009000000);
  EXPECT_EQ(content(dst[1]), "new");
  EXPECT_EQ(dst[1].timestamp_us, 1700000009000000);
}

TEST_F(ContainerSyncTest, MismatchedOrMissingKeysSyncNothing) {
  make_pair("k", "other");
  make_container(kSrcAccount, "nokey", {{"x-container-sync-to", "//realm1/name1/AUTH_dst/dst"}});
  make_container(
      kSrcAccount, "unknown-target",
      {{"x-container-sync-to", "//realm1/name1/AUTH_dst/missing"}, {"x-container-sync-key", "k"}});
  put(kSrcAccount, "src", "a", "alpha", 1700000001000000);
  put(kSrcAccount, "nokey", "a", "alpha", 1700000001000000);

  auto res = svc_->sync_containers_once();
  EXPECT_EQ(res.containers, 0u);
  EXPECT_EQ(res.copied, 0u);
  EXPECT_TRUE(rows(kDstAccount, "dst").empty());
}

TEST_F(ContainerSyncTest, TwoContainersSyncingToEachOtherConvergeAndDeletionsStick) {
  make_container(
      kSrcAccount, "src",
      {{"x-container-sync-to", "//realm1/name1/AUTH_dst/dst"}, {"x-container-sync-key", "k"}});
  make_container(kDstAccount, "dst",
                 {{"x-container-sync-to", "http://127.0.0.1:8080/v1/AUTH_src/src"},
                  {"x-container-sync-key", "k"}});
  put(kSrcAccount, "src", "from-src", "one", 1700000001000000);
  put(kDstAccount, "dst", "from-dst", "two", 1700000002000000);

  svc_->sync_containers_once();
  svc_->sync_containers_once();
  auto src = rows(kSrcAccount, "src");
  auto dst = rows(kDstAccount, "dst");
  ASSERT_EQ(src.size(), 2u);
  ASSERT_EQ(dst.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(src[i].name, dst[i].name);
    EXPECT_EQ(src[i].timestamp_us, dst[i].timestamp_us);
    EXPECT_EQ(src[i].etag, dst[i].etag);
  }

  // A deletion at either end is not undone by the copy at the other.
  remove(kSrcAccount, "src", "from-src");
  svc_->sync_containers_once();
  svc_->sync_containers_once();
  EXPECT_EQ(rows(kSrcAccount, "src").size(), 1u);
  ASSERT_EQ(rows(kDstAccount, "dst").size(), 1u);
  EXPECT_EQ(rows(kDstAccount, "dst")[0].name, "from-dst");
}

}  // namespace
}  // namespace onestack::object
