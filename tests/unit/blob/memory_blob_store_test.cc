// What only the in-memory backend does.
#include "blob/memory/memory_blob_store.h"

#include <gtest/gtest.h>

#include "blob_test_util.h"

namespace onestack::blob::memory {
namespace {

TEST(MemoryBlobStore, ReadersHaveNoFileDescriptor) {
  MemoryBlobStore store;
  auto w = store.create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("ram"));
  ASSERT_OK((*w)->commit());
  auto r = store.open((*w)->id());
  ASSERT_OK(r);
  EXPECT_EQ((*r)->fd(), -1);
}

TEST(MemoryBlobStore, QuarantineKeepsTheBlobAsideAndCountsIt) {
  MemoryBlobStore store;
  auto w = store.create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->commit());
  EXPECT_EQ(store.blob_count(), 1u);
  ASSERT_OK(store.quarantine((*w)->id()));
  EXPECT_EQ(store.blob_count(), 0u);
  EXPECT_EQ(store.quarantined_count(), 1u);
}

TEST(MemoryBlobStore, ForEachCallbackMayCallBackIntoTheStore) {
  MemoryBlobStore store;
  for (int i = 0; i < 3; ++i) {
    auto w = store.create();
    ASSERT_OK(w);
    ASSERT_OK((*w)->commit());
  }
  ASSERT_OK(store.for_each([&](const BlobInfo& info) { return store.remove(info.id).ok(); }));
  EXPECT_EQ(store.blob_count(), 0u);
}

}  // namespace
}  // namespace onestack::blob::memory
