// Blobs in two tiers: small ones as rows of the metadata database (a share
// of its group commit; see blob/small_blob_table.h), larger ones in another
// BlobStore (files), where GET sends them with zero copies.
//
// A writer keeps the first `inline_max` bytes in memory. If the blob ends
// within them, commit() stores it as a row; the first byte past them moves
// the blob to the large store (a new writer there, fed what was kept). So
// an upload of unknown length (chunked) lands where its size says, and a
// small blob never touches the filesystem. Ids are the same form in both
// tiers (32 lower-case hex); open(), remove() and quarantine() look in the
// table first, then in the large store.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "blob/blob_store.h"
#include "blob/small_blob_table.h"

namespace onestack::blob::tiered {

// Implements the BlobStore contract; a writer's id() may change when the
// blob moves to the large store, and is final once committed. Thread-safe.
// Writers and readers may outlive the store (they share both tiers).
class TieredBlobStore final : public BlobStore {
 public:
  TieredBlobStore(std::shared_ptr<SmallBlobTable> small, std::shared_ptr<BlobStore> large,
                  size_t inline_max);
  ~TieredBlobStore() override;

  Result<std::unique_ptr<BlobWriter>> create() override;
  Result<std::unique_ptr<BlobReader>> open(std::string_view id) override;
  Status remove(std::string_view id) override;
  Status quarantine(std::string_view id) override;
  // The large store's recovery (rows are never half-written).
  Result<size_t> recover() override;
  // The table's blobs, then the large store's.
  Status for_each(const std::function<bool(const BlobInfo&)>& fn) override;

  size_t inline_max() const { return inline_max_; }
  BlobStore& large() { return *large_; }

 private:
  Result<bool> is_row(std::string_view id);

  std::shared_ptr<SmallBlobTable> small_;  // both shared with writers
  std::shared_ptr<BlobStore> large_;
  size_t inline_max_;
};

}  // namespace onestack::blob::tiered
