// The object service's domain half: the expiry reaper, the blob auditor,
// blob freeing and start-up recovery over a real SQLite store (in memory)
// and the in-memory blob store; Swift's time renderings; and blob_io's
// streaming (PartsBody, receive_blob) driven on an io_context.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "blob/memory/memory_blob_store.h"
#include "core/clock.h"
#include "core/worker_pool.h"
#include "object/service/blob_io.h"
#include "object/service/object_service.h"
#include "store/sqlite/object_store_sqlite.h"

namespace onestack::object {
namespace {

namespace asio = boost::asio;

constexpr const char* kAccount = "AUTH_p";
constexpr const char* kContainer = "c";
constexpr const char* kUnknownBlob = "0123456789abcdef0123456789abcdef";

template <typename T>
asio::awaitable<void> into(asio::awaitable<T> aw, std::optional<T>* out) {
  out->emplace(co_await std::move(aw));
}

// Runs `aw` to completion on a fresh io_context (the worker pool hands its
// results back to it) and returns its result. (co_spawn itself wants a
// default-constructible result; Result<T> is not.)
template <typename T>
T run(asio::awaitable<T> aw) {
  asio::io_context io;
  std::optional<T> out;
  asio::co_spawn(io, into(std::move(aw), &out), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  EXPECT_TRUE(out.has_value());
  return std::move(*out);
}

// Every ObjectStore call goes to `inner`; list_expired() can also re-PUT
// the first row it returns with a later delete_at, as a client racing the
// reaper would.
class RacingStore final : public store::ObjectStore {
 public:
  explicit RacingStore(store::ObjectStore& inner) : inner_(inner) {}
  int64_t re_put_delete_at = 0;  // 0: no race

  Result<store::AccountRecord> get_account(const std::string& a) override {
    return inner_.get_account(a);
  }
  Status ensure_account(const std::string& a, int64_t now) override {
    return inner_.ensure_account(a, now);
  }
  Status update_account_meta(const std::string& a, const store::Metadata& m, int64_t now) override {
    return inner_.update_account_meta(a, m, now);
  }
  Result<std::vector<store::ContainerListEntry>> list_containers(
      const std::string& a, const store::ListQuery& q) override {
    return inner_.list_containers(a, q);
  }
  Result<bool> create_container(const store::ContainerRecord& c) override {
    return inner_.create_container(c);
  }
  Result<store::ContainerRecord> get_container(const std::string& a,
                                               const std::string& c) override {
    return inner_.get_container(a, c);
  }
  Status update_container_meta(const std::string& a, const std::string& c, const store::Metadata& m,
                               std::optional<int64_t> put_us) override {
    return inner_.update_container_meta(a, c, m, put_us);
  }
  Status delete_container(const std::string& a, const std::string& c) override {
    return inner_.delete_container(a, c);
  }
  Result<std::vector<store::ObjectListEntry>> list_objects(const std::string& a,
                                                           const std::string& c,
                                                           const store::ListQuery& q) override {
    return inner_.list_objects(a, c, q);
  }
  Status scan_objects(const std::string& a, const std::string& c, const store::ListQuery& q,
                      const store::ObjectRowVisitor& visit) override {
    return inner_.scan_objects(a, c, q, visit);
  }
  Result<store::ObjectRecord> get_object(const std::string& a, const std::string& c,
                                         const std::string& n) override {
    return inner_.get_object(a, c, n);
  }
  Result<store::PutObjectResult> put_object(const store::ObjectRecord& o,
                                            const store::PutConditions& cond) override {
    return inner_.put_object(o, cond);
  }
  Status update_object(const std::string& a, const std::string& c, const std::string& n,
                       const store::Metadata& m, const std::string& ct,
                       int64_t delete_at) override {
    return inner_.update_object(a, c, n, m, ct, delete_at);
  }
  Result<store::DeleteObjectResult> delete_object(const std::string& a, const std::string& c,
                                                  const std::string& n,
                                                  std::optional<int64_t> only_if) override {
    return inner_.delete_object(a, c, n, only_if);
  }
  Result<std::vector<store::ObjectRecord>> list_expired(int64_t now, size_t limit) override {
    auto rows = inner_.list_expired(now, limit);
    if (rows.ok() && !rows->empty() && re_put_delete_at != 0) {
      store::ObjectRecord again = rows->front();
      again.delete_at = re_put_delete_at;
      re_put_delete_at = 0;
      EXPECT_TRUE(inner_.put_object(again, {}).ok());
    }
    return rows;
  }
  Result<bool> blob_referenced(const std::string& id) override {
    return inner_.blob_referenced(id);
  }
  Result<std::vector<store::ObjectRecord>> rows_for_blob(const std::string& id,
                                                         size_t limit) override {
    return inner_.rows_for_blob(id, limit);
  }

 private:
  store::ObjectStore& inner_;
};

// A blob store whose recover() answers what the test says; everything else
// is a MemoryBlobStore.
class RecoveringBlobs final : public blob::BlobStore {
 public:
  Result<size_t> recover_result = size_t{0};
  int recover_calls = 0;

  Result<std::unique_ptr<blob::BlobWriter>> create() override { return inner_.create(); }
  Result<std::unique_ptr<blob::BlobReader>> open(std::string_view id) override {
    return inner_.open(id);
  }
  Status remove(std::string_view id) override { return inner_.remove(id); }
  Status quarantine(std::string_view id) override { return inner_.quarantine(id); }
  Result<size_t> recover() override {
    ++recover_calls;
    return recover_result;
  }
  Status for_each(const std::function<bool(const blob::BlobInfo&)>& fn) override {
    return inner_.for_each(fn);
  }

 private:
  blob::memory::MemoryBlobStore inner_;
};

class ObjectServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::SqliteObjectStore::open(":memory:");
    ASSERT_TRUE(store.ok()) << store.error().message;
    sqlite_ = std::move(store).value();
    racing_ = std::make_unique<RacingStore>(*sqlite_);
    ObjectConfig config;
    config.orphan_grace_s = 300;
    config.auditor_files_per_second = 0;  // unpaced (AuditorIsPacedAndStopsMidPass paces)
    config.auditor_bytes_per_second = 0;
    svc_ = std::make_unique<ObjectService>(*racing_, blobs_, pool_, config);
    store::ContainerRecord c;
    c.account = kAccount;
    c.name = kContainer;
    c.created_us = c.put_us = 1700000000000000;
    ASSERT_TRUE(sqlite_->create_container(c).ok());
  }

