// What the tiered store adds to the BlobStore contract (which it passes as
// one of the contract suite's backends): where each blob lives, the move
// to the large store at the size bound, durability of the rows, and
// failures of the table.
#include "blob/tiered/tiered_blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "blob/fs/fs_blob_store.h"
#include "blob_test_util.h"
#include "store/sqlite/object_store_sqlite.h"
#include "unit/store/temp_dir.h"

namespace onestack::blob::tiered {
namespace {

using store::sqlite::SqliteObjectStore;
using store::testing::TempDir;
using testing::md5_of;
using testing::pattern_bytes;
using testing::read_all;

constexpr size_t kInlineMax = 4096;

class TieredBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    auto rows = SqliteObjectStore::open(dir_.file("objects.db"));
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    rows_ = std::move(*rows);
    auto files = fs::FsBlobStore::open_dir(dir_.file("blobs"));
    ASSERT_TRUE(files.ok()) << files.error().message;
    files_ = files->get();
    store_ = std::make_unique<TieredBlobStore>(rows_, std::move(*files), kInlineMax);
  }

  // Writes `data` in pieces of `piece` bytes, commits, returns the id.
  std::string put(const std::string& data, size_t piece = 1000) {
    auto w = store_->create();
    EXPECT_TRUE(w.ok());
    if (!w.ok()) return "";
    for (size_t at = 0; at < data.size(); at += piece) {
      EXPECT_TRUE((*w)->write(std::string_view(data).substr(at, piece)).ok());
    }
    EXPECT_TRUE((*w)->commit().ok());
    EXPECT_EQ((*w)->size(), data.size());
    EXPECT_EQ((*w)->md5_hex(), md5_of(data));
    return (*w)->id();
  }

  bool is_row(const std::string& id) {
    auto r = rows_->get_small_blob(id);
    return r.ok() && *r != nullptr;
  }
  bool is_file(const std::string& id) { return std::filesystem::exists(files_->object_path(id)); }

  TempDir dir_;
  std::shared_ptr<SqliteObjectStore> rows_;
  fs::FsBlobStore* files_ = nullptr;  // owned by store_
  std::unique_ptr<TieredBlobStore> store_;
};

TEST_F(TieredBlobStoreTest, BlobsUpToTheBoundAreRowsAndLargerOnesFiles) {
  const std::string small = pattern_bytes(kInlineMax);
  const std::string large = pattern_bytes(kInlineMax + 1);
  const std::string a = put(small);
  const std::string b = put(large);
  const std::string empty = put("");
  EXPECT_TRUE(is_row(a));
  EXPECT_FALSE(is_file(a));
  EXPECT_TRUE(is_file(b));
  EXPECT_FALSE(is_row(b));
  EXPECT_TRUE(is_row(empty));

  auto ra = store_->open(a);
  ASSERT_OK(ra);
  EXPECT_EQ((*ra)->fd(), -1);  // bytes from the row
  EXPECT_TRUE(read_all(**ra) == small);
  auto rb = store_->open(b);
  ASSERT_OK(rb);
  EXPECT_GE((*rb)->fd(), 0);  // a file: sendfile works
  EXPECT_TRUE(read_all(**rb) == large);
}

TEST_F(TieredBlobStoreTest, TheByteThatCrossesTheBoundMovesTheBlobWhole) {
  // Pieces that straddle the bound, and one write far larger than it.
  for (size_t piece : {size_t{1}, size_t{1000}, size_t{4095}, size_t{4097}, size_t{1} << 20}) {
    SCOPED_TRACE(piece);
    const std::string data = pattern_bytes(3 * kInlineMax + 7);
    const std::string id = put(data, piece);
    EXPECT_TRUE(is_file(id));
    EXPECT_FALSE(is_row(id));
    auto r = store_->open(id);
    ASSERT_OK(r);
    EXPECT_TRUE(read_all(**r) == data);
  }
}

TEST_F(TieredBlobStoreTest, RowsSurviveReopeningTheDatabase) {
  const std::string data = pattern_bytes(100);
  const std::string id = put(data);
  store_.reset();
  rows_.reset();
  open();
  auto r = store_->open(id);
  ASSERT_OK(r);
  EXPECT_TRUE(read_all(**r) == data);
}

TEST_F(TieredBlobStoreTest, AnAbortedSmallBlobLeavesNoRow) {
  auto w = store_->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("never kept"));
  const std::string id = (*w)->id();
  (*w)->abort();
  EXPECT_FALSE(is_row(id));
  EXPECT_CODE(store_->open(id), ErrorCode::kNotFound);
}

