// A BlobStore that fails where a FaultPlan says (fault_plan.h), for tests.
//
// Points (each checked before the real call, which then does not happen):
//   blob.create     create()
//   blob.write      BlobWriter::write(); with "short", the first bytes reach
//                   the real writer before the failure
//   blob.commit     BlobWriter::commit(), as a failed data fsync: the real
//                   writer is aborted, nothing becomes visible. While armed,
//                   row_bytes() is null, so a small blob is committed by
//                   commit() rather than in the caller's row transaction
//                   (whose failures are store.put_object's)
//   blob.open       open()
//   blob.read       BlobReader::read(); while armed, readers report no file
//                   descriptor so GETs read through read() instead of
//                   sendfile()
//   blob.remove     remove()
//   blob.quarantine quarantine()
//   blob.recover    recover()
//   blob.for_each   for_each()
// A writer that failed behaves as the real ones do after a failure: the
// blob is aborted, and further writes and commits are kInternal.
#pragma once

#include <memory>

#include "blob/blob_store.h"
#include "fault/fault_plan.h"

namespace onestack::fault {

// Forwards every call to `inner` unless `plan` injects a fault there.
// Thread-safe as `inner` is; writers and readers may outlive the store.
class FaultyBlobStore final : public blob::BlobStore {
 public:
  FaultyBlobStore(std::shared_ptr<blob::BlobStore> inner, std::shared_ptr<FaultPlan> plan);

  Result<std::unique_ptr<blob::BlobWriter>> create() override;
  Result<std::unique_ptr<blob::BlobReader>> open(std::string_view id) override;
  Status remove(std::string_view id) override;
  Status quarantine(std::string_view id) override;
  Result<size_t> recover() override;
  Status for_each(const std::function<bool(const blob::BlobInfo&)>& fn) override;

 private:
  std::shared_ptr<blob::BlobStore> inner_;
  std::shared_ptr<FaultPlan> plan_;
};

}  // namespace onestack::fault