  std::string write_blob(std::string_view data) {
    auto w = blobs_.create();
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE((*w)->write(data).ok());
    EXPECT_TRUE((*w)->commit().ok());
    return (*w)->id();
  }

  bool blob_exists(const std::string& id) { return blobs_.open(id).ok(); }

  // Commits a row for `name` pointing at `blob_id`, with the given size and
  // etag (a row that matches its blob unless the test says otherwise).
  void put_row(const std::string& name, const std::string& blob_id, uint64_t size,
               const std::string& etag, int64_t delete_at = 0, bool shared = false) {
    store::ObjectRecord o;
    o.account = kAccount;
    o.container = kContainer;
    o.name = name;
    o.blob_id = blob_id;
    o.size = size;
    o.etag = etag;
    o.content_type = "application/octet-stream";
    o.timestamp_us = 1700000000000000;
    o.delete_at = delete_at;
    store::PutConditions cond;
    cond.blob_shared = shared;
    auto r = sqlite_->put_object(o, cond);
    ASSERT_TRUE(r.ok()) << r.error().message;
    svc_->free_blobs(r->freed_blobs);
  }

  // A row that matches its new blob holding `data`; returns the blob id.
  std::string put_object(const std::string& name, std::string_view data, int64_t delete_at = 0) {
    std::string id = write_blob(data);
    put_row(name, id, data.size(), md5_hex(data), delete_at);
    return id;
  }

  bool row_exists(const std::string& name) {
    return sqlite_->get_object(kAccount, kContainer, name).ok();
  }

