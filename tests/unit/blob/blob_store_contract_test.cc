// The BlobStore contract, run against every backend. A new backend joins by
// adding one entry to kBackends.
//
// The GlusterFS backend runs when ONESTACK_TEST_GLUSTER names a volume
// ("VOLUME@SERVER", as scripts/gluster.sh up prints): each test gets a base
// directory of its own in the volume, removed afterwards. Without it those
// tests are skipped, or fail when ONESTACK_TEST_REQUIRE_BACKENDS=1 says
// every backend must run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "blob/fs/fs_blob_store.h"
#include "blob/gluster/gluster_blob_store.h"
#include "blob/memory/memory_blob_store.h"
#include "blob/tiered/tiered_blob_store.h"
#include "blob_test_util.h"
#include "gluster_test_volume.h"
#include "store/sqlite/object_store_sqlite.h"
#include "unit/store/temp_dir.h"

namespace onestack::blob {
namespace {

using store::testing::TempDir;
using testing::is_lower_hex_32;
using testing::md5_of;
using testing::pattern_bytes;
using testing::read_all;

// What one test's store lives in: files under `dir`, or a directory of a
// shared volume that `teardown` removes when the test ends.
struct Scratch {
  TempDir dir;
  std::function<void()> teardown;
  ~Scratch() {
    if (teardown) teardown();
  }
};

struct Backend {
  std::string name;
  // Opens a fresh, empty store in `scratch`.
  std::function<std::unique_ptr<BlobStore>(Scratch& scratch)> open;
  // Why the backend cannot run here ("" when it can).
  std::function<std::string()> unavailable = [] { return std::string(); };
};

// A store in a fresh base directory /t-<random> of ONESTACK_TEST_GLUSTER's
// volume, on the mount all tests share.
std::unique_ptr<BlobStore> open_gluster(Scratch& scratch) {
  std::string error;
  std::shared_ptr<gluster::GlusterVolume> volume = testing::shared_gluster_volume(&error);
  if (volume == nullptr) {
    ADD_FAILURE() << "cannot mount ONESTACK_TEST_GLUSTER: " << error;
    return nullptr;
  }
  gluster::GlusterOptions options = *testing::gluster_target();
  options.base_dir = testing::fresh_gluster_dir();
  scratch.teardown = [volume, dir = options.base_dir] {
    testing::remove_gluster_tree(volume->fs(), dir);
  };
  auto s = gluster::GlusterBlobStore::open_on(volume, options);
  if (!s.ok()) {
    ADD_FAILURE() << "GlusterBlobStore::open_on: " << s.error().message;
    return nullptr;
  }
  return std::move(*s);
}

const Backend kBackends[] = {
    {"Fs",
     [](Scratch& scratch) -> std::unique_ptr<BlobStore> {
       auto s = fs::FsBlobStore::open_dir(scratch.dir.file("blobs"));
       return s.ok() ? std::move(*s) : nullptr;
     }},
    {"Memory",
     [](Scratch&) -> std::unique_ptr<BlobStore> {
       return std::make_unique<memory::MemoryBlobStore>();
     }},
    // Rows in a SQLite object store up to 64 bytes, files beyond: the cases
    // of a few bytes stay rows, those of kilobytes and more become files.
    {"Tiered",
     [](Scratch& scratch) -> std::unique_ptr<BlobStore> {
       auto rows = store::sqlite::SqliteObjectStore::open(scratch.dir.file("objects.db"));
       auto files = fs::FsBlobStore::open_dir(scratch.dir.file("blobs"));
       if (!rows.ok() || !files.ok()) return nullptr;
       return std::make_unique<tiered::TieredBlobStore>(std::move(*rows), std::move(*files), 64);
     }},
    {"Gluster", open_gluster, testing::gluster_unavailable},
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

class BlobStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (std::string why = GetParam().unavailable(); !why.empty()) {
      const char* require = std::getenv("ONESTACK_TEST_REQUIRE_BACKENDS");
      if (require != nullptr && std::string(require) == "1") {
        FAIL() << why << " (ONESTACK_TEST_REQUIRE_BACKENDS=1 requires every backend)";
      }
      GTEST_SKIP() << why;
    }
    store_ = GetParam().open(scratch_);
    ASSERT_NE(store_, nullptr) << "backend failed to open";
  }

