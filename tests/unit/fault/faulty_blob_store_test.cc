#include "fault/faulty_blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "blob/fs/fs_blob_store.h"
#include "blob/tiered/tiered_blob_store.h"
#include "store/sqlite/object_store_sqlite.h"
#include "unit/blob/blob_test_util.h"
#include "unit/store/temp_dir.h"

namespace onestack::fault {
namespace {

using blob::testing::md5_of;
using blob::testing::pattern_bytes;
using blob::testing::read_all;

// The production stack: rows for small blobs, files for large ones, behind
// the fault wrapper.
class FaultyBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rows = store::sqlite::SqliteObjectStore::open(":memory:");
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    rows_ = std::move(rows).value();
    auto files = blob::fs::FsBlobStore::open_dir(dir_.file("blobs"));
    ASSERT_TRUE(files.ok()) << files.error().message;
    files_ = std::move(files).value();
    auto tiers = std::make_shared<blob::tiered::TieredBlobStore>(rows_, files_, kInlineMax);
    store_ = std::make_unique<FaultyBlobStore>(tiers, plan_);
  }

  void plan(const std::string& text) {
    auto rules = parse_plan(text);
    ASSERT_TRUE(rules.ok()) << rules.error().message;
    plan_->set_rules(std::move(rules).value());
  }

  size_t temp_files() const {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_.file("blobs") + "/tmp")) {
      (void)e;
      ++n;
    }
    return n;
  }

  size_t blob_count() {
    size_t n = 0;
    EXPECT_TRUE(store_
                    ->for_each([&](const blob::BlobInfo&) {
                      ++n;
                      return true;
                    })
                    .ok());
    return n;
  }

  // Writes `data` as a committed blob; returns its id.
  std::string put(const std::string& data) {
    auto w = store_->create();
    EXPECT_TRUE(w.ok());
    if (!w.ok()) return "";
    EXPECT_TRUE((*w)->write(data).ok());
    auto st = (*w)->commit();
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    return (*w)->id();
  }

  static constexpr size_t kInlineMax = 64 * 1024;
  store::testing::TempDir dir_;
  std::shared_ptr<store::sqlite::SqliteObjectStore> rows_;
  std::shared_ptr<blob::fs::FsBlobStore> files_;
  std::shared_ptr<FaultPlan> plan_ = std::make_shared<FaultPlan>();
  std::unique_ptr<FaultyBlobStore> store_;
};

TEST_F(FaultyBlobStoreTest, CreateFailsWithTheDiskFullCodeOnceThenWorks) {
  plan("blob.create ENOSPC count=1\n");
  auto w = store_->create();
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kInsufficientStorage);
  EXPECT_EQ(plan_->fired("blob.create"), 1u);
  const std::string data = pattern_bytes(1000);
  std::string id = put(data);
  auto r = store_->open(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(read_all(**r), data);
}

class WriteFaults : public FaultyBlobStoreTest, public ::testing::WithParamInterface<size_t> {};

TEST_P(WriteFaults, EnospcAbortsTheBlobAndLeavesNoTempFile) {
  const std::string data = pattern_bytes(GetParam());
  plan("blob.write ENOSPC after=1\n");
  auto w = store_->create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(std::string_view(data).substr(0, data.size() / 2)).ok());
  auto st = (*w)->write(std::string_view(data).substr(data.size() / 2));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInsufficientStorage);
  // As the real writers: a failed blob accepts nothing more.
  EXPECT_EQ((*w)->write("x").error().code, ErrorCode::kInternal);
  EXPECT_EQ((*w)->commit().error().code, ErrorCode::kInternal);
  w->reset();
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_EQ(blob_count(), 0u);
}

TEST_P(WriteFaults, ShortWriteHandsOnPartOfTheDataThenFails) {
  const std::string data = pattern_bytes(GetParam());
  plan("blob.write EIO short=100\n");
  auto w = store_->create();
  ASSERT_TRUE(w.ok());
  auto st = (*w)->write(data);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  EXPECT_EQ((*w)->size(), 100u);  // the part that reached the real writer
  EXPECT_EQ((*w)->commit().error().code, ErrorCode::kInternal);
  w->reset();
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_EQ(blob_count(), 0u);
}