  std::unique_ptr<store::sqlite::SqliteObjectStore> sqlite_;
  std::unique_ptr<RacingStore> racing_;
  blob::memory::MemoryBlobStore blobs_;
  WorkerPool pool_{2};
  std::unique_ptr<ObjectService> svc_;
};

// ---- expiry reaper ----

TEST_F(ObjectServiceTest, ReaperRemovesExpiredRowsAndFreesTheirBlobs) {
  std::string b1 = put_object("expires-100", "one", 100);
  std::string b2 = put_object("expires-200", "two", 200);
  std::string b3 = put_object("forever", "three");
  EXPECT_EQ(svc_->reap_expired_once(150), 1u);
  EXPECT_FALSE(row_exists("expires-100"));
  EXPECT_FALSE(blob_exists(b1));
  EXPECT_TRUE(row_exists("expires-200"));
  EXPECT_TRUE(blob_exists(b2));
  EXPECT_TRUE(row_exists("forever"));
  EXPECT_TRUE(blob_exists(b3));

  EXPECT_EQ(svc_->reap_expired_once(150), 0u);
  // delete_at is inclusive: an object expires at its second.
  EXPECT_EQ(svc_->reap_expired_once(200), 1u);
  EXPECT_FALSE(row_exists("expires-200"));
  EXPECT_FALSE(blob_exists(b2));
  EXPECT_EQ(svc_->reap_expired_once(2000000000), 0u);
  EXPECT_TRUE(row_exists("forever"));
  EXPECT_EQ(blobs_.blob_count(), 1u);
}

TEST_F(ObjectServiceTest, ReaperWorksThroughMoreRowsThanOneBatch) {
  for (int i = 0; i < 300; ++i) put_object("o" + std::to_string(i), "x", 100 + i % 7);
  put_object("later", "y", 5000);
  EXPECT_EQ(svc_->reap_expired_once(1000), 300u);
  EXPECT_TRUE(row_exists("later"));
  EXPECT_EQ(blobs_.blob_count(), 1u);
}

TEST_F(ObjectServiceTest, ReaperKeepsARowReputWithAnotherDeleteAt) {
  std::string b = put_object("o", "data", 100);
  // Between the reaper's listing and its delete the object is PUT again,
  // now expiring later: the scheduled expiry no longer applies.
  racing_->re_put_delete_at = 900;
  EXPECT_EQ(svc_->reap_expired_once(150), 0u);
  auto row = sqlite_->get_object(kAccount, kContainer, "o");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->delete_at, 900);
  EXPECT_TRUE(blob_exists(b));
  EXPECT_EQ(svc_->reap_expired_once(900), 1u);
  EXPECT_FALSE(blob_exists(b));
}

TEST_F(ObjectServiceTest, ReaperKeepsABlobAnotherRowStillUses) {
  std::string b = put_object("expiring", "shared bytes", 100);
  put_row("copy", b, 12, md5_hex("shared bytes"), 0, /*shared=*/true);
  EXPECT_EQ(svc_->reap_expired_once(150), 1u);
  EXPECT_FALSE(row_exists("expiring"));
  EXPECT_TRUE(row_exists("copy"));
  EXPECT_TRUE(blob_exists(b));
}

// ---- auditor ----

TEST_F(ObjectServiceTest, AuditorLeavesBlobsThatMatchTheirRows) {
  put_object("a", "hello");
  put_object("b", std::string(3 << 20, 'z'));  // read in several pieces
  auto r = svc_->audit_once(static_cast<int64_t>(std::time(nullptr)));
  EXPECT_EQ(r.checked, 2u);
  EXPECT_EQ(r.quarantined, 0u);
  EXPECT_EQ(r.orphans_removed, 0u);
  EXPECT_EQ(blobs_.quarantined_count(), 0u);
}