  std::unique_ptr<BlobWriter> create() {
    auto w = store_->create();
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
    return w.ok() ? std::move(*w) : nullptr;
  }

  // Writes `data` as one blob, commits it and returns its id ("" on failure).
  std::string put(const std::string& data) {
    auto w = create();
    if (!w) return "";
    EXPECT_TRUE(w->write(data).ok());
    EXPECT_TRUE(w->commit().ok());
    return w->id();
  }

  std::string read_blob(const std::string& id) {
    auto r = store_->open(id);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? read_all(**r) : "";
  }

  std::vector<BlobInfo> listed() {
    std::vector<BlobInfo> out;
    Status s = store_->for_each([&](const BlobInfo& info) {
      out.push_back(info);
      return true;
    });
    EXPECT_TRUE(s.ok());
    return out;
  }

  std::set<std::string> listed_ids() {
    std::set<std::string> out;
    for (const BlobInfo& info : listed()) out.insert(info.id);
    return out;
  }

  Scratch scratch_;  // outlives store_
  std::unique_ptr<BlobStore> store_;
};

// ---- bytes and digests ----

struct RoundTripCase {
  const char* what;
  size_t size;
  std::vector<size_t> pieces;  // write sizes, cycled until `size` is written
};

TEST_P(BlobStoreContract, WrittenBytesReadBackWithTheirMd5) {
  const RoundTripCase cases[] = {
      {"empty", 0, {1}},
      {"one byte", 1, {1}},
      {"1 MiB + 1 in odd pieces", (1u << 20) + 1, {4093, 1, 65537, 4096, 262147, 7}},
      {"4 KiB to 1 MiB pieces", 3u << 20, {4096, 1u << 20, 131072}},
  };
  for (const RoundTripCase& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string data = pattern_bytes(c.size);
    auto w = create();
    ASSERT_NE(w, nullptr);
    size_t at = 0;
    for (size_t i = 0; at < data.size(); ++i) {
      size_t n = std::min(c.pieces[i % c.pieces.size()], data.size() - at);
      ASSERT_OK(w->write(std::string_view(data).substr(at, n)));
      at += n;
      EXPECT_EQ(w->size(), at);
    }
    EXPECT_EQ(w->size(), data.size());
    EXPECT_EQ(w->md5_hex(), md5_of(data));
    ASSERT_OK(w->commit());

    auto r = store_->open(w->id());
    ASSERT_OK(r);
    EXPECT_EQ((*r)->size(), data.size());
    std::string back = read_all(**r, 100003);
    EXPECT_EQ(back.size(), data.size());
    EXPECT_TRUE(back == data);
    EXPECT_EQ(md5_of(back), md5_of(data));
  }
}

TEST_P(BlobStoreContract, EmptyAndOneByteBlobsHaveTheKnownMd5) {
  auto empty = create();
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->md5_hex(), "d41d8cd98f00b204e9800998ecf8427e");
  auto one = create();
  ASSERT_NE(one, nullptr);
  ASSERT_OK(one->write("a"));
  EXPECT_EQ(one->md5_hex(), "0cc175b9c0f1b6a831c399e269772661");
}

TEST_P(BlobStoreContract, Md5OfThePrefixDoesNotEndTheDigest) {
  auto w = create();
  ASSERT_NE(w, nullptr);
  ASSERT_OK(w->write("hello "));
  EXPECT_EQ(w->md5_hex(), md5_of("hello "));
  ASSERT_OK(w->write("world"));
  EXPECT_EQ(w->md5_hex(), md5_of("hello world"));
}

TEST_P(BlobStoreContract, ReadsAtAnOffsetStopAtTheEnd) {
  std::string id = put("0123456789");
  auto r = store_->open(id);
  ASSERT_OK(r);
  char buf[16];
  auto n = (*r)->read(7, buf, sizeof buf);
  ASSERT_OK(n);
  EXPECT_EQ(std::string(buf, *n), "789");
  n = (*r)->read(2, buf, 3);
  ASSERT_OK(n);
  EXPECT_EQ(std::string(buf, *n), "234");
  n = (*r)->read(10, buf, sizeof buf);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);
  n = (*r)->read(uint64_t{1} << 62, buf, sizeof buf);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);
}

