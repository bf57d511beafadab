// A parsed HTTP request as handlers see it: method, raw and decoded path,
// query parameters, headers, a bounded buffered body, the route's path
// parameters, the request id, and the caller's AuthContext if a valid token
// came with it. Owned by the connection for the duration of one exchange.
#pragma once

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
  struct Item {
    std::string key;
    std::string value;
    bool has_value;
  };
  const std::vector<Item>& items() const { return items_; }

 private:
  std::vector<Item> items_;
};

struct Request {
  beast_http::verb method = beast_http::verb::unknown;
  std::string method_name;
  std::string target;  // as received
  std::string path;    // the target's path, still percent-encoded
  QueryParams query;
  beast_http::fields headers;
  std::string body;
  std::vector<std::string> path_params;  // percent-decoded, in pattern order
  std::string request_id;                // "req-<uuid>"
  std::string remote;                    // peer address
  bool secure = false;                   // arrived over TLS
  std::optional<auth::AuthContext> auth; // set when X-Auth-Token validated
  std::optional<Error> auth_error;       // set when a token came and failed

  // Returns the header's value, or "" when absent.
  std::string_view header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view{} : std::string_view(it->value());
  }
  bool has_header(std::string_view name) const { return headers.find(name) != headers.end(); }
  const std::string& param(size_t i) const { return path_params.at(i); }
};

}  // namespace onestack::http
