// Object bytes: why this exists.
//
// The object service keeps every object's bytes as one immutable blob named
// by an opaque id, and keeps the object's name, size, ETag and metadata as a
// row in the metadata store that points at the blob. Blobs are never
// modified after commit: an overwrite writes a new blob and swings the row,
// a COPY or a version snapshot points a second row at the same blob, and a
// blob is removed only when no row refers to it any more. Because a blob's
// name never depends on the object's name, `..`, NUL or 1 KiB names never
// reach the filesystem.
//
// Write protocol (what makes a 201 durable): create() opens a temp file
// beside the final place; write() appends and feeds MD5 as bytes arrive;
// commit() fsyncs the file, renames it into place atomically and fsyncs the
// directory. Only then does the service commit the row. A crash before the
// rename leaves a temp file that recover() removes at start-up; a crash
// between rename and row commit leaves an unreferenced blob that the auditor
// sweeps.
//
// All calls block (disk I/O): call them from a worker thread, never from an
// I/O thread. A BlobStore is thread-safe; a BlobWriter or BlobReader is used
// by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace onestack::blob {

// Receives the bytes of one new blob. Destroying an uncommitted writer
// aborts it (its temp file is removed).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // The id the blob will have once committed.
  virtual const std::string& id() const = 0;
  // Appends `data`. kInsufficientStorage when the disk is full (the blob is
  // then unusable: abort it), kInternal for other I/O errors.
  virtual Status write(std::string_view data) = 0;
  // Bytes written so far.
  virtual uint64_t size() const = 0;
  // Lower-case hex MD5 of the bytes written so far.
  virtual std::string md5_hex() const = 0;
  // Makes the blob durable and visible under id(): data fsync, atomic
  // rename, directory fsync. After success the blob survives a crash.
  // kInsufficientStorage / kInternal on failure (nothing is then visible).
  virtual Status commit() = 0;
  // Discards the blob. Idempotent; a no-op after commit().
  virtual void abort() = 0;

  // A blob the store keeps as a row of the metadata database (the tiered
  // store's small tier, small_blob_table.h) may instead be written by the
  // caller, in the same transaction as the object row that refers to it
  // (store::PutConditions::blob_bytes): one commit for both. Returns the
  // bytes that row must hold, or nullptr when the blob is not such a row
  // (commit() as usual). Valid until the writer is used again.
  virtual const std::string* row_bytes() const { return nullptr; }
  // The caller's transaction stored row_bytes() under id(): the writer is
  // committed, as if by commit().
  virtual void row_stored() {}
};

// Reads one committed blob. Holds the blob open: a blob removed while a
// reader is open stays readable through that reader.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual uint64_t size() const = 0;
  // Reads up to `len` bytes at `offset` into `buf`; returns the count read
  // (0 at or past the end). kInternal on I/O error.
  virtual Result<size_t> read(uint64_t offset, char* buf, size_t len) = 0;
  // A file descriptor for zero-copy sends (sendfile), or -1 when the backend
  // has none. Owned by the reader.
  virtual int fd() const = 0;
};

struct BlobInfo {
  std::string id;
  uint64_t size = 0;
  int64_t mtime_unix = 0;  // seconds
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Starts a new blob with a fresh unique id. kInsufficientStorage /
  // kInternal when the temp file cannot be created.
  virtual Result<std::unique_ptr<BlobWriter>> create() = 0;
  // Opens committed blob `id`. kNotFound if there is none (or `id` is not a
  // well-formed id), kInternal on I/O error.
  virtual Result<std::unique_ptr<BlobReader>> open(std::string_view id) = 0;
  // Removes blob `id`. Removing a missing blob succeeds; a malformed `id`
  // is kNotFound.
  virtual Status remove(std::string_view id) = 0;
  // Moves blob `id` out of service into quarantine (kept for an operator to
  // inspect, never served). Missing blob: succeeds; malformed `id`:
  // kNotFound.
  virtual Status quarantine(std::string_view id) = 0;
  // Start-up: removes what an interrupted write left behind (temp files).
  // Returns how many were removed.
  virtual Result<size_t> recover() = 0;
  // Calls `fn` for every committed blob, in no particular order, until it
  // returns false. Blobs created or removed meanwhile may or may not be seen.
  virtual Status for_each(const std::function<bool(const BlobInfo&)>& fn) = 0;
};

}  // namespace onestack::blob