TEST_F(ObjectServiceTest, AuditorQuarantinesABlobWhoseBytesDoNotMatchTheRowsEtag) {
  std::string good = put_object("good", "hello");
  std::string bad = write_blob("hello");
  put_row("bad", bad, 5, md5_hex("HELLO"));
  auto r = svc_->audit_once(static_cast<int64_t>(std::time(nullptr)));
  EXPECT_EQ(r.checked, 2u);
  EXPECT_EQ(r.quarantined, 1u);
  EXPECT_EQ(blobs_.quarantined_count(), 1u);
  EXPECT_FALSE(blob_exists(bad));
  EXPECT_TRUE(blob_exists(good));
  // The row stays for an operator; a read of it will fail rather than serve bad bytes.
  EXPECT_TRUE(row_exists("bad"));
}

TEST_F(ObjectServiceTest, AuditorQuarantinesABlobWhoseSizeDoesNotMatchTheRow) {
  std::string bad = write_blob("hello");
  put_row("short", bad, 6, md5_hex("hello"));
  auto r = svc_->audit_once(static_cast<int64_t>(std::time(nullptr)));
  EXPECT_EQ(r.quarantined, 1u);
  EXPECT_FALSE(blob_exists(bad));
}

TEST_F(ObjectServiceTest, AuditorChecksOnlyTheSizeWhenTheEtagIsNotAnMd5) {
  std::string b = write_blob("hello");
  put_row("odd-etag", b, 5, "not-an-md5");
  auto r = svc_->audit_once(static_cast<int64_t>(std::time(nullptr)));
  EXPECT_EQ(r.checked, 1u);
  EXPECT_EQ(r.quarantined, 0u);
  EXPECT_TRUE(blob_exists(b));
}

TEST_F(ObjectServiceTest, AuditorIsPacedByItsClockAndStopsMidPass) {
  for (int i = 0; i < 5; ++i) put_object("paced-" + std::to_string(i), "bytes");
  ObjectConfig config;
  config.auditor_files_per_second = 1;  // blob n is due n seconds in
  FakeClock clock;
  ObjectService paced(*racing_, blobs_, pool_, config, clock);
  ObjectService::AuditResult r;
  std::thread auditor([&] { r = paced.audit_once(clock.now_unix()); });
  // The first blob is due at once; the auditor then waits for the second.
  EXPECT_TRUE(clock.await_sleepers(1));
  clock.advance(std::chrono::seconds(1));
  EXPECT_TRUE(clock.await_sleepers(1));  // the second checked, waiting for the third
  paced.stop();  // wakes the auditor out of its wait (also after a failed wait above)
  auditor.join();
  EXPECT_EQ(r.checked, 2u);  // unpaced, or deaf to stop(), it would check all five
}

TEST_F(ObjectServiceTest, AuditorRemovesOnlyUnreferencedBlobsOlderThanTheGracePeriod) {
  std::string kept = put_object("kept", "row bytes");
  std::string orphan = write_blob("nobody refers to me");
  int64_t now = static_cast<int64_t>(std::time(nullptr));

  // Young: it may belong to a PUT whose row is not committed yet.
  auto young = svc_->audit_once(now);
  EXPECT_EQ(young.checked, 2u);
  EXPECT_EQ(young.orphans_removed, 0u);
  EXPECT_TRUE(blob_exists(orphan));
  young = svc_->audit_once(now + 299);
  EXPECT_EQ(young.orphans_removed, 0u);
  EXPECT_TRUE(blob_exists(orphan));

  auto old = svc_->audit_once(now + 302);
  EXPECT_EQ(old.orphans_removed, 1u);
  EXPECT_EQ(old.quarantined, 0u);
  EXPECT_FALSE(blob_exists(orphan));
  EXPECT_TRUE(blob_exists(kept));
  EXPECT_EQ(blobs_.quarantined_count(), 0u);
}

// ---- freeing and recovery ----

TEST_F(ObjectServiceTest, FreeBlobsRemovesTheListedBlobsAndToleratesOddIds) {
  std::string a = write_blob("a");
  std::string b = write_blob("b");
  std::string c = write_blob("c");
  svc_->free_blobs({a, "", kUnknownBlob, "../not-an-id", c});
  EXPECT_FALSE(blob_exists(a));
  EXPECT_TRUE(blob_exists(b));
  EXPECT_FALSE(blob_exists(c));
  svc_->free_blobs({});
  svc_->free_blobs({a});  // already gone
  EXPECT_EQ(blobs_.blob_count(), 1u);
}

