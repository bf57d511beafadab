// The read cache: what it keeps, what a write drops, that a row read before
// a write is never kept after it, and its byte bound.
#include "object/service/read_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/sqlite/object_store_sqlite.h"

namespace onestack::object {
namespace {

store::ObjectRecord object_row(const std::string& name, const std::string& etag) {
  store::ObjectRecord o;
  o.account = "AUTH_p";
  o.container = "c";
  o.name = name;
  o.etag = etag;
  o.size = 1;
  o.timestamp_us = 1700000000000000;
  return o;
}

TEST(ReadCache, KeepsRowsAndBytesUntilAWriteDropsThem) {
  ReadCache cache(1 << 20);
  store::AccountRecord a;
  a.name = "AUTH_p";
  store::ContainerRecord c;
  c.account = "AUTH_p";
  c.name = "c";
  c.object_count = 3;
  const uint64_t gen = cache.generation();
  cache.put_account(gen, a);
  cache.put_container(gen, c);
  cache.put_object(gen, object_row("o", "e1"));
  cache.put_body("b1", std::make_shared<const std::string>("bytes"));

  ASSERT_TRUE(cache.account("AUTH_p"));
  ASSERT_TRUE(cache.container("AUTH_p", "c"));
  EXPECT_EQ(cache.container("AUTH_p", "c")->object_count, 3u);
  ASSERT_TRUE(cache.object("AUTH_p", "c", "o"));
  EXPECT_EQ(cache.object("AUTH_p", "c", "o")->etag, "e1");
  ASSERT_NE(cache.body("b1"), nullptr);
  EXPECT_EQ(*cache.body("b1"), "bytes");
  // Names that only differ where the key joins them do not collide.
  EXPECT_FALSE(cache.object("AUTH_p", std::string("c\0o", 3), ""));
  EXPECT_FALSE(cache.container("AUTH_pc", ""));

  cache.invalidate_object("AUTH_p", "c", "o");
  EXPECT_FALSE(cache.object("AUTH_p", "c", "o"));
  EXPECT_TRUE(cache.container("AUTH_p", "c"));
  cache.invalidate_container("AUTH_p", "c");
  EXPECT_FALSE(cache.container("AUTH_p", "c"));
  cache.invalidate_account("AUTH_p");
  EXPECT_FALSE(cache.account("AUTH_p"));
  EXPECT_NE(cache.body("b1"), nullptr);  // immutable bytes stay
}

TEST(ReadCache, ARowReadBeforeAWriteIsNotKeptAfterIt) {
  ReadCache cache(1 << 20);
  const uint64_t before = cache.generation();
  // A write commits and invalidates while a reader still holds the old row.
  cache.invalidate_object("AUTH_p", "c", "o");
  cache.put_object(before, object_row("o", "old"));
  EXPECT_FALSE(cache.object("AUTH_p", "c", "o"));
  cache.put_object(cache.generation(), object_row("o", "new"));
  ASSERT_TRUE(cache.object("AUTH_p", "c", "o"));
  EXPECT_EQ(cache.object("AUTH_p", "c", "o")->etag, "new");
}

TEST(ReadCache, CountsChangedKeepsSettingsButNotCounts) {
  ReadCache cache(1 << 20);
  store::ContainerRecord c;
  c.account = "AUTH_p";
  c.name = "c";
  c.object_count = 3;
  c.meta["x-container-read"] = ".r:*";
  store::AccountRecord a;
  a.name = "AUTH_p";
  const uint64_t before = cache.generation();
  cache.put_container(before, c);
  cache.put_account(before, a);
  cache.counts_changed("AUTH_p", "c");
  EXPECT_FALSE(cache.container("AUTH_p", "c"));  // counts wanted: a miss
  EXPECT_FALSE(cache.account("AUTH_p"));
  ASSERT_TRUE(cache.container_settings("AUTH_p", "c"));
  EXPECT_EQ(cache.container_settings("AUTH_p", "c")->meta.at("x-container-read"), ".r:*");
  ASSERT_TRUE(cache.account_settings("AUTH_p"));
  // A row read before the write is not kept; one read after replaces the
  // stale entry and serves counts again.
  cache.put_container(before, c);
  EXPECT_FALSE(cache.container("AUTH_p", "c"));
  c.object_count = 4;
  cache.put_container(cache.generation(), c);
  ASSERT_TRUE(cache.container("AUTH_p", "c"));
  EXPECT_EQ(cache.container("AUTH_p", "c")->object_count, 4u);
}

TEST(ReadCache, StaysWithinItsBytesDroppingTheLeastRecentlyUsed) {
  ReadCache cache(64 * 1024);
  for (int i = 0; i < 40; ++i) {
    cache.put_body("b" + std::to_string(i), std::make_shared<const std::string>(4000, 'x'));
    if (i >= 1) (void)cache.body("b0");  // keep b0 recently used
  }
  EXPECT_LE(cache.bytes(), 64u * 1024);
  EXPECT_NE(cache.body("b0"), nullptr);
  EXPECT_EQ(cache.body("b1"), nullptr);   // oldest unused: gone
  EXPECT_NE(cache.body("b39"), nullptr);  // newest: kept
  // One entry larger than an eighth of the cache is never kept.
  cache.put_body("huge", std::make_shared<const std::string>(9000, 'y'));
  EXPECT_EQ(cache.body("huge"), nullptr);
}

TEST(ReadCache, ZeroBytesKeepsNothing) {
  ReadCache cache(0);
  cache.put_object(cache.generation(), object_row("o", "e"));
  cache.put_body("b", std::make_shared<const std::string>("x"));
  EXPECT_FALSE(cache.object("AUTH_p", "c", "o"));
  EXPECT_EQ(cache.body("b"), nullptr);
}

// Each write through CachedObjectStore drops the rows it changed: the
// object, and the counts of its container and account.
TEST(CachedObjectStore, WritesDropWhatTheyChange) {
  auto opened = store::sqlite::SqliteObjectStore::open(":memory:");
  ASSERT_TRUE(opened.ok());
  auto& inner = **opened;
  ReadCache cache(1 << 20);
  CachedObjectStore store(inner, cache);
  store::ContainerRecord c;
  c.account = "AUTH_p";
  c.name = "c";
  ASSERT_TRUE(store.create_container(c).ok());

  auto fill = [&] {
    const uint64_t gen = cache.generation();
    cache.put_account(gen, *inner.get_account("AUTH_p"));
    cache.put_container(gen, *inner.get_container("AUTH_p", "c"));
    if (auto o = inner.get_object("AUTH_p", "c", "o"); o.ok()) cache.put_object(gen, *o);
  };
  auto all_dropped = [&] {
    return !cache.account("AUTH_p") && !cache.container("AUTH_p", "c") &&
           !cache.object("AUTH_p", "c", "o");
  };

  fill();
  ASSERT_TRUE(store.put_object(object_row("o", "e1"), {}).ok());
  EXPECT_TRUE(all_dropped());
  // The settings of the container and account stay: a put changes only
  // their counts.
  ASSERT_TRUE(cache.container_settings("AUTH_p", "c"));
  ASSERT_TRUE(cache.account_settings("AUTH_p"));
  EXPECT_EQ(cache.container_settings("AUTH_p", "c")->object_count, 0u);  // as read, stale

  fill();
  ASSERT_TRUE(cache.object("AUTH_p", "c", "o"));
  ASSERT_TRUE(
      store.update_object("AUTH_p", "c", "o", {{"x-object-meta-k", "v"}}, "text/plain", 0).ok());
  EXPECT_FALSE(cache.object("AUTH_p", "c", "o"));

  fill();
  ASSERT_TRUE(
      store.update_container_meta("AUTH_p", "c", {{"x-container-meta-k", "v"}}, std::nullopt).ok());
  EXPECT_FALSE(cache.container("AUTH_p", "c"));
  EXPECT_FALSE(cache.container_settings("AUTH_p", "c"));

  fill();
  ASSERT_TRUE(store.update_account_meta("AUTH_p", {{"x-account-meta-k", "v"}}, 1).ok());
  EXPECT_FALSE(cache.account("AUTH_p"));
  EXPECT_FALSE(cache.account_settings("AUTH_p"));

  fill();
  ASSERT_TRUE(store.delete_object("AUTH_p", "c", "o", std::nullopt).ok());
  EXPECT_TRUE(all_dropped());
  EXPECT_TRUE(cache.container_settings("AUTH_p", "c"));

  // A failed put drops the settings too (nothing is assumed of it).
  fill();
  store::PutConditions must_be_new;
  must_be_new.if_none_match = true;
  ASSERT_TRUE(store.put_object(object_row("o", "e2"), {}).ok());
  fill();
  EXPECT_FALSE(store.put_object(object_row("o", "e3"), must_be_new).ok());
  EXPECT_FALSE(cache.container_settings("AUTH_p", "c"));
  EXPECT_FALSE(cache.account_settings("AUTH_p"));
  ASSERT_TRUE(store.delete_object("AUTH_p", "c", "o", std::nullopt).ok());

  fill();
  ASSERT_TRUE(store.delete_container("AUTH_p", "c").ok());
  EXPECT_FALSE(cache.container("AUTH_p", "c"));
  EXPECT_FALSE(cache.account("AUTH_p"));
}

}  // namespace
}  // namespace onestack::object