// A small blob's row can go in the object row's transaction: one commit
// for both, and a failed put stores neither.
TEST_F(TieredBlobStoreTest, ASmallBlobsRowCanBeStoredWithItsObjectsRow) {
  store::ContainerRecord c;
  c.account = "AUTH_p";
  c.name = "c";
  ASSERT_OK(rows_->create_container(c));
  auto put_with_object = [&](const std::string& data, const std::string& name,
                             const store::PutConditions& base) -> Result<std::string> {
    auto w = store_->create();
    if (!w.ok()) return std::move(w).error();
    if (auto st = (*w)->write(data); !st.ok()) return st.error();
    const std::string* bytes = (*w)->row_bytes();
    if (bytes == nullptr) return make_error(ErrorCode::kInternal, "not a row");
    EXPECT_EQ(*bytes, data);
    store::ObjectRecord o;
    o.account = "AUTH_p";
    o.container = "c";
    o.name = name;
    o.blob_id = (*w)->id();
    o.size = data.size();
    o.etag = (*w)->md5_hex();
    store::PutConditions cond = base;
    cond.blob_bytes = bytes;
    auto r = rows_->put_object(o, cond);
    if (!r.ok()) return std::move(r).error();
    (*w)->row_stored();
    EXPECT_TRUE((*w)->commit().ok());  // already committed: a no-op
    return o.blob_id;
  };
  const uint64_t commits_before = rows_->commits();
  auto id = put_with_object("small bytes", "o", {});
  ASSERT_OK(id);
  EXPECT_EQ(rows_->commits() - commits_before, 1u);
  EXPECT_TRUE(is_row(*id));
  auto r = store_->open(*id);
  ASSERT_OK(r);
  EXPECT_TRUE(read_all(**r) == "small bytes");

  store::PutConditions must_be_new;
  must_be_new.if_none_match = true;
  auto refused = put_with_object("other bytes", "o", must_be_new);
  EXPECT_CODE(refused, ErrorCode::kPreconditionFailed);
  size_t rows_kept = 0;
  ASSERT_OK(rows_->for_each_small_blob([&](const BlobInfo&) { return ++rows_kept, true; }));
  EXPECT_EQ(rows_kept, 1u);  // the refused put's row went with it

  // A blob that outgrew the bound is a file: no row to hand over.
  auto w = store_->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write(pattern_bytes(kInlineMax + 1)));
  EXPECT_EQ((*w)->row_bytes(), nullptr);
}

TEST_F(TieredBlobStoreTest, QuarantineMovesARowAsideAndRemoveDropsIt) {
  const std::string bad = put("suspect bytes");
  const std::string gone = put("removed bytes");
  const std::string file = put(pattern_bytes(2 * kInlineMax));
  ASSERT_OK(store_->quarantine(bad));
  ASSERT_OK(store_->remove(gone));
  EXPECT_CODE(store_->open(bad), ErrorCode::kNotFound);
  EXPECT_CODE(store_->open(gone), ErrorCode::kNotFound);
  // The quarantined bytes are kept for an operator.
  int kept = 0;
  ASSERT_OK(rows_->database().read([&](store::sqlite::Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "SELECT count(*) FROM quarantined_small_blobs WHERE id = ?1 AND "
        "data = CAST('suspect bytes' AS BLOB)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, bad);
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    kept = static_cast<int>(stmt->int64(0));
    return ok_status();
  }));
  EXPECT_EQ(kept, 1);
  std::set<std::string> listed;
  ASSERT_OK(store_->for_each([&](const BlobInfo& info) {
    listed.insert(info.id);
    return true;
  }));
  EXPECT_EQ(listed, std::set<std::string>{file});
}

TEST_F(TieredBlobStoreTest, ForEachPagesThroughManyRowsThenTheFiles) {
  std::set<std::string> want;
  for (int i = 0; i < 1100; ++i) want.insert(put(std::to_string(i)));  // > two pages of rows
  want.insert(put(pattern_bytes(kInlineMax + 1)));
  std::set<std::string> listed;
  size_t calls = 0;
  ASSERT_OK(store_->for_each([&](const BlobInfo& info) {
    ++calls;
    listed.insert(info.id);
    return true;
  }));
  EXPECT_EQ(calls, want.size());
  EXPECT_EQ(listed, want);
  calls = 0;
  ASSERT_OK(store_->for_each([&](const BlobInfo&) { return ++calls < 600; }));
  EXPECT_EQ(calls, 600u);
}

// A table whose writes fail: a small blob's commit fails, nothing is
// visible, and the writer takes nothing more.
class FailingTable final : public SmallBlobTable {
 public:
  Status put_small_blob(const std::string&, std::string_view, int64_t) override {
    return make_error(ErrorCode::kInsufficientStorage, "database or disk is full");
  }
  Result<std::shared_ptr<const std::string>> get_small_blob(const std::string&) override {
    return std::shared_ptr<const std::string>();
  }
  Status remove_small_blob(const std::string&) override { return ok_status(); }
  Status quarantine_small_blob(const std::string&) override { return ok_status(); }
  Status for_each_small_blob(const std::function<bool(const BlobInfo&)>&) override {
    return ok_status();
  }
};

TEST(TieredBlobStoreFailure, AFailedRowCommitLeavesNothingAndRefusesMore) {
  TempDir dir;
  auto files = fs::FsBlobStore::open_dir(dir.file("blobs"));
  ASSERT_OK(files);
  TieredBlobStore store(std::make_shared<FailingTable>(), std::move(*files), kInlineMax);
  auto w = store.create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("small"));
  EXPECT_CODE((*w)->commit(), ErrorCode::kInsufficientStorage);
  EXPECT_FALSE((*w)->write("more").ok());
  EXPECT_FALSE((*w)->commit().ok());
  EXPECT_CODE(store.open((*w)->id()), ErrorCode::kNotFound);
  size_t listed = 0;
  ASSERT_OK(store.for_each([&](const BlobInfo&) { return ++listed > 0; }));
  EXPECT_EQ(listed, 0u);
}

}  // namespace
}  // namespace onestack::blob::tiered
