// GET /info (Swift's capabilities and limits), the route table.
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstring>

#include "core/http/router.h"

#include "core/json.h"
#include "object/api/features.h"
#include "object/api/object_helpers.h"
#include "object/api/py_format.h"
#include "object/api/routes.h"

namespace onestack::object::api {

namespace {

std::string upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

awaitable<Response> info_get(Env env, Request& req) {
  // The proxy takes /info only as it is spelled: "/info/" names no account.
  if (req.path != "/info")
    co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, "Bad URL"));
  const Limits& l = env.svc->limits();
  const ObjectConfig& cfg = env.svc->config();
  namespace json = boost::json;
  // What Swift 2.30's proxy shows with the middleware onestack implements,
  // in the order it registers them (swift/common/registry.py).
  json::object swift{
      {"version", "2.30.1"},
      {"strict_cors_mode", true},
      {"policies",
       json::array{json::object{
           {"name", cfg.storage_policy}, {"aliases", cfg.storage_policy}, {"default", true}}}},
      {"allow_account_management", false},
      {"account_autocreate", true},
      {"max_file_size", l.max_file_size},
      {"max_meta_name_length", l.max_meta_name_length},
      {"max_meta_value_length", l.max_meta_value_length},
      {"max_meta_count", l.max_meta_count},
      {"max_meta_overall_size", l.max_meta_overall_size},
      {"max_header_size", l.max_header_size},
      {"max_object_name_length", l.max_object_name_length},
      {"container_listing_limit", l.container_listing_limit},
      {"account_listing_limit", l.account_listing_limit},
      {"max_account_name_length", l.max_account_name_length},
      {"max_container_name_length", l.max_container_name_length},
      {"extra_header_count", l.extra_header_count},
  };
  const json::array digests{"sha1", "sha256", "sha512"};
  json::object info{
      {"swift", std::move(swift)},
      {"symlink", json::object{{"symloop_max", 2}, {"static_links", true}}},
      {"versioned_writes",
       json::object{{"allowed_flags", json::array{"x-versions-location", "x-history-location"}}}},
      {"object_versioning", json::object{}},
      {"slo", json::object{{"max_manifest_segments", l.max_manifest_segments},
                           {"max_manifest_size", l.max_manifest_size},
                           {"yield_frequency", 10},
                           {"min_segment_size", l.min_segment_size},
                           {"allow_async_delete", false}}},
      {"account_quotas", json::object{}},
      {"container_quotas", json::object{}},
      {"staticweb", json::object{}},
      {"formpost",
       json::object{{"allowed_digests", digests}, {"deprecated_digests", json::array{"sha1"}}}},
      {"crossdomain", json::object{}},
      // No rate is limited: Swift's ratelimit with its defaults says so.
      {"ratelimit", json::object{{"account_ratelimit", 0.0},
                                 {"max_sleep_time_seconds", 60.0},
                                 {"container_ratelimits", json::array{}},
                                 {"container_listing_ratelimits", json::array{}}}},
      {"tempurl", json::object{{"methods", json::array{"GET", "HEAD", "PUT", "POST", "DELETE"}},
                               {"incoming_remove_headers", json::array{"x-timestamp"}},
                               {"incoming_allow_headers", json::array{}},
                               {"outgoing_remove_headers", json::array{"x-object-meta-*"}},
                               {"outgoing_allow_headers", json::array{"x-object-meta-public-*"}},
                               {"allowed_digests", digests},
                               {"deprecated_digests", json::array{"sha1"}}}},
      {"bulk_upload",
       json::object{{"max_containers_per_extraction", l.max_containers_per_extraction},
                    {"max_failed_extractions", l.max_failed_extractions}}},
      {"bulk_delete", json::object{{"max_deletes_per_request", l.max_deletes_per_request},
                                   {"max_failed_deletes", l.max_failed_deletes}}},
      // Swift's container_sync middleware lists realms and clusters upper-case.
      {"container_sync",
       json::object{
           {"realms", json::object{{upper(cfg.sync_realm),
                                    json::object{{"clusters", json::object{{upper(cfg.sync_cluster),
                                                                            json::object{}}}}}}}}}},
  };
  if (req.query.has("swiftinfo_sig") || req.query.has("swiftinfo_expires")) {
    // Admin /info needs the proxy's admin_key; none is configured.
    co_return error_for(req, make_error(ErrorCode::kForbidden, ""));
  }
  Response res = Response::json(bhttp::status::ok, py_json(info));
  res.headers.set(bhttp::field::content_type, "application/json; charset=UTF-8");
  if (req.has_header("Origin")) {
    // The info controller's own CORS answer: any origin, the transaction id.
    res.headers.set(bhttp::field::access_control_allow_origin, req.header("Origin"));
    res.headers.set(bhttp::field::access_control_expose_headers, "x-trans-id");
  }
  add_trans_id(req, res);
  co_return res;
}

