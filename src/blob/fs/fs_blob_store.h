// Blobs as files on one local filesystem.
//
// Layout under the root directory:
//   objects/<id[0:2]>/<id>   committed blobs, up to 256 fan-out directories
//                            so no directory grows past a few thousand entries
//   tmp/<id>.tmp             blobs being written; same filesystem as objects/
//                            so commit() is one atomic rename
//   quarantine/<id>          blobs taken out of service for an operator
// Ids are 32 lower-case hex characters; nothing else ever becomes a path.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "blob/blob_store.h"

namespace onestack::blob::fs {

// Implements the BlobStore contract (blob/blob_store.h) on files.
// Beyond the interface: remove() and quarantine() of a malformed id are
// kNotFound; committing a writer twice is a no-op, writing to or committing
// an aborted or failed writer is an error. Writers and readers may outlive
// the store. Thread-safe as the interface says.
class FsBlobStore final : public BlobStore {
 public:
  struct Options {
    // Stand-ins for the system calls that move and sync a blob's bytes, so
    // tests can inject ENOSPC, short writes, EINTR and fsync failures. Each
    // keeps its system call's contract (-1 with errno set on failure); null
    // means the real call. Called from whichever thread uses the writer.
    std::function<ssize_t(int fd, const void* buf, size_t len)> write;
    std::function<int(int fd)> fdatasync;  // a blob file before its rename
    std::function<int(int fd)> fsync_dir;  // a directory after a rename or mkdir in it
  };

  // Opens the store rooted at `root_dir`, creating the root (0750) and its
  // objects/, tmp/ and quarantine/ as needed (fan-out directories appear
  // with their first blob). Does not run recover(). kInternal if a directory cannot be made.
  // (Not named open(): with a std::string argument it would beat
  // open(std::string_view id) and turn a blob lookup into a new store.)
  static Result<std::unique_ptr<FsBlobStore>> open_dir(const std::string& root_dir,
                                                       Options options = {});

  Result<std::unique_ptr<BlobWriter>> create() override;
  Result<std::unique_ptr<BlobReader>> open(std::string_view id) override;
  Status remove(std::string_view id) override;
  Status quarantine(std::string_view id) override;
  Result<size_t> recover() override;
  Status for_each(const std::function<bool(const BlobInfo&)>& fn) override;

  // Where committed blob `id` lives (whether or not it exists); for tests
  // and operators. `id` must be well formed.
  std::string object_path(std::string_view id) const;
  const std::string& root() const;

  // Paths and hooks the store shares with its writers (defined in the .cc).
  struct Shared;
  explicit FsBlobStore(std::shared_ptr<const Shared> shared);
  ~FsBlobStore() override;

 private:
  std::shared_ptr<const Shared> shared_;  // immutable after open()
};

}  // namespace onestack::blob::fs