TEST_P(WriteFaults, FsyncFailureAtCommitLeavesNothingVisibleAndTheNextBlobCommits) {
  const std::string data = pattern_bytes(GetParam());
  plan("blob.commit EIO\n");
  auto w = store_->create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(data).ok());
  auto st = (*w)->commit();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  const std::string failed_id = (*w)->id();
  w->reset();
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_EQ(blob_count(), 0u);
  EXPECT_EQ(store_->open(failed_id).error().code, ErrorCode::kNotFound);
  std::string id = put(data);
  auto r = store_->open(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(md5_of(read_all(**r)), md5_of(data));
}

// Below and above the inline bound: a row, then a file.
INSTANTIATE_TEST_SUITE_P(BothTiers, WriteFaults, ::testing::Values(4096, 200 * 1024));

TEST_F(FaultyBlobStoreTest, OpenAndReadFaultsAreTheBackendsErrors) {
  const std::string data = pattern_bytes(200 * 1024);
  std::string id = put(data);
  plan("blob.open EIO\nblob.read EIO\n");
  EXPECT_EQ(store_->open(id).error().code, ErrorCode::kInternal);
  auto r = store_->open(id);
  ASSERT_TRUE(r.ok());
  // While a read fault is armed the reader offers no descriptor, so the
  // bytes go through read() (no sendfile around the fault).
  EXPECT_EQ((*r)->fd(), -1);
  char buf[16];
  auto n = (*r)->read(0, buf, sizeof buf);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, ErrorCode::kInternal);
  EXPECT_GE((*r)->fd(), 0);  // used up: the file's own descriptor again
  EXPECT_EQ(read_all(**r), data);
}

TEST_F(FaultyBlobStoreTest, RemoveQuarantineRecoverAndForEachFailWithoutActing) {
  std::string id = put(pattern_bytes(10));
  plan("blob.remove EIO\nblob.quarantine EIO\nblob.recover EIO\nblob.for_each SQLITE_BUSY\n");
  EXPECT_EQ(store_->remove(id).error().code, ErrorCode::kInternal);
  EXPECT_EQ(store_->quarantine(id).error().code, ErrorCode::kInternal);
  EXPECT_EQ(store_->recover().error().code, ErrorCode::kInternal);
  EXPECT_EQ(store_->for_each([](const blob::BlobInfo&) { return true; }).error().code,
            ErrorCode::kUnavailable);
  EXPECT_TRUE(store_->open(id).ok());  // still there
  EXPECT_TRUE(store_->remove(id).ok());
  EXPECT_EQ(store_->open(id).error().code, ErrorCode::kNotFound);
}

TEST_F(FaultyBlobStoreTest, AWriterForwardsIdSizeMd5AndAbort) {
  auto w = store_->create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("hello").ok());
  EXPECT_EQ((*w)->size(), 5u);
  EXPECT_EQ((*w)->md5_hex(), md5_of("hello"));
  EXPECT_TRUE(blob::testing::is_lower_hex_32((*w)->id()));
  (*w)->abort();
  EXPECT_FALSE((*w)->commit().ok());
  EXPECT_EQ(blob_count(), 0u);
}

TEST_F(FaultyBlobStoreTest, ASmallBlobOffersItsRowBytesUnlessACommitFaultIsArmed) {
  auto w = store_->create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("small").ok());
  ASSERT_NE((*w)->row_bytes(), nullptr);
  EXPECT_EQ(*(*w)->row_bytes(), "small");
  plan("blob.commit EIO\n");
  EXPECT_EQ((*w)->row_bytes(), nullptr);  // commit() must run, where the fault fires
  EXPECT_EQ((*w)->commit().error().code, ErrorCode::kInternal);
  EXPECT_EQ((*w)->row_bytes(), nullptr);  // failed
  // A large blob is never a row.
  auto big = store_->create();
  ASSERT_TRUE(big.ok());
  ASSERT_TRUE((*big)->write(pattern_bytes(kInlineMax + 1)).ok());
  EXPECT_EQ((*big)->row_bytes(), nullptr);
  // row_stored() reaches the real writer: it counts as committed.
  auto other = store_->create();
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->write("x").ok());
  ASSERT_NE((*other)->row_bytes(), nullptr);
  (*other)->row_stored();
  EXPECT_EQ((*other)->row_bytes(), nullptr);
  EXPECT_TRUE((*other)->commit().ok());  // a no-op once committed
}

}  // namespace
}  // namespace onestack::fault