awaitable<Response> healthcheck_get(Env env, Request& req) {
  (void)env;
  // swift/common/middleware/healthcheck.py: "OK", with Swift's headers.
  Response res = Response::with_body(bhttp::status::ok, "OK", "text/plain");
  add_trans_id(req, res);
  co_return res;
}

awaitable<Response> crossdomain_get(Env env, Request& req) {
  (void)env;
  // swift/common/middleware/crossdomain.py's default policy.
  Response res = Response::with_body(
      bhttp::status::ok,
      "<?xml version=\"1.0\"?>\n<!DOCTYPE cross-domain-policy SYSTEM "
      "\"http://www.adobe.com/xml/dtds/cross-domain-policy.dtd\" >\n<cross-domain-policy>\n"
      "<allow-access-from domain=\"*\" secure=\"false\" />\n</cross-domain-policy>",
      "application/xml");
  add_trans_id(req, res);
  co_return res;
}

// The crossdomain middleware answers GET only; any other method of the path
// reaches the proxy, for which it names no account.
awaitable<Response> crossdomain_other(Env env, Request& req) {
  (void)env;
  co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, "Bad URL"));
}

namespace {

// A route handler bound to `env`; the handler coroutine gets Env by value.
template <awaitable<Response> (*F)(Env, Request&)>
http::Handler bind(const Env& env) {
  return [env](Request& r) { return F(env, r); };
}

awaitable<Response> not_allowed(Env env, Request& req) {
  (void)env;
  Response r = error_for(req, make_error(ErrorCode::kMethodNotAllowed, ""));
  r.body =
      "<html><h1>Method Not Allowed</h1><p>The method is not allowed for this resource.</p></html>";
  r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
  co_return r;
}

// Account PUT and DELETE (Swift's allow_account_management off). Swift's
// proxy asks the auth middleware before any handler runs, so these are 401
// without a valid token and 403 to a stranger before they are 405.
awaitable<Response> account_not_allowed(Env env, Request& req) {
  Target t = target_of(req);
  auto write = co_await authorize_account_write(env, req, t);
  ONESTACK_SWIFT_TRY(req, write);
  co_return co_await not_allowed(env, req);
}

// bulk.py comes before everything else in Swift's pipeline: a PUT with
// ?extract-archive and a POST or DELETE with ?bulk-delete are its own on
// any path under an account.
template <awaitable<Response> (*Handler)(Env, Request&)>
awaitable<Response> bulk_first(Env env, Request& req) {
  if (req.method == bhttp::verb::put && req.query.has("extract-archive")) {
    co_return co_await bulk_extract(env, req);
  }
  if ((req.method == bhttp::verb::post || req.method == bhttp::verb::delete_) &&
      req.query.has("bulk-delete")) {
    co_return co_await bulk_delete(env, req);
  }
  co_return co_await Handler(env, req);
}

// tempurl.py hands on a TempURL request with only its own parameters: a
// signed URL cannot ask for ?symlink=get, ?multipart-manifest=get, a
// version or anything else its signature does not cover.
template <awaitable<Response> (*Handler)(Env, Request&)>
awaitable<Response> tempurl_query(Env env, Request& req) {
  if (req.query.has("temp_url_sig") && req.query.has("temp_url_expires")) {
    http::QueryParams kept;
    for (const auto& item : req.query.items()) {
      if (item.key == "temp_url_sig" || item.key == "temp_url_expires" ||
          item.key == "temp_url_prefix" || item.key == "temp_url_ip_range" ||
          item.key == "filename" || item.key == "inline") {
        kept.add(item.key, item.value, item.has_value);
      }
    }
    req.query = std::move(kept);
  }
  co_return co_await Handler(env, req);
}

// tempurl.py takes any request with its parameters and refuses one on an
// account or a container (401).
template <awaitable<Response> (*Handler)(Env, Request&)>
awaitable<Response> tempurl_refused(Env env, Request& req) {
  if (has_tempurl_params(req)) co_return tempurl_invalid(req);
  co_return co_await Handler(env, req);
}

// The proxy's cors_validation: an answer to a container or object request
// with an Origin the container allows carries Access-Control-Allow-Origin
// and -Expose-Headers. The settings are read before the handler runs (a
// DELETE may remove the container).
template <awaitable<Response> (*Handler)(Env, Request&)>
awaitable<Response> with_cors(Env env, Request& req) {
  if (!req.has_header("Origin")) co_return co_await Handler(env, req);
  auto rows = co_await load_rows(env, target_of(req), static_cast<int>(Want::kContainer));
  std::optional<store::ContainerRecord> container;
  if (rows.ok() && rows->container) container = std::move(rows->container);
  Response r = co_await Handler(env, req);
  if (is_formpost(req)) {
    // formpost.py answers with only the Access-Control-* headers of its
    // upload's answer: no Vary.
    auto vary = r.headers.find(bhttp::field::vary);
    std::optional<std::string> kept;
    if (vary != r.headers.end()) kept = std::string(vary->value());
    cors_decorate(req, container ? &*container : nullptr, r);
    if (kept)
      r.headers.set(bhttp::field::vary, *kept);
    else
      r.headers.erase(bhttp::field::vary);
    co_return r;
  }
  cors_decorate(req, container ? &*container : nullptr, r);
  co_return r;
}

// slo.py: only a manifest PUT (?multipart-manifest=put) may name an object
// a static large object; any other write that sends the header is refused
// before anything else looks at it.
template <awaitable<Response> (*Handler)(Env, Request&)>
awaitable<Response> slo_header_guarded(Env env, Request& req) {
  std::string_view mm = req.query.get("multipart-manifest").value_or("");
  bool own = (req.method == bhttp::verb::put && mm == "put") ||
             (req.method == bhttp::verb::delete_ && mm == "delete");
  if (!own && req.has_header("X-Static-Large-Object")) {
    co_return error_for(req, make_error(ErrorCode::kInvalidArgument,
                                        "X-Static-Large-Object is a reserved header. To create a "
                                        "static large object add query param "
                                        "multipart-manifest=put."));
  }
  co_return co_await Handler(env, req);
}

awaitable<Response> container_post_route(Env env, Request& req) {
  if (is_formpost(req)) co_return co_await formpost(env, req);
  co_return co_await container_post(env, req);
}

}  // namespace

