// A parsed HTTP request as handlers see it: method, raw and decoded path,
// query parameters, headers, a bounded buffered body (or, for routes that
// stream, a BodyReader), the route's path parameters, the request id, and
// the caller's AuthContext if a valid token came with it. Owned by the
// connection for the duration of one exchange.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/auth/auth_context.h"
#include "core/result.h"

namespace onestack::http {

namespace beast_http = boost::beast::http;

// Query parameters in order of appearance, percent-decoded.
class QueryParams {
 public:
  void add(std::string key, std::string value, bool has_value) {
    items_.push_back({std::move(key), std::move(value), has_value});
  }
  // Returns the first value of `key`, or nullopt if absent. A key given
  // without "=" ("?nocatalog") has an empty value.
  std::optional<std::string_view> get(std::string_view key) const {
    for (const auto& i : items_) {
      if (i.key == key) return std::string_view(i.value);
    }
    return std::nullopt;
  }
  bool has(std::string_view key) const { return get(key).has_value(); }
  // Drops every value of `key`.
  void remove(std::string_view key) {
    std::erase_if(items_, [&](const Item& i) { return i.key == key; });
  }
  struct Item {
    std::string key;
    std::string value;
    bool has_value;
  };
  const std::vector<Item>& items() const { return items_; }

 private:
  std::vector<Item> items_;
};

// The body of a request on a streaming route, read piece by piece as the
// handler consumes it, so memory stays bounded whatever the body's size.
// Chunked framing is decoded. On a request that sent "Expect: 100-continue"
// the interim 100 response goes out on the first read(), so a handler that
// refuses the request early (401, 404, 413) never makes the client upload.
// Used by the handler's coroutine only; valid until the handler returns.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads the next bytes of the body into `buf` (at most `len`); returns the
  // count, 0 once the body has ended. Errors: kTooLarge past the server's
  // streaming limit, kInvalidArgument for bad framing, kUnavailable when the
  // client goes away or the read times out.
  virtual boost::asio::awaitable<Result<size_t>> read(char* buf, size_t len) = 0;
  // The declared Content-Length, or nullopt for a chunked body.
  virtual std::optional<uint64_t> content_length() const = 0;
  // Whether the whole body has been read.
  virtual bool done() const = 0;
};

struct Request {
  beast_http::verb method = beast_http::verb::unknown;
  std::string method_name;
  std::string target;  // as received
  std::string path;    // the target's path, still percent-encoded
  QueryParams query;
  beast_http::fields headers;
  std::string body;                       // buffered routes
  BodyReader* body_reader = nullptr;      // streaming routes; not owned
  std::vector<std::string> path_params;   // percent-decoded, in pattern order
  std::string request_id;                 // "req-<uuid>"
  std::string remote;                     // peer address
  bool secure = false;                    // arrived over TLS
  std::optional<auth::AuthContext> auth;  // set when X-Auth-Token validated
  std::optional<Error> auth_error;        // set when a token came and failed

  // Returns the header's value, or "" when absent.
  std::string_view header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view{} : std::string_view(it->value());
  }
  bool has_header(std::string_view name) const { return headers.find(name) != headers.end(); }
  const std::string& param(size_t i) const { return path_params.at(i); }
};

}  // namespace onestack::http
