// Container routes: PUT (create or update), HEAD/GET (headers and object
// listing), POST (metadata, ACLs, quotas, versioning), DELETE.
#include <strings.h>

#include <cctype>

#include "object/api/features.h"
#include "object/api/listing.h"
#include "object/api/routes.h"
#include "object/api/versioning_names.h"
#include "object/api/versioning_rows.h"

namespace onestack::object::api {

namespace {

// The non-prefixed container headers a PUT or POST may set.
const std::initializer_list<std::string_view> kContainerExtras = {
    "x-container-read",   "x-container-write",   "x-versions-location",  "x-history-location",
    "x-versions-enabled", "x-container-sync-to", "x-container-sync-key",
};

bool is_uint(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Validates what a PUT/POST asks to set.
Status check_container_updates(const store::Metadata& u) {
  // container_quotas.py's own words.
  const std::pair<const char*, const char*> quotas[] = {
      {"x-container-meta-quota-bytes", "Invalid bytes quota."},
      {"x-container-meta-quota-count", "Invalid count quota."},
  };
  for (const auto& [q, message] : quotas) {
    auto it = u.find(q);
    if (it != u.end() && !it->second.empty() && !is_uint(it->second)) {
      return make_error(ErrorCode::kInvalidArgument, message);
    }
  }
  auto loc = u.find("x-versions-location");
  auto hist = u.find("x-history-location");
  if (loc != u.end() && hist != u.end() && !loc->second.empty() && !hist->second.empty()) {
    return make_plain_error(
        ErrorCode::kInvalidArgument,
        "Only one of x-versions-location or x-history-location may be specified");
  }
  for (auto it : {loc, hist}) {
    if (it != u.end() && it->second.find('/') != std::string::npos) {
      return make_error(ErrorCode::kPreconditionFailed, "Container name cannot contain slashes");
    }
  }
  return {};
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Swift's clean_acl (common/middleware/acl.py), which keystoneauth applies
// to X-Container-Read/-Write before they are stored: entries trimmed, empty
// ones dropped, the referrer designators .r/.ref/.referer/.referrer written
// as ".r:" with "*.example.com" as ".example.com"; a referrer in a write
// ACL, one without a host, or an unknown ".designator:" is a 400.
Result<std::string> clean_acl(std::string_view header, std::string_view value) {
  std::string out;
  auto add = [&out](std::string_view v) {
    if (!out.empty()) out.push_back(',');
    out.append(v);
  };
  auto quoted = [](std::string_view v) { return "'" + std::string(v) + "'"; };
  size_t i = 0;
  while (i <= value.size()) {
    size_t j = value.find(',', i);
    if (j == std::string_view::npos) j = value.size();
    std::string_view raw = trim_spaces(value.substr(i, j - i));
    i = j + 1;
    if (raw.empty()) continue;
    size_t colon = raw.find(':');
    if (colon == std::string_view::npos) {
      add(raw);
      continue;
    }
    std::string_view first = trim_spaces(raw.substr(0, colon));
    std::string_view second = trim_spaces(raw.substr(colon + 1));
    if (first.empty() || first.front() != '.') {
      add(raw);
      continue;
    }
    if (first != ".r" && first != ".ref" && first != ".referer" && first != ".referrer") {
      return make_error(ErrorCode::kInvalidArgument,
                        "Unknown designator " + quoted(first) + " in ACL: " + quoted(raw));
    }
    if (header == "x-container-write") {
      return make_error(ErrorCode::kInvalidArgument,
                        "Referrers not allowed in write ACL: " + quoted(raw));
    }
    bool negate = !second.empty() && second.front() == '-';
    if (negate) second = trim_spaces(second.substr(1));
    if (!second.empty() && second != "*" && second.front() == '*')
      second = trim_spaces(second.substr(1));
    if (second.empty() || second == ".") {
      return make_error(ErrorCode::kInvalidArgument,
                        "No host/domain value after referrer designation in ACL: " + quoted(raw));
    }
    add(".r:" + std::string(negate ? "-" : "") + std::string(second));
  }
  return out;
}

// Cleans the ACL headers among `u` in place (see clean_acl).
Status clean_acls(store::Metadata& u) {
  for (const char* h : {"x-container-read", "x-container-write"}) {
    auto it = u.find(h);
    if (it == u.end() || it->second.empty()) continue;
    auto cleaned = clean_acl(h, it->second);
    if (!cleaned.ok()) return cleaned.error();
    it->second = std::move(cleaned).value();
  }
  return {};
}

// Swift's container server refuses an X-Container-Sync-To it cannot sync
// to (swift/container/server.py, validate_sync_to): 400 with the reason.
Status check_sync_to(const Env& env, const store::Metadata& u) {
  auto it = u.find("x-container-sync-to");
  if (it == u.end() || it->second.empty()) return {};
  auto target = parse_sync_to(it->second, env.svc->config());
  if (!target.ok()) return target.error();
  return {};
}

void container_headers(Response& res, const store::ContainerRecord& c, bool owner) {
  res.headers.set("X-Container-Object-Count", std::to_string(c.object_count));
  res.headers.set("X-Container-Bytes-Used", std::to_string(c.bytes_used));
  res.headers.set("X-Timestamp", format_timestamp(c.created_us));
  res.headers.set("Last-Modified", http_date(last_modified_seconds(c.put_us)));
  res.headers.set("X-Storage-Policy", c.storage_policy);
  for (const auto& [k, v] : c.meta) {
    // ACLs, sync settings and Temp-URL keys are the owner's (a key shown to
    // an ACL reader would let them forge TempURLs).
    bool acl = k == "x-container-read" || k == "x-container-write" || k == "x-container-sync-key" ||
               k == "x-container-sync-to" || k.rfind("x-container-meta-temp-url-key", 0) == 0;
    if (acl && !owner) continue;
    if (k.rfind("x-container-sysmeta-", 0) == 0) continue;  // gatekeeper hides sysmeta
    res.headers.set(title_case(k), v);
  }
  res.headers.set(bhttp::field::accept_ranges, "bytes");
}

// Swift's account_autocreate: writes the account with the policy it then
// reports for good, plus `updates`, at a timestamp of its own.
awaitable<Status> autocreate_account(Env env, const Target& t, store::Metadata updates) {
  updates[std::string(kPolicyStatSysmeta)] = "1";
  const int64_t account_us = env.svc->clock().now_us();
  auto made = [&]() {
    return env.svc->store().update_account_meta(t.account, updates, account_us);
  };
  co_return co_await env.svc->pool().run(made);
}

}  // namespace

awaitable<Response> container_put(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  if (!req.auth) co_return error_for(req, make_error(ErrorCode::kUnauthenticated, ""));
  auto rows = co_await load_rows(
      env, t, static_cast<int>(Want::kAccount) | static_cast<int>(Want::kContainer));
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = authorize(env, req, t, Op::kContainerAdmin,
                          rows->account ? &rows->account->meta : nullptr, nullptr);
  ONESTACK_SWIFT_TRY(req, access);
  if (!access->owner) co_return error_for(req, make_error(ErrorCode::kForbidden, ""));
  const ObjectConfig& cfg = env.svc->config();
  std::string_view policy = req.header("X-Storage-Policy");
  if (!policy.empty() && strncasecmp(std::string(policy).c_str(), cfg.storage_policy.c_str(),
                                     cfg.storage_policy.size() + 1) != 0) {
    co_return error_for(req,
                        make_plain_error(ErrorCode::kInvalidArgument,
                                         "Invalid X-Storage-Policy '" + std::string(policy) + "'"));
  }
  ONESTACK_SWIFT_TRY(req, check_name_length(env.svc->limits(), t, NameLevel::kContainer));
  auto updates = metadata_updates(env.svc->limits(), req, "x-container-meta-", kContainerExtras);
  ONESTACK_SWIFT_TRY(req, updates);
  ONESTACK_SWIFT_TRY(req, clean_acls(*updates));
  ONESTACK_SWIFT_TRY(req, check_container_updates(*updates));
  ONESTACK_SWIFT_TRY(req, check_sync_to(env, *updates));
  ONESTACK_SWIFT_TRY(req,
                     co_await versioning_container_update(env, req, t, rows->container, &*updates));
  store::Metadata merged = rows->container ? rows->container->meta : store::Metadata{};
  merge_metadata(merged, *updates);
  ONESTACK_SWIFT_TRY(req, check_metadata_limits(env.svc->limits(), merged, "x-container-meta-",
                                                MetaCheck::kStored));
  if (!rows->account || !rows->account->meta.count(std::string(kPolicyStatSysmeta))) {
    // Swift's proxy creates a missing account first, before the container.
    store::Metadata account_updates;
    if (!rows->account) record_project_domain(req, t, account_updates);
    ONESTACK_SWIFT_TRY(req, co_await autocreate_account(env, t, std::move(account_updates)));
  }
  store::ContainerRecord c;
  c.account = t.account;
  c.name = t.container;
  c.created_us = c.put_us = env.svc->clock().now_us();
  c.meta = *updates;
  c.storage_policy = cfg.storage_policy;
  auto job = [&]() { return env.svc->store().create_container(c); };
  auto created = co_await env.svc->pool().run(job);
  ONESTACK_SWIFT_TRY(req, created);
  co_return empty_response(req, *created ? bhttp::status::created : bhttp::status::accepted);
}

awaitable<Response> container_head_get(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  auto rows = co_await load_rows(
      env, t, static_cast<int>(Want::kAccount) | static_cast<int>(Want::kContainer));
  ONESTACK_SWIFT_TRY(req, rows);
  auto access =
      authorize(env, req, t, Op::kContainerRead, rows->account ? &rows->account->meta : nullptr,
                rows->container ? &rows->container->meta : nullptr);
  ONESTACK_SWIFT_TRY(req, access);
  // The listing's parameters are checked before the container is looked
  // for (listing_formats, then the container server's own checks).
  auto format = listing_format(req);
  ONESTACK_SWIFT_TRY(req, format);
  ListFormat fmt = *format;
  std::optional<store::ListQuery> query;
  if (req.method == bhttp::verb::get && !req.query.has("versions")) {
    auto q = listing_query(req, env.svc->limits().container_listing_limit);
    ONESTACK_SWIFT_TRY(req, q);
    query = std::move(*q);
  }
  if (!rows->container) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  const store::ContainerRecord& c = *rows->container;

  Response res;
  res.status = bhttp::status::no_content;
  if (req.method == bhttp::verb::get && req.query.has("versions")) {
    // Object versioning's listing of every version: JSON only.
    if (!accepts_json(req)) co_return error_for(req, make_error(ErrorCode::kNotAcceptable, ""));
    auto listed = co_await versions_listing(env, req, t, c);
    ONESTACK_SWIFT_TRY(req, listed);
    fmt = ListFormat::kJson;
    res.status = bhttp::status::ok;
    res.body = std::move(listed).value();
  } else if (req.method == bhttp::verb::get) {
    const store::ListQuery* q = &*query;
    // Rendered on the pool thread as the rows stream out of the store.
    ObjectListingWriter writer(fmt, t.account, t.container,
                               std::min<uint64_t>(q->limit, c.object_count));
    auto job = [&]() {
      return env.svc->store().scan_objects(
          t.account, t.container, *q, [&](const store::ObjectListRow& row) { writer.add(row); });
    };
    auto listed = co_await env.svc->pool().run(job);
    ONESTACK_SWIFT_TRY(req, listed);
    if (writer.count() > 0 || fmt != ListFormat::kPlain) {
      res.status = bhttp::status::ok;
      res.body = writer.finish();
    }
  }
  listing_headers(req, fmt, res);
  if (res.status == bhttp::status::no_content) res.headers.set(bhttp::field::content_length, "0");
  container_headers(res, c, access->owner);
  // object_versioning.py counts the versions' bytes as the container's.
  res.headers.set("X-Container-Bytes-Used", std::to_string(c.bytes_used + rows->versions_bytes));
  add_trans_id(req, res);
  co_return res;
}

awaitable<Response> container_post(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  if (!req.auth) co_return error_for(req, make_error(ErrorCode::kUnauthenticated, ""));
  auto rows = co_await load_rows(
      env, t, static_cast<int>(Want::kAccount) | static_cast<int>(Want::kContainer));
  ONESTACK_SWIFT_TRY(req, rows);
  auto access =
      authorize(env, req, t, Op::kContainerAdmin, rows->account ? &rows->account->meta : nullptr,
                rows->container ? &rows->container->meta : nullptr);
  ONESTACK_SWIFT_TRY(req, access);
  if (!access->owner) co_return error_for(req, make_error(ErrorCode::kForbidden, ""));
  if (!rows->container) {
    if (!rows->account && truthy(req.header("X-Versions-Enabled"))) {
      // Swift's object versioning makes the hidden versions container
      // before the POST finds no container: that creates the account
      // (without a project domain), and the account stays.
      ONESTACK_SWIFT_TRY(req, co_await autocreate_account(env, t, {}));
    }
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  auto updates = metadata_updates(env.svc->limits(), req, "x-container-meta-", kContainerExtras);
  ONESTACK_SWIFT_TRY(req, updates);
  ONESTACK_SWIFT_TRY(req, clean_acls(*updates));
  ONESTACK_SWIFT_TRY(req, check_container_updates(*updates));
  ONESTACK_SWIFT_TRY(req, check_sync_to(env, *updates));
  ONESTACK_SWIFT_TRY(req,
                     co_await versioning_container_update(env, req, t, rows->container, &*updates));
  store::Metadata merged = rows->container->meta;
  merge_metadata(merged, *updates);
  ONESTACK_SWIFT_TRY(req, check_metadata_limits(env.svc->limits(), merged, "x-container-meta-",
                                                MetaCheck::kStored));
  // A POST moves the container's Last-Modified (its put timestamp), not its
  // X-Timestamp.
  const int64_t put_us = env.svc->clock().now_us();
  auto job = [&]() {
    return env.svc->store().update_container_meta(t.account, t.container, *updates, put_us);
  };
  ONESTACK_SWIFT_TRY(req, co_await env.svc->pool().run(job));
  co_return empty_response(req, bhttp::status::no_content);
}

awaitable<Response> container_delete(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  if (!req.auth) co_return error_for(req, make_error(ErrorCode::kUnauthenticated, ""));
  auto rows = co_await load_rows(env, t, static_cast<int>(Want::kAccount));
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = authorize(env, req, t, Op::kContainerAdmin,
                          rows->account ? &rows->account->meta : nullptr, nullptr);
  ONESTACK_SWIFT_TRY(req, access);
  if (!access->owner) co_return error_for(req, make_error(ErrorCode::kForbidden, ""));
  ONESTACK_SWIFT_TRY(req, co_await versioning_container_delete(env, req, t));
  auto job = [&]() { return env.svc->store().delete_container(t.account, t.container); };
  auto st = co_await env.svc->pool().run(job);
  if (!st.ok() && st.error().code == ErrorCode::kConflict) {
    Response r = error_for(req, make_error(ErrorCode::kConflict, ""));
    r.body =
        "<html><h1>Conflict</h1><p>There was a conflict when trying to complete your "
        "request.</p></html>";
    r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
    co_return r;
  }
  ONESTACK_SWIFT_TRY(req, st);
  co_return empty_response(req, bhttp::status::no_content);
}

}  // namespace onestack::object::api