http::Router build_router(const Env& env) {
  using V = bhttp::verb;
  http::Router r;
  r.decode_whole_path(true);  // Swift routes on its decoded PATH_INFO
  http::RouteOptions stream{.stream_body = true};
  r.add(V::get, "/info", bind<info_get>(env));
  r.add(V::options, "/info", bind<cors_preflight>(env));
  r.add(V::get, "/crossdomain.xml", bind<crossdomain_get>(env));
  for (V v : {V::head, V::post, V::put, V::delete_, V::options}) {
    r.add(v, "/crossdomain.xml", bind<crossdomain_other>(env));
  }
  // The healthcheck middleware answers every method.
  for (V v : {V::get, V::head, V::post, V::put, V::delete_, V::options}) {
    r.add(v, "/healthcheck", bind<healthcheck_get>(env));
  }

  const std::string a = "/v1/{account}";
  r.add(V::head, a, bind<tempurl_refused<account_head_get>>(env));
  r.add(V::get, a, bind<tempurl_refused<account_head_get>>(env));
  r.add(V::post, a, bind<bulk_first<tempurl_refused<account_post>>>(env), stream);
  r.add(V::put, a, bind<bulk_first<tempurl_refused<account_not_allowed>>>(env), stream);
  r.add(V::delete_, a, bind<bulk_first<tempurl_refused<account_not_allowed>>>(env), stream);
  r.add(V::options, a, bind<cors_preflight>(env));

  const std::string c = a + "/{container}";
  r.add(V::put, c, bind<bulk_first<tempurl_refused<with_cors<container_put>>>>(env), stream);
  r.add(V::head, c, bind<tempurl_refused<with_cors<staticweb_container>>>(env));
  r.add(V::get, c, bind<tempurl_refused<with_cors<staticweb_container>>>(env));
  r.add(V::post, c, bind<bulk_first<tempurl_refused<with_cors<container_post_route>>>>(env),
        stream);
  r.add(V::delete_, c, bind<bulk_first<tempurl_refused<with_cors<container_delete>>>>(env), stream);
  r.add(V::options, c, bind<cors_preflight>(env));

  const std::string o = c + "/{object+}";
  r.add(V::put, o, bind<bulk_first<tempurl_query<slo_header_guarded<with_cors<object_put>>>>>(env),
        stream);
  r.add(V::head, o, bind<tempurl_query<with_cors<staticweb_object>>>(env));
  r.add(V::get, o, bind<tempurl_query<with_cors<staticweb_object>>>(env));
  r.add(V::post, o,
        bind<bulk_first<tempurl_query<slo_header_guarded<with_cors<object_post>>>>>(env), stream);
  r.add(V::delete_, o,
        bind<bulk_first<tempurl_query<slo_header_guarded<with_cors<object_delete>>>>>(env), stream);
  r.add(V::copy, o, bind<slo_header_guarded<with_cors<object_copy>>>(env));
  r.add(V::options, o, bind<cors_preflight>(env));
  return r;
}

}  // namespace onestack::object::api

