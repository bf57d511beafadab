// What a handler returns: status, headers and a body — a string, or a
// BodySource the connection pulls pieces from. The connection adds
// Content-Length (or chunked framing), the request id, Date, and for HEAD
// requests sends the headers of the would-be body without the body.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace onestack::http {

namespace beast_http = boost::beast::http;

// A response body produced piece by piece (an object's bytes, a manifest's
// segments one after another). The connection calls next() on the I/O
// thread until it returns an end piece; a source must not block (it may
// co_await a worker pool). An error after the headers went out closes the
// connection: the client sees a short body, never a wrong one.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // The body's total length, sent as Content-Length; nullopt sends chunked.
  virtual std::optional<uint64_t> size() const = 0;
  // One piece: bytes in memory (valid until the next call), or a range of
  // an open file the connection may send with sendfile (fd stays owned by
  // the source), or the end.
  struct Piece {
    std::string_view data;
    int fd = -1;
    uint64_t offset = 0;
    uint64_t length = 0;
    bool end = false;
  };
  virtual boost::asio::awaitable<Result<Piece>> next() = 0;
};

struct Response {
  beast_http::status status = beast_http::status::ok;
  beast_http::fields headers;
  std::string body;
  std::shared_ptr<BodySource> stream;  // when set, the body instead of `body`

  // A response with `body` and its Content-Type.
  static Response with_body(beast_http::status s, std::string body, std::string_view type) {
    Response r;
    r.status = s;
    r.headers.set(beast_http::field::content_type, type);
    r.body = std::move(body);
    return r;
  }
  static Response json(beast_http::status s, std::string body) {
    return with_body(s, std::move(body), "application/json");
  }
  static Response empty(beast_http::status s) {
    Response r;
    r.status = s;
    return r;
  }
};

}  // namespace onestack::http
