#include "object/service/blob_io.h"

#include <openssl/evp.h>

#include "core/ids.h"

namespace onestack::object {

namespace {

constexpr size_t kChunk = 1 << 20;  // bytes buffered per upload before a disk write

// An upload's staging buffer: allocated once per request, never
// zero-filled, sized to the body when its length is known (a 4 KiB PUT
// must not pay for touching a 1 MiB buffer).
struct ChunkBuffer {
  explicit ChunkBuffer(size_t cap) : data(new char[cap]), cap(cap) {}
  std::unique_ptr<char[]> data;
  size_t cap;
  size_t len = 0;
  std::string_view view() const { return {data.get(), len}; }
};

// Fills `buf` from the body until it is full or the body ends; returns
// whether the body has ended.
boost::asio::awaitable<Result<bool>> fill(http::BodyReader& body, ChunkBuffer& buf) {
  while (buf.len < buf.cap) {
    auto n = co_await body.read(buf.data.get() + buf.len, buf.cap - buf.len);
    if (!n.ok()) co_return n.error();
    if (*n == 0) break;
    buf.len += *n;
  }
  if (buf.len < buf.cap) co_return true;
  // Full: the body may still have ended exactly here.
  co_return body.done();
}

}  // namespace

std::string md5_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return hex_encode(md, len);
}

boost::asio::awaitable<Result<ReceivedBlob>> receive_blob(ObjectService& svc,
                                                          http::BodyReader& body, uint64_t max_size,
                                                          const AfterCommit& after) {
  if (auto cl = body.content_length(); cl && *cl > max_size) {
    co_return make_error(ErrorCode::kTooLarge, "Your request is too large.");
  }
  // One byte more than a known length lets fill() see the end in one pass.
  const auto cl = body.content_length();
  ChunkBuffer buf(cl ? static_cast<size_t>(std::min<uint64_t>(*cl + 1, kChunk)) : kChunk);
  std::unique_ptr<blob::BlobWriter> writer;
  uint64_t total = 0;
  ReceivedBlob received;
  for (;;) {
    auto ended = co_await fill(body, buf);
    if (!ended.ok()) co_return ended.error();
    total += buf.len;
    if (total > max_size) co_return make_error(ErrorCode::kTooLarge, "Your request is too large.");
    const bool last = *ended;
    if (last && cl && total != *cl) {
      // Cannot happen with a conforming parser; never keep a short object.
      if (writer) {
        auto abort = [&]() -> bool {
          writer->abort();
          return true;
        };
        co_await svc.pool().run(abort);
      }
      co_return make_error(ErrorCode::kUnavailable, "Body shorter than Content-Length");
    }
    bool committed = false;
    // One pool hop per chunk: create (first time), write, and on the last
    // chunk commit and `after` — a small object costs exactly one hop.
    auto step = [&]() -> Status {
      if (last && !writer && total == 0) {
        received = ReceivedBlob{"", 0, md5_hex("")};
      } else {
        if (!writer) {
          auto w = svc.blobs().create();
          if (!w.ok()) return w.error();
          writer = std::move(w).value();
        }
        if (auto st = writer->write(buf.view()); !st.ok()) return st;
        if (!last) return {};
        received = ReceivedBlob{writer->id(), writer->size(), writer->md5_hex()};
        if (after && writer->row_bytes()) {
          // `after` stores the blob's row with the object's: one commit.
          received.row_bytes = writer->row_bytes();
          Status st = after(received);
          received.row_bytes = nullptr;
          if (!st.ok()) return st;  // nothing stored; the writer aborts
          writer->row_stored();
          committed = true;
          return st;
        }
        if (auto st = writer->commit(); !st.ok()) return st;
      }
      committed = true;
      return after ? after(received) : Status{};
    };
    Status st;
    if (last && !writer && total == 0 && !after) {
      // An empty body with nothing to run after it needs no disk at all.
      received = ReceivedBlob{"", 0, md5_hex("")};
    } else {
      st = co_await svc.pool().run(step);
    }
    if (!st.ok()) {
      if (writer && !committed) {
        auto abort = [&]() -> bool {
          writer->abort();
          writer.reset();
          return true;
        };
        co_await svc.pool().run(abort);
      }
      co_return st.error();
    }
    buf.len = 0;
    if (last) break;
  }
  co_return received;
}