TEST(ObjectServiceRecover, AsksTheBlobStoreToRecoverAndPassesOnItsError) {
  auto db = store::sqlite::SqliteObjectStore::open(":memory:");
  ASSERT_TRUE(db.ok());
  RecoveringBlobs blobs;
  WorkerPool pool(2);
  ObjectService svc(**db, blobs, pool, ObjectConfig{});
  EXPECT_TRUE(svc.recover().ok());
  blobs.recover_result = size_t{3};
  EXPECT_TRUE(svc.recover().ok());
  blobs.recover_result = make_error(ErrorCode::kInternal, "cannot list tmp/");
  Status st = svc.recover();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  EXPECT_EQ(st.error().message, "cannot list tmp/");
  EXPECT_EQ(blobs.recover_calls, 3);
}

TEST_F(ObjectServiceTest, StartAndStopAreIdempotent) {
  svc_->start();
  svc_->start();
  svc_->stop();
  svc_->stop();
  svc_->start();
  // The destructor stops a running service.
}

// ---- time renderings ----

TEST(FormatTimestamp, KeepsFiveDecimalsAsSwiftsXTimestamp) {
  EXPECT_EQ(format_timestamp(1700000000123456), "1700000000.12345");
  EXPECT_EQ(format_timestamp(1700000000000009), "1700000000.00000");
  EXPECT_EQ(format_timestamp(1700000000999999), "1700000000.99999");
  EXPECT_EQ(format_timestamp(5), "0.00000");
  EXPECT_EQ(format_timestamp(0), "0.00000");
}

TEST(HttpDate, RendersImfFixdate) {
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(1700000000), "Tue, 14 Nov 2023 22:13:20 GMT");
}

TEST(ParseHttpDate, ReadsTheThreeRfc7231Forms) {
  for (const char* s : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                        "Sun Nov  6 08:49:37 1994", "Sun Nov 6 08:49:37 1994"}) {
    auto t = parse_http_date(s);
    ASSERT_TRUE(t.has_value()) << s;
    EXPECT_EQ(*t, 784111777) << s;
  }
}

TEST(ParseHttpDate, RoundTripsWhatHttpDateWrites) {
  for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{1700000000}, int64_t{4102444799}}) {
    auto back = parse_http_date(http_date(t));
    ASSERT_TRUE(back.has_value()) << t;
    EXPECT_EQ(*back, t);
  }
}