// ---- visibility ----

TEST_P(BlobStoreContract, UncommittedBlobIsNotVisible) {
  auto w = create();
  ASSERT_NE(w, nullptr);
  ASSERT_OK(w->write("pending"));
  EXPECT_CODE(store_->open(w->id()), ErrorCode::kNotFound);
  EXPECT_TRUE(listed().empty());
}

TEST_P(BlobStoreContract, CommitMakesTheBlobVisible) {
  auto w = create();
  ASSERT_NE(w, nullptr);
  ASSERT_OK(w->write("visible"));
  ASSERT_OK(w->commit());
  EXPECT_EQ(read_blob(w->id()), "visible");
  EXPECT_EQ(listed_ids(), std::set<std::string>{w->id()});
}

TEST_P(BlobStoreContract, AbortedBlobNeverBecomesVisible) {
  auto w = create();
  ASSERT_NE(w, nullptr);
  ASSERT_OK(w->write("discarded"));
  w->abort();
  w->abort();  // idempotent
  EXPECT_CODE(store_->open(w->id()), ErrorCode::kNotFound);
  EXPECT_FALSE(w->write("more").ok());
  EXPECT_FALSE(w->commit().ok());
  EXPECT_CODE(store_->open(w->id()), ErrorCode::kNotFound);
  EXPECT_TRUE(listed().empty());
}

TEST_P(BlobStoreContract, DestroyingAnUncommittedWriterAbortsIt) {
  std::string id;
  {
    auto w = create();
    ASSERT_NE(w, nullptr);
    ASSERT_OK(w->write("dropped"));
    id = w->id();
  }
  EXPECT_CODE(store_->open(id), ErrorCode::kNotFound);
  EXPECT_TRUE(listed().empty());
}

TEST_P(BlobStoreContract, AbortAndDestructionAfterCommitKeepTheBlob) {
  std::string id;
  {
    auto w = create();
    ASSERT_NE(w, nullptr);
    ASSERT_OK(w->write("kept"));
    ASSERT_OK(w->commit());
    ASSERT_OK(w->commit());  // a second commit is a no-op
    w->abort();
    id = w->id();
  }
  EXPECT_EQ(read_blob(id), "kept");
}

TEST_P(BlobStoreContract, WriteAfterCommitIsRefused) {
  auto w = create();
  ASSERT_NE(w, nullptr);
  ASSERT_OK(w->write("final"));
  ASSERT_OK(w->commit());
  EXPECT_FALSE(w->write("late").ok());
  EXPECT_EQ(read_blob(w->id()), "final");
}

TEST_P(BlobStoreContract, WritersAndReadersMayOutliveTheStore) {
  std::string id = put("before");
  auto r = store_->open(id);
  ASSERT_OK(r);
  auto w = create();
  ASSERT_NE(w, nullptr);
  store_.reset();
  EXPECT_EQ(read_all(**r), "before");
  ASSERT_OK(w->write("after"));
  w->abort();
}

// ---- ids ----

TEST_P(BlobStoreContract, IdsAreUniqueAndWellFormed) {
  std::set<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    auto w = create();
    ASSERT_NE(w, nullptr);
    EXPECT_TRUE(is_lower_hex_32(w->id())) << w->id();
    ids.insert(w->id());
  }
  EXPECT_EQ(ids.size(), 300u);
}

TEST_P(BlobStoreContract, MalformedIdsAreNotFound) {
  std::string id = put("x");
  const std::string cases[] = {
      "",
      "zz",
      "..",
      "../x",
      "/etc/passwd",
      "../../../../../../../../../../../etc/passwd",
      "0123456789abcdef0123456789/bcdef",   // 32 chars with '/'
      "../0123456789abcdef0123456789abc",   // 32 chars with '..'
      "0123456789ABCDEF0123456789ABCDEF",   // upper case
      "0123456789abcdef0123456789abcde",    // 31
      "0123456789abcdef0123456789abcdef0",  // 33
      std::string("0123456789abcdef\0"
                  "123456789abcde",
                  32),  // NUL inside
      id + "/",
      id.substr(0, 2) + "/" + id.substr(0, 29),
      " " + id.substr(1),
  };
  for (const std::string& bad : cases) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(store_->open(bad), ErrorCode::kNotFound);
    EXPECT_CODE(store_->remove(bad), ErrorCode::kNotFound);
    EXPECT_CODE(store_->quarantine(bad), ErrorCode::kNotFound);
  }
  EXPECT_EQ(read_blob(id), "x");
}

