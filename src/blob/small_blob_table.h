// Small blobs as rows of a table in the metadata database.
//
// A file per object costs a small PUT a file create, a data fsync, a rename
// and a directory fsync: on a journaling filesystem most of that is the
// kernel's work, and it bounds small PUTs well below what the rest of the
// service can do. A blob of a few KiB stored as a row instead shares the
// metadata store's group commit: one log write and one fsync for many
// PUTs. The tiered store (tiered/tiered_blob_store.h) puts blobs up to a
// size bound here and larger ones in files, where GET can send them with
// zero copies.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "blob/blob_store.h"
#include "core/result.h"

namespace onestack::blob {

// Implemented by a metadata store (store/sqlite/object_store_sqlite.h).
// Thread-safe; every call blocks (disk I/O): worker threads only.
class SmallBlobTable {
 public:
  virtual ~SmallBlobTable() = default;

  // Stores blob `id` with `data`; durable when it returns ok. `id` is new
  // (a fresh id): storing an id twice is kInternal.
  virtual Status put_small_blob(const std::string& id, std::string_view data,
                                int64_t mtime_unix) = 0;
  // The bytes of blob `id`; nullptr when there is none.
  virtual Result<std::shared_ptr<const std::string>> get_small_blob(const std::string& id) = 0;
  // Removes blob `id` if present (ok if absent).
  virtual Status remove_small_blob(const std::string& id) = 0;
  // Moves blob `id` out of service into a quarantine table, where an
  // operator can inspect it (ok if absent).
  virtual Status quarantine_small_blob(const std::string& id) = 0;
  // Calls `fn` for each blob in service, in id order, until it returns false.
  virtual Status for_each_small_blob(const std::function<bool(const BlobInfo&)>& fn) = 0;
};

}  // namespace onestack::blob
