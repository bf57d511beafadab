// CORS, as Swift's proxy does it (swift/proxy/controllers/base.py: OPTIONS
// and cors_validation): a container opts in with
// X-Container-Meta-Access-Control-Allow-Origin (-Max-Age, -Expose-Headers);
// preflight OPTIONS requests are answered from those settings, and actual
// requests from an allowed Origin get Access-Control-Allow-Origin and
// -Expose-Headers (strict_cors_mode: nothing for other origins).
#include <algorithm>
#include <set>

#include "object/api/features.h"
#include "object/api/middleware.h"

namespace onestack::object::api {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> split_spaces(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view item = s.substr(i, j - i);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())))
      item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    i = j + 1;
  }
  return out;
}

std::string meta_value(const store::ContainerRecord* c, const char* key) {
  if (!c) return "";
  auto it = c->meta.find(key);
  return it == c->meta.end() ? "" : it->second;
}

// The methods Swift's controllers list in Allow (their public methods,
// sorted): the account's PUT and DELETE need allow_account_management; the
// copy middleware adds COPY to an object's successful answer.
const char* allowed_methods(size_t depth) {
  switch (depth) {
    case 0: return "GET, HEAD, OPTIONS";
    case 1: return "GET, HEAD, OPTIONS, POST";
    case 2: return "DELETE, GET, HEAD, OPTIONS, POST, PUT";
    default: return "COPY, DELETE, GET, HEAD, OPTIONS, POST, PUT";
  }
}

bool method_listed(std::string_view list, std::string_view method) {
  if (method.empty()) return false;
  for (auto m : split_spaces(list)) {
    if (!m.empty() && m.back() == ',') m.pop_back();
    if (m == method) return true;
  }
  return false;
}

}  // namespace

bool cors_origin_allowed(std::string_view allowed, std::string_view origin) {
  for (const auto& a : split_spaces(allowed)) {
    if (a == "*" || a == origin) return true;
  }
  return false;
}

awaitable<Response> cors_preflight(Env env, Request& req) {
  size_t depth = req.path_params.size();
  const char* methods = allowed_methods(depth);
  Response res = empty_response(req, bhttp::status::ok);
  res.headers.set(bhttp::field::allow, methods);
  std::string_view origin = req.header("Origin");
  // Not a preflight; and /info and accounts carry no CORS settings (Swift
  // answers them with Allow only).
  if (origin.empty() || depth < 2) co_return res;

  Target t = target_of(req);
  auto rows = co_await load_rows(env, t, static_cast<int>(Want::kContainer));
  ONESTACK_SWIFT_TRY(req, rows);
  const store::ContainerRecord* c = rows->container ? &*rows->container : nullptr;
  std::string allow_origin = meta_value(c, "x-container-meta-access-control-allow-origin");
  if (!cors_origin_allowed(allow_origin, origin) ||
      !method_listed(methods, req.header("Access-Control-Request-Method"))) {
    Response r = error_for(req, make_error(ErrorCode::kUnauthenticated, ""));
    std::string_view listed = methods;
    if (listed.rfind("COPY, ", 0) == 0) listed.remove_prefix(6);
    r.headers.set(bhttp::field::allow, listed);
    co_return r;
  }
  // The preflight's headers replace the default answer's, Content-Type too.
  res.headers.erase(bhttp::field::content_type);
  std::string trimmed(allow_origin);
  trimmed.erase(0, trimmed.find_first_not_of(' '));
  trimmed.erase(trimmed.find_last_not_of(' ') + 1);
  if (trimmed == "*") {
    res.headers.set(bhttp::field::access_control_allow_origin, "*");
  } else {
    res.headers.set(bhttp::field::access_control_allow_origin, origin);
    res.headers.set(bhttp::field::vary, "Origin");
  }
  std::string max_age = meta_value(c, "x-container-meta-access-control-max-age");
  if (!max_age.empty()) res.headers.set(bhttp::field::access_control_max_age, max_age);
  res.headers.set(bhttp::field::access_control_allow_methods, methods);
  // Every header asked for is allowed (the CORS spec leaves this open).
  std::string_view asked = req.header("Access-Control-Request-Headers");
  if (!asked.empty()) {
    std::set<std::string> seen;
    std::string list;
    size_t i = 0;
    while (i <= asked.size()) {
      size_t j = asked.find(',', i);
      if (j == std::string_view::npos) j = asked.size();
      std::string item(asked.substr(i, j - i));
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty() && seen.insert(item).second) list += (list.empty() ? "" : ", ") + item;
      i = j + 1;
    }
    if (!list.empty()) {
      res.headers.set(bhttp::field::access_control_allow_headers, list);
      auto vary = res.headers.find(bhttp::field::vary);
      res.headers.set(bhttp::field::vary,
                      vary == res.headers.end()
                          ? std::string("Access-Control-Request-Headers")
                          : std::string(vary->value()) + ", Access-Control-Request-Headers");
    }
  }
  co_return res;
}

void cors_decorate(const Request& req, const store::ContainerRecord* c, Response& res) {
  std::string_view origin = req.header("Origin");
  if (origin.empty()) return;
  std::string allow_origin = meta_value(c, "x-container-meta-access-control-allow-origin");
  if (!cors_origin_allowed(allow_origin, origin)) return;  // strict_cors_mode
  if (res.headers.find(bhttp::field::access_control_expose_headers) == res.headers.end()) {
    std::set<std::string> expose = {"cache-control", "content-language",
                                    "content-type",  "expires",
                                    "last-modified", "pragma",
                                    "etag",          "x-timestamp",
                                    "x-trans-id",    "x-openstack-request-id"};
    for (const auto& f : res.headers) {
      std::string name = lower(f.name_string());
      if (name.rfind("x-container-meta", 0) == 0 || name.rfind("x-object-meta", 0) == 0) {
        expose.insert(name);
      }
    }
    for (const auto& h :
         split_spaces(meta_value(c, "x-container-meta-access-control-expose-headers"))) {
      expose.insert(lower(h));
    }
    std::string list;
    for (const auto& h : expose) list += (list.empty() ? "" : ", ") + h;
    res.headers.set(bhttp::field::access_control_expose_headers, list);
  }
  if (res.headers.find(bhttp::field::access_control_allow_origin) == res.headers.end()) {
    std::string trimmed = allow_origin;
    trimmed.erase(0, trimmed.find_first_not_of(' '));
    trimmed.erase(trimmed.find_last_not_of(' ') + 1);
    if (trimmed == "*") {
      res.headers.set(bhttp::field::access_control_allow_origin, "*");
    } else {
      res.headers.set(bhttp::field::access_control_allow_origin, origin);
      // A listing's "Accept" is listing_formats' word, added outside the
      // proxy controller that adds "Origin": Origin comes first.
      auto vary = res.headers.find(bhttp::field::vary);
      if (vary == res.headers.end()) {
        res.headers.set(bhttp::field::vary, "Origin");
      } else if (vary->value() == "Accept") {
        res.headers.set(bhttp::field::vary, "Origin, Accept");
      } else {
        res.headers.set(bhttp::field::vary, std::string(vary->value()) + ", Origin");
      }
    }
  }
}

}  // namespace onestack::object::api