boost::asio::awaitable<Result<ReceivedBlob>> store_bytes(ObjectService& svc, std::string data) {
  if (data.empty()) co_return ReceivedBlob{"", 0, md5_hex("")};
  auto job = [&]() -> Result<ReceivedBlob> {
    auto w = svc.blobs().create();
    if (!w.ok()) return w.error();
    if (auto st = (*w)->write(data); !st.ok()) return st.error();
    if (auto st = (*w)->commit(); !st.ok()) return st.error();
    return ReceivedBlob{(*w)->id(), (*w)->size(), (*w)->md5_hex()};
  };
  co_return co_await svc.pool().run(job);
}

Result<std::string> read_blob(blob::BlobStore& blobs, const std::string& blob_id, uint64_t limit) {
  if (blob_id.empty()) return std::string();
  auto r = blobs.open(blob_id);
  if (!r.ok()) return r.error();
  uint64_t size = (*r)->size();
  if (size > limit) return make_error(ErrorCode::kTooLarge, "object too large to read whole");
  std::string out(size, '\0');
  uint64_t off = 0;
  while (off < size) {
    auto n = (*r)->read(off, out.data() + off, size - off);
    if (!n.ok()) return n.error();
    if (*n == 0) return make_error(ErrorCode::kInternal, "blob shorter than its size");
    off += *n;
  }
  return out;
}

PartsBody::PartsBody(ObjectService& svc, std::vector<Part> parts)
    : svc_(svc), parts_(std::move(parts)) {
  for (const auto& p : parts_) size_ += p.blob_id.empty() && !p.reader ? p.text.size() : p.length;
}

void PartsBody::share_reader(const std::string& blob_id,
                             const std::shared_ptr<blob::BlobReader>& reader) {
  for (auto& p : parts_) {
    if (p.blob_id == blob_id) p.reader = reader;
  }
}

boost::asio::awaitable<Result<http::BodySource::Piece>> PartsBody::next() {
  while (index_ < parts_.size()) {
    Part& p = parts_[index_];
    if (p.blob_id.empty() && !p.reader) {
      ++index_;
      if (p.text.empty()) continue;
      Piece piece;
      piece.data = p.text;
      co_return piece;
    }
    if (done_ >= p.length) {
      // The next part reading the same blob (an SLO naming one segment
      // over and over) takes the open reader instead of opening it again.
      if (index_ + 1 < parts_.size()) {
        Part& next = parts_[index_ + 1];
        if (!next.reader && next.blob_id == p.blob_id && !p.blob_id.empty() && p.reader &&
            p.reader->size() >= next.offset + next.length) {
          next.reader = std::move(p.reader);
        }
      }
      p.reader.reset();  // close as soon as its bytes are out
      ++index_;
      done_ = 0;
      continue;
    }
    if (!p.reader) {
      auto open = [&]() -> Result<std::unique_ptr<blob::BlobReader>> {
        return svc_.blobs().open(p.blob_id);
      };
      auto r = co_await svc_.pool().run(open);
      if (!r.ok()) co_return r.error();
      if ((*r)->size() < p.offset + p.length) {
        co_return make_error(ErrorCode::kInternal, "segment blob shorter than its row");
      }
      p.reader = std::shared_ptr<blob::BlobReader>(std::move(r).value());
    }
    uint64_t left = p.length - done_;
    if (p.reader->fd() >= 0) {
      Piece piece;
      piece.fd = p.reader->fd();
      piece.offset = p.offset + done_;
      piece.length = left;
      done_ = p.length;
      co_return piece;
    }
    buf_.resize(static_cast<size_t>(std::min<uint64_t>(left, 256 * 1024)));
    auto n = p.reader->read(p.offset + done_, buf_.data(), buf_.size());
    if (!n.ok()) co_return n.error();
    if (*n == 0) co_return make_error(ErrorCode::kInternal, "blob ended early");
    done_ += *n;
    Piece piece;
    piece.data = std::string_view(buf_.data(), *n);
    co_return piece;
  }
  Piece end;
  end.end = true;
  co_return end;
}

}  // namespace onestack::object