TEST(ParseHttpDate, RejectsAnythingElse) {
  for (const char* s : {"", "now", "1700000000", "2023-11-14T22:13:20Z", "Sun, 06 Nov 1994",
                        "Sun, 06 Nov 1994 08:49:37 GMT trailing", "Sun, 06 Nov 1994 08:49:37 PST",
                        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT"}) {
    EXPECT_FALSE(parse_http_date(s).has_value()) << s;
  }
}

TEST(IsoTimestamp, RendersListingLastModifiedWithTenMicrosecondResolution) {
  EXPECT_EQ(iso_timestamp(1700000000123456), "2023-11-14T22:13:20.123450");
  EXPECT_EQ(iso_timestamp(1700000000000009), "2023-11-14T22:13:20.000000");
  EXPECT_EQ(iso_timestamp(0), "1970-01-01T00:00:00.000000");
}

TEST(LastModifiedSeconds, RoundsUpToWholeSeconds) {
  EXPECT_EQ(last_modified_seconds(1700000000000000), 1700000000);
  EXPECT_EQ(last_modified_seconds(1700000000000001), 1700000001);
  EXPECT_EQ(last_modified_seconds(1700000000999999), 1700000001);
  EXPECT_EQ(last_modified_seconds(0), 0);
}

// ---- blob_io ----

struct Drained {
  std::string bytes;
  size_t pieces = 0;
  size_t largest = 0;
};

asio::awaitable<Result<Drained>> drain(PartsBody& body) {
  Drained out;
  for (;;) {
    auto piece = co_await body.next();
    if (!piece.ok()) co_return piece.error();
    if (piece->end) break;
    EXPECT_EQ(piece->fd, -1);  // the memory backend has no descriptors
    out.bytes.append(piece->data);
    out.largest = std::max(out.largest, piece->data.size());
    ++out.pieces;
  }
  co_return out;
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

TEST_F(ObjectServiceTest, PartsBodyProducesTextAndBlobRangesInOrder) {
  const std::string big = pattern(600 * 1024);
  const std::string small = "0123456789";
  std::string big_id = write_blob(big);
  std::string small_id = write_blob(small);
  std::vector<Part> parts(8);
  parts[0].text = "head\r\n";
  parts[1].blob_id = big_id, parts[1].offset = 1000, parts[1].length = 300000;
  parts[2].text = "";  // skipped
  parts[3].text = "--sep\r\n";
  parts[4].blob_id = small_id, parts[4].offset = 2, parts[4].length = 5;
  parts[5].blob_id = big_id, parts[5].offset = 0, parts[5].length = big.size();
  parts[6].blob_id = small_id, parts[6].offset = 9, parts[6].length = 0;  // nothing
  parts[7].text = "tail";
  const std::string want =
      "head\r\n" + big.substr(1000, 300000) + "--sep\r\n" + small.substr(2, 5) + big + "tail";
  PartsBody body(*svc_, parts);
  ASSERT_TRUE(body.size().has_value());
  EXPECT_EQ(*body.size(), want.size());
  auto got = run(drain(body));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->bytes.size(), want.size());
  EXPECT_TRUE(got->bytes == want);
  EXPECT_LE(got->largest, 256u * 1024);
  EXPECT_GT(got->pieces, 6u);
  // Once ended it stays ended.
  auto again = run(drain(body));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes, "");
}

TEST_F(ObjectServiceTest, PartsBodyOfTextOnlyNeedsNoBlobs) {
  std::vector<Part> parts(3);
  parts[0].text = "a";
  parts[2].text = "bc";
  PartsBody body(*svc_, parts);
  EXPECT_EQ(*body.size(), 3u);
  auto got = run(drain(body));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->bytes, "abc");
  PartsBody empty(*svc_, {});
  EXPECT_EQ(*empty.size(), 0u);
  auto none = run(drain(empty));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->pieces, 0u);
}

TEST_F(ObjectServiceTest, PartsBodyFailsWhenABlobIsGone) {
  std::vector<Part> parts(2);
  parts[0].text = "before";
  parts[1].blob_id = kUnknownBlob, parts[1].length = 4;
  PartsBody body(*svc_, parts);
  auto got = run(drain(body));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
}

TEST_F(ObjectServiceTest, PartsBodyFailsWhenABlobIsShorterThanItsPart) {
  std::string id = write_blob("0123456789");
  std::vector<Part> parts(1);
  parts[0].blob_id = id, parts[0].offset = 8, parts[0].length = 5;
  PartsBody body(*svc_, parts);
  auto got = run(drain(body));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kInternal);
}

TEST_F(ObjectServiceTest, PartsBodyReadsThroughASharedReaderEvenAfterTheBlobIsRemoved) {
  std::string id = write_blob("shared reader bytes");
  std::string other = write_blob("other");
  auto opened = blobs_.open(id);
  ASSERT_TRUE(opened.ok());
  std::shared_ptr<blob::BlobReader> reader = std::move(opened).value();
  ASSERT_TRUE(blobs_.remove(id).ok());

  std::vector<Part> parts(4);
  parts[0].blob_id = id, parts[0].offset = 0, parts[0].length = 6;
  parts[1].text = "|";
  parts[2].blob_id = other, parts[2].offset = 0, parts[2].length = 5;
  parts[3].blob_id = id, parts[3].offset = 7, parts[3].length = 12;
  {
    // Without the shared reader the removed blob cannot be opened.
    PartsBody body(*svc_, parts);
    auto got = run(drain(body));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  }
  PartsBody body(*svc_, parts);
  body.share_reader(id, reader);
  EXPECT_EQ(*body.size(), 6u + 1 + 5 + 12);
  auto got = run(drain(body));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->bytes, "shared|otherreader bytes");
}

