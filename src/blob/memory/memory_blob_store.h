// Blobs in RAM, for unit tests of the services above the blob store: the
// same contract as the file backend, no disk, no descriptors.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "blob/blob_store.h"

namespace onestack::blob::memory {

// Implements the BlobStore contract (blob/blob_store.h) in memory. Behaves as
// the file backend does beyond the interface too: remove() and quarantine()
// of a malformed id are kNotFound; committing twice is a no-op; writing to
// or committing an aborted writer is an error. A writer keeps its bytes to
// itself until commit(), so recover() always finds nothing. Readers return
// fd() == -1. Writers and readers may outlive the store. Thread-safe.
class MemoryBlobStore final : public BlobStore {
 public:
  MemoryBlobStore();
  ~MemoryBlobStore() override;

  Result<std::unique_ptr<BlobWriter>> create() override;
  Result<std::unique_ptr<BlobReader>> open(std::string_view id) override;
  Status remove(std::string_view id) override;
  Status quarantine(std::string_view id) override;
  Result<size_t> recover() override;
  Status for_each(const std::function<bool(const BlobInfo&)>& fn) override;

  // Committed blobs in service, and blobs moved to quarantine; for tests.
  size_t blob_count() const;
  size_t quarantined_count() const;

  // The maps and their mutex, shared with writers (defined in the .cc).
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace onestack::blob::memory