namespace onestack::object::api {

namespace {

// A buffered body handed to a handler that reads a stream.
class BufferedBodyReader final : public http::BodyReader {
 public:
  explicit BufferedBodyReader(const std::string& body) : body_(body) {}
  awaitable<Result<size_t>> read(char* buf, size_t len) override {
    size_t n = std::min(len, body_.size() - pos_);
    std::memcpy(buf, body_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }
  std::optional<uint64_t> content_length() const override { return body_.size(); }
  bool done() const override { return pos_ == body_.size(); }

 private:
  const std::string& body_;
  size_t pos_ = 0;
};

std::string quote_segment(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || std::string_view("_.-~/").find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

awaitable<Response> unmatched(const http::Router* router, Request& req) {
  // swift/proxy/server.py handle_request and get_controller:
  // split_path(path, 1, 4, True) picks the controller; a path it refuses is
  // 404, an account under an unknown API version 400, and a path naming
  // no account, or a container and object with an empty part between, 412
  // "Bad URL". Paths that do name one (a trailing slash, "/v1.0/") go to
  // the routes of /v1/account[/container[/object]].
  std::string path;
  if (!http::percent_decode(req.path, &path)) {
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  if (path.find('\0') != std::string::npos || !valid_utf8(path)) {
    co_return error_for(
        req, make_error(ErrorCode::kPreconditionFailed, "Invalid UTF8 or contains NULL"));
  }
  std::vector<std::string> segs;  // path.split('/', 4)
  size_t i = 0;
  while (segs.size() < 4) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) break;
    segs.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  segs.push_back(path.substr(i));
  if (!segs[0].empty() || segs.size() < 2 || segs[1].empty()) {
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  segs.resize(5);
  const std::string& version = segs[1];
  const std::string &account = segs[2], &container = segs[3], &object = segs[4];
  if (!account.empty() && version != "v1" && version != "v1.0") {
    co_return error_for(req, make_error(ErrorCode::kInvalidArgument, ""));
  }
  std::string canonical = "/v1/" + quote_segment(account);
  if (!object.empty() && !container.empty() && !account.empty()) {
    canonical += "/" + quote_segment(container) + "/" + quote_segment(object);
  } else if (!container.empty() && !account.empty()) {
    canonical += "/" + quote_segment(container);
  } else if (account.empty() || !container.empty() || !object.empty()) {
    co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, "Bad URL"));
  }
  auto m = router->match(req.method, canonical);
  if (m.kind == http::Router::MatchKind::kNoMethod) {
    Response r = error_for(req, make_error(ErrorCode::kMethodNotAllowed, ""));
    r.headers.set(bhttp::field::allow, m.allow);
    co_return r;
  }
  if (m.kind != http::Router::MatchKind::kFound) {
    co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, "Bad URL"));
  }
  req.path_params = std::move(m.params);
  BufferedBodyReader body(req.body);
  if (m.route->options.stream_body) req.body_reader = &body;
  Response res = co_await m.route->handler(req);
  req.body_reader = nullptr;
  co_return res;
}

}  // namespace

http::Handler build_fallback(const http::Router& router) {
  return [r = &router](Request& req) { return unmatched(r, req); };
}

}  // namespace onestack::object::api
