// Routes a request to a handler by method and path pattern. Patterns are
// literal segments and "{name}" parameters ("/v3/projects/{project_id}");
// a parameter matches one non-empty segment, a trailing "{name+}" matches the
// rest of the path. The route table is public so tests (and the isolation
// matrix) can enumerate every route. Built at start-up, read-only after:
// match() is thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/request.h"
#include "core/http/response.h"

namespace onestack::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct RouteOptions {
  // The handler reads the body itself through Request::body_reader instead
  // of receiving it buffered (object uploads).
  bool stream_body = false;
};

struct Route {
  beast_http::verb method;
  std::string pattern;  // also the metrics label
  Handler handler;
  size_t index = 0;  // position in the table, for per-route metrics
  RouteOptions options;
};

class Router {
 public:
  // Adds a route. Routes are matched in the order added; add literal
  // patterns before parameterised ones that could shadow them.
  void add(beast_http::verb method, std::string pattern, Handler handler,
           RouteOptions options = {});

  enum class MatchKind { kFound, kNoPath, kNoMethod };
  struct Match {
    MatchKind kind = MatchKind::kNoPath;
    const Route* route = nullptr;
    std::vector<std::string> params;  // decoded
    std::string allow;                // for kNoMethod: "GET, HEAD, ..."
  };
  // Matches `path` (percent-encoded). HEAD falls back to a GET route.
  Match match(beast_http::verb method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

  // Swift's WSGI paths: the whole path is percent-decoded before it is
  // split at "/" (so "%2F" separates segments), and a bad escape stays as
  // it is, as Python's unquote leaves it. Off by default: a "%2F" stays
  // inside its segment and a bad escape matches no route.
  void decode_whole_path(bool on) { decode_whole_path_ = on; }

 private:
  struct Compiled {
    std::vector<std::string> segments;  // "{...}" marks a parameter
    bool rest = false;                  // last segment is "{name+}"
  };
  // Whether `segs` (of `path`) fits `c`; with `params`, also decodes its
  // parameters into it (null: checks their escapes only).
  bool match_pattern(const Compiled& c, std::string_view path,
                     const std::vector<std::string_view>& segs,
                     std::vector<std::string>* params) const;

  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
  bool decode_whole_path_ = false;
};

// Percent-decodes `s` ("+" is left as is). Returns false on a bad escape.
bool percent_decode(std::string_view s, std::string* out);

}  // namespace onestack::http