// ---- remove and quarantine ----

TEST_P(BlobStoreContract, RemoveThenOpenIsNotFound) {
  std::string id = put("gone soon");
  ASSERT_OK(store_->remove(id));
  EXPECT_CODE(store_->open(id), ErrorCode::kNotFound);
  EXPECT_TRUE(listed().empty());
}

TEST_P(BlobStoreContract, RemovingAMissingBlobSucceeds) {
  std::string id = put("once");
  ASSERT_OK(store_->remove(id));
  ASSERT_OK(store_->remove(id));
  ASSERT_OK(store_->remove("0123456789abcdef0123456789abcdef"));
}

TEST_P(BlobStoreContract, ReaderOpenedBeforeRemoveStillReads) {
  const std::string data = pattern_bytes(200000);
  std::string id = put(data);
  auto r = store_->open(id);
  ASSERT_OK(r);
  ASSERT_OK(store_->remove(id));
  EXPECT_CODE(store_->open(id), ErrorCode::kNotFound);
  EXPECT_EQ((*r)->size(), data.size());
  EXPECT_TRUE(read_all(**r) == data);
}

TEST_P(BlobStoreContract, RemoveLeavesOtherBlobsAlone) {
  std::string a = put("a");
  std::string b = put("b");
  ASSERT_OK(store_->remove(a));
  EXPECT_EQ(read_blob(b), "b");
  EXPECT_EQ(listed_ids(), std::set<std::string>{b});
}

TEST_P(BlobStoreContract, QuarantineTakesTheBlobOutOfService) {
  std::string id = put("suspect");
  std::string other = put("fine");
  ASSERT_OK(store_->quarantine(id));
  EXPECT_CODE(store_->open(id), ErrorCode::kNotFound);
  EXPECT_EQ(listed_ids(), std::set<std::string>{other});
  ASSERT_OK(store_->quarantine(id));  // already gone: succeeds
  ASSERT_OK(store_->remove(id));
}

// ---- listing and recovery ----

TEST_P(BlobStoreContract, ForEachSeesCommittedBlobsOnly) {
  const int64_t before = static_cast<int64_t>(std::time(nullptr));
  std::string a = put("");
  std::string b = put("12345");
  auto pending = create();
  ASSERT_NE(pending, nullptr);
  ASSERT_OK(pending->write("not yet"));
  auto aborted = create();
  ASSERT_NE(aborted, nullptr);
  aborted->abort();
  std::string removed = put("removed");
  ASSERT_OK(store_->remove(removed));

  std::vector<BlobInfo> infos = listed();
  ASSERT_EQ(infos.size(), 2u);
  const int64_t after = static_cast<int64_t>(std::time(nullptr));
  for (const BlobInfo& info : infos) {
    SCOPED_TRACE(info.id);
    if (info.id == a) {
      EXPECT_EQ(info.size, 0u);
    } else {
      EXPECT_EQ(info.id, b);
      EXPECT_EQ(info.size, 5u);
    }
    EXPECT_GE(info.mtime_unix, before - 1);
    EXPECT_LE(info.mtime_unix, after + 1);
  }
}

TEST_P(BlobStoreContract, ForEachStopsWhenTheCallbackReturnsFalse) {
  for (int i = 0; i < 5; ++i) put(std::to_string(i));
  int calls = 0;
  ASSERT_OK(store_->for_each([&](const BlobInfo&) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
}

TEST_P(BlobStoreContract, RecoverOnACleanStoreRemovesNothingVisible) {
  std::string id = put("survives recovery");
  auto removed = store_->recover();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 0u);
  EXPECT_EQ(read_blob(id), "survives recovery");
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobStoreContract, ::testing::ValuesIn(kBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace onestack::blob