// A request body handed over in pieces of at most `piece` bytes.
class FakeBody final : public http::BodyReader {
 public:
  FakeBody(std::string data, size_t piece, bool declare_length)
      : data_(std::move(data)), piece_(piece), declare_length_(declare_length) {}
  std::optional<Error> fail_after;  // once half the body is read

  asio::awaitable<Result<size_t>> read(char* buf, size_t len) override {
    if (fail_after && pos_ >= data_.size() / 2) co_return *fail_after;
    size_t n = std::min({len, piece_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }
  std::optional<uint64_t> content_length() const override {
    if (!declare_length_) return std::nullopt;
    return data_.size();
  }
  bool done() const override { return pos_ == data_.size(); }

 private:
  std::string data_;
  size_t piece_;
  bool declare_length_;
  size_t pos_ = 0;
};

asio::awaitable<Result<ReceivedBlob>> receive(ObjectService& svc, FakeBody& body,
                                              uint64_t max_size) {
  co_return co_await receive_blob(svc, body, max_size);
}

TEST_F(ObjectServiceTest, ReceiveBlobStoresTheWholeBodyWithItsMd5) {
  for (bool chunked : {false, true}) {
    const std::string data = pattern((2 << 20) + 12345);
    FakeBody body(data, 64 * 1024, !chunked);
    auto got = run(receive(*svc_, body, 5 << 20));
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got->size, data.size());
    EXPECT_EQ(got->md5, md5_hex(data));
    auto back = read_blob(blobs_, got->blob_id, 8 << 20);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(*back == data);
  }
}

TEST_F(ObjectServiceTest, ReceiveBlobKeepsNoBlobForAnEmptyBody) {
  FakeBody body("", 10, true);
  auto got = run(receive(*svc_, body, 100));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->blob_id, "");
  EXPECT_EQ(got->size, 0u);
  EXPECT_EQ(got->md5, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(blobs_.blob_count(), 0u);
}

TEST_F(ObjectServiceTest, ReceiveBlobRefusesBodiesOverTheLimitAndKeepsNothing) {
  FakeBody declared(std::string(200, 'x'), 50, true);
  auto got = run(receive(*svc_, declared, 100));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kTooLarge);
  // Without a Content-Length the limit is found while reading, also past
  // the first buffered chunk.
  FakeBody chunked(pattern(3 << 20), 256 * 1024, false);
  got = run(receive(*svc_, chunked, (3 << 20) - 1));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(blobs_.blob_count(), 0u);
  // Exactly the limit is fine.
  FakeBody exact(std::string(100, 'x'), 7, false);
  EXPECT_TRUE(run(receive(*svc_, exact, 100)).ok());
}

TEST_F(ObjectServiceTest, ReceiveBlobPassesOnAReadErrorAndKeepsNothing) {
  FakeBody body(pattern(3 << 20), 128 * 1024, true);
  body.fail_after = make_error(ErrorCode::kUnavailable, "client went away");
  auto got = run(receive(*svc_, body, 10 << 20));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(blobs_.blob_count(), 0u);
}

asio::awaitable<Result<ReceivedBlob>> store_all(ObjectService& svc, std::string data) {
  co_return co_await store_bytes(svc, std::move(data));
}

TEST_F(ObjectServiceTest, StoreBytesAndReadBlobRoundTrip) {
  auto got = run(store_all(*svc_, "abc"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size, 3u);
  EXPECT_EQ(got->md5, "900150983cd24fb0d6963f7d28e17f72");
  auto back = read_blob(blobs_, got->blob_id, 3);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "abc");
  auto too_big = read_blob(blobs_, got->blob_id, 2);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, ErrorCode::kTooLarge);
  auto empty = run(store_all(*svc_, ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->blob_id, "");
  auto none = read_blob(blobs_, "", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
  auto missing = read_blob(blobs_, kUnknownBlob, 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace onestack::object
