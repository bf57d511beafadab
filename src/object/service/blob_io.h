// Moving object bytes between the network and the blob store without ever
// holding a whole object in memory: receive_blob() streams a request body
// into a new blob (1 MiB at a time, disk work on the worker pool), and
// PartsBody streams a response made of literal text and ranges of blobs
// (one object, a multi-range answer, or a large object's segments), opening
// each blob only when its turn comes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/http/request.h"
#include "core/http/response.h"
#include "object/service/object_service.h"

namespace onestack::object {

struct ReceivedBlob {
  std::string blob_id;  // "" when the body was empty (no blob is kept)
  uint64_t size = 0;
  std::string md5;  // lower-case hex
  // Set only while `after` runs, for a blob the blob store keeps as a row
  // of the object database (BlobWriter::row_bytes): not stored yet, `after`
  // stores it with the object's row (PutConditions::blob_bytes).
  const std::string* row_bytes = nullptr;
};

// Runs on the worker pool in the same job as the blob's commit (for a small
// object, the only job): the caller commits the object's row there, so the
// upload costs one pool hop, not two, and a small blob's row goes in the
// same transaction as the object's. It owns the committed blob (an empty
// body has none; a blob given as row_bytes is not stored yet): on failure
// it removes a stored blob and returns the error, which receive_blob
// returns as is.
using AfterCommit = std::function<Status(const ReceivedBlob&)>;

// Reads the whole request body into a committed blob, then runs `after`
// (if given). `max_size`: more bytes than this → kTooLarge (nothing is
// kept). A body shorter than its Content-Length (client gone) →
// kUnavailable. Disk full → kInsufficientStorage. On any failure before
// the commit the blob is aborted.
boost::asio::awaitable<Result<ReceivedBlob>> receive_blob(ObjectService& svc,
                                                          http::BodyReader& body, uint64_t max_size,
                                                          const AfterCommit& after = {});

// Writes `data` (already in memory) as a committed blob.
boost::asio::awaitable<Result<ReceivedBlob>> store_bytes(ObjectService& svc, std::string data);

// One piece of a response: literal text, or `length` bytes at `offset` of
// blob `blob_id` (which must hold at least offset + length bytes).
struct Part {
  std::string text;
  std::string blob_id;
  uint64_t offset = 0;
  uint64_t length = 0;
  // When set, the blob is already open (the handler opened it to check it).
  std::shared_ptr<blob::BlobReader> reader;
};

class PartsBody final : public http::BodySource {
 public:
  PartsBody(ObjectService& svc, std::vector<Part> parts);
  std::optional<uint64_t> size() const override { return size_; }
  boost::asio::awaitable<Result<Piece>> next() override;
  // Hands an already open reader of `blob_id` to every part that reads it.
  void share_reader(const std::string& blob_id, const std::shared_ptr<blob::BlobReader>& reader);

 private:
  ObjectService& svc_;
  std::vector<Part> parts_;
  uint64_t size_ = 0;
  size_t index_ = 0;   // current part
  uint64_t done_ = 0;  // bytes of the current part already produced
  std::string buf_;    // read buffer for backends without a file descriptor
};

// Reads a whole (small) blob into memory. kNotFound if it is gone.
Result<std::string> read_blob(blob::BlobStore& blobs, const std::string& blob_id, uint64_t limit);

// Lower-case hex MD5 of `data`.
std::string md5_hex(std::string_view data);

}  // namespace onestack::object
