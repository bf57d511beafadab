// Account routes: HEAD/GET (headers and container listing) and POST
// (metadata, ACLs, Temp-URL keys, quotas).
#include <boost/json.hpp>

#include "core/json.h"
#include "object/api/features.h"
#include "object/api/listing.h"
#include "object/api/object_helpers.h"
#include "object/api/py_format.h"
#include "object/api/routes.h"
#include "object/api/versioning_names.h"
#include "object/api/versioning_rows.h"
#include "object/service/blob_io.h"

namespace onestack::object::api {

Target target_of(const Request& req) {
  Target t;
  if (!req.path_params.empty()) t.account = req.path_params[0];
  if (req.path_params.size() > 1) t.container = req.path_params[1];
  if (req.path_params.size() > 2) t.object = req.path_params[2];
  return t;
}

namespace {

bool wants(int want, Want w) { return (want & static_cast<int>(w)) != 0; }

// Whether `o` is read whole and MD5-checked with its rows (the GET fast path).
bool small_plain(const store::ObjectRecord& o) {
  return !o.blob_id.empty() && o.size <= kVerifiedReadLimit && o.etag.size() == 32 &&
         !o.meta.count("x-static-large-object") && !o.meta.count("x-object-manifest") &&
         !o.meta.count("x-symlink-target");
}

// Every part `want` asks for, from the read cache; nullopt on any miss
// (absent rows are not cached: they take the pool path).
std::optional<Rows> cached_rows(ReadCache& cache, const Target& t, int want) {
  Rows rows;
  const bool settings_only = wants(want, Want::kSettingsOnly);
  if (wants(want, Want::kAccount)) {
    rows.account = settings_only ? cache.account_settings(t.account) : cache.account(t.account);
    if (!rows.account) return std::nullopt;
  }
  if (wants(want, Want::kContainer) || wants(want, Want::kObject)) {
    rows.container = settings_only ? cache.container_settings(t.account, t.container)
                                   : cache.container(t.account, t.container);
    if (!rows.container) return std::nullopt;
  }
  if (wants(want, Want::kObject)) {
    if (!(rows.object = cache.object(t.account, t.container, t.object))) return std::nullopt;
    if (wants(want, Want::kSmallBody) && small_plain(*rows.object)) {
      auto bytes = cache.body(rows.object->blob_id);
      if (!bytes) return std::nullopt;
      rows.small_body = std::string(*bytes);
    }
  }
  return rows;
}

}  // namespace

namespace {

awaitable<Result<Rows>> load_stored_rows(Env env, Target t, int want) {
  ReadCache& cache = env.svc->cache();
  if (auto hit = cached_rows(cache, t, want)) co_return std::move(*hit);
  auto job = [&]() -> Result<Rows> {
    Rows rows;
    auto& st = env.svc->store();
    const uint64_t generation = cache.generation();
    if (wants(want, Want::kAccount)) {
      auto a = st.get_account(t.account);
      if (a.ok()) {
        rows.account = std::move(a).value();
        cache.put_account(generation, *rows.account);
      } else if (a.error().code != ErrorCode::kNotFound) {
        return a.error();
      }
    }
    if (wants(want, Want::kContainer) || wants(want, Want::kObject)) {
      auto c = st.get_container(t.account, t.container);
      if (c.ok()) {
        rows.container = std::move(c).value();
        cache.put_container(generation, *rows.container);
      } else if (c.error().code != ErrorCode::kNotFound) {
        return c.error();
      }
    }
    if (wants(want, Want::kObject) && rows.container) {
      auto o = st.get_object(t.account, t.container, t.object);
      if (o.ok()) {
        rows.object = std::move(o).value();
        cache.put_object(generation, *rows.object);
      } else if (o.error().code != ErrorCode::kNotFound) {
        return o.error();
      }
    }
    if (wants(want, Want::kSmallBody) && rows.object && small_plain(*rows.object)) {
      // The GET fast path: the bytes come in the same hop as the rows (they
      // are only sent once the caller is authorized).
      const store::ObjectRecord& o = *rows.object;
      auto data = read_blob(env.svc->blobs(), o.blob_id, kVerifiedReadLimit);
      if (data.ok() && (data->size() != o.size || md5_hex(*data) != o.etag)) {
        (void)env.svc->blobs().quarantine(o.blob_id);
        data = make_error(ErrorCode::kNotFound, "damaged blob quarantined");
      }
      if (data.ok()) cache.put_body(o.blob_id, std::make_shared<const std::string>(*data));
      rows.small_body = std::move(data);
    }
    return rows;
  };
  co_return co_await env.svc->pool().run(job);
}

}  // namespace

awaitable<Result<Rows>> load_rows(Env env, Target t, int want) {
  auto rows = co_await load_stored_rows(env, t, want);
  if (!rows.ok() || !rows->container || wants(want, Want::kSettingsOnly) ||
      !versioning::ov_configured(*rows->container)) {
    co_return rows;
  }
  std::string hidden = versions_container_name(t.container);
  auto job = [&]() { return env.svc->store().get_container(t.account, hidden); };
  auto versions = co_await env.svc->pool().run(job);
  if (versions.ok()) rows->versions_bytes = versions->bytes_used;
  co_return rows;
}

void account_headers(Response& res, const std::string& name,
                     const std::optional<store::AccountRecord>& account, const ObjectConfig& cfg,
                     bool owner, int64_t now_us) {
  (void)name;
  if (!account) {
    // An account not created yet answers as account_autocreate makes the
    // proxy answer (swift/account/utils.py FakeAccountBroker): empty, both
    // timestamps now, no policy totals.
    const std::string now = format_timestamp(now_us);
    res.headers.set("X-Account-Container-Count", "0");
    res.headers.set("X-Account-Object-Count", "0");
    res.headers.set("X-Account-Bytes-Used", "0");
    res.headers.set("X-Timestamp", now);
    res.headers.set("X-PUT-Timestamp", now);
    return;
  }
  const store::AccountRecord& a = *account;
  res.headers.set("X-Account-Container-Count", std::to_string(a.container_count));
  res.headers.set("X-Account-Object-Count", std::to_string(a.object_count));
  res.headers.set("X-Account-Bytes-Used", std::to_string(a.bytes_used));
  res.headers.set("X-Timestamp", format_timestamp(a.created_us));
  // The account server reports a policy once a container of it was made
  // (its policy_stat row), even at zero after the containers went.
  if (a.container_count > 0 || a.meta.count(std::string(kPolicyStatSysmeta))) {
    std::string policy = "X-Account-Storage-Policy-" + cfg.storage_policy;
    res.headers.set(policy + "-Container-Count", std::to_string(a.container_count));
    res.headers.set(policy + "-Object-Count", std::to_string(a.object_count));
    res.headers.set(policy + "-Bytes-Used", std::to_string(a.bytes_used));
  }
  for (const auto& [k, v] : a.meta) {
    if (k == kProjectDomainSysmeta) {
      // keystoneauth shows the domain it recorded (keystone_start_response).
      res.headers.set("X-Account-Project-Domain-Id", v);
      continue;
    }
    if (k.rfind("x-account-sysmeta-", 0) == 0) continue;  // gatekeeper hides sysmeta
    // ACLs and Temp-URL keys are the owner's: a key shown to a reader would
    // let them forge TempURLs (Swift hides both the same way).
    bool secret = k == "x-account-access-control" || k.rfind("x-account-meta-temp-url-key", 0) == 0;
    if (secret && !owner) continue;
    if (k == "x-account-access-control") {
      res.headers.set("X-Account-Access-Control", v);
      continue;
    }
    res.headers.set(title_case(k), v);
  }
  res.headers.set(bhttp::field::accept_ranges, "bytes");
}

awaitable<Response> account_head_get(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  ONESTACK_SWIFT_TRY(req, check_name_length(env.svc->limits(), t, NameLevel::kAccount));
  if (!req.auth) co_return error_for(req, make_error(ErrorCode::kUnauthenticated, ""));
  auto rows = co_await load_rows(env, t, static_cast<int>(Want::kAccount));
  ONESTACK_SWIFT_TRY(req, rows);
  const store::Metadata* meta = rows->account ? &rows->account->meta : nullptr;
  auto access = authorize(env, req, t, Op::kAccountRead, meta, nullptr);
  ONESTACK_SWIFT_TRY(req, access);

  auto format = listing_format(req);
  ONESTACK_SWIFT_TRY(req, format);
  const ListFormat fmt = *format;
  Response res;
  res.status = bhttp::status::no_content;
  if (req.method == bhttp::verb::get) {
    auto q = listing_query(req, env.svc->limits().account_listing_limit);
    if (!q.ok()) {
      // The account server finds these, and the proxy passes its answer on
      // in a body of its own: swob's text/html.
      Error e = q.error();
      e.media_type = {};
      co_return error_for(req, e);
    }
    hide_reserved_names(*q);
    std::vector<store::ContainerListEntry> items;
    if (rows->account) {
      auto job = [&]() -> Result<std::vector<store::ContainerListEntry>> {
        auto listed = env.svc->store().list_containers(t.account, *q);
        if (!listed.ok()) return listed;
        // object_versioning.py lists a versioned container with its
        // versions' bytes.
        for (auto& item : *listed) {
          if (!item.subdir.empty() || !versioning::ov_configured(item.container)) continue;
          auto versions = env.svc->store().get_container(
              t.account, versions_container_name(item.container.name));
          if (versions.ok()) item.container.bytes_used += versions->bytes_used;
        }
        return listed;
      };
      auto listed = co_await env.svc->pool().run(job);
      ONESTACK_SWIFT_TRY(req, listed);
      items = std::move(listed).value();
    }
    if (!items.empty() || fmt != ListFormat::kPlain) {
      res.status = bhttp::status::ok;
      res.body = render_containers(fmt, t.account, items);
    }
  }
  // The proxy's stand-in for an account not created yet (account_autocreate)
  // is a 200 listing, which a HEAD keeps.
  if (req.method == bhttp::verb::head && !rows->account) res.status = bhttp::status::ok;
  listing_headers(req, fmt, res);
  if (res.status == bhttp::status::no_content || req.method == bhttp::verb::head) {
    res.headers.set(bhttp::field::content_length, "0");
  }
  account_headers(res, t.account, rows->account, env.svc->config(), access->owner,
                  env.svc->clock().now_us());
  add_trans_id(req, res);
  co_return res;
}

void record_project_domain(const Request& req, const Target& t, store::Metadata& updates) {
  // keystoneauth's _set_project_domain_id: a new account records the domain
  // of the project it belongs to when that project's token creates it.
  if (req.auth && t.account == "AUTH_" + req.auth->project_id &&
      !req.auth->project_domain_id.empty()) {
    updates[std::string(kProjectDomainSysmeta)] = req.auth->project_domain_id;
  }
}

namespace {

// X-Account-Access-Control must be a JSON object whose keys are the three
// levels and whose values are lists of strings: the checks and words of
// Swift's tempauth, the Swift auth that honours account ACLs.
Status check_account_acl(std::string_view v) {
  if (v.empty()) return {};
  auto invalid = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument,
                      "X-Account-Access-Control invalid: " + std::string(why) +
                          "\n\nInput: " + std::string(v) + "\n");
  };
  auto quoted = [](std::string_view key) {
    std::string out;
    append_py_json_string(out, key);
    return out;
  };
  auto parsed = parse_json_object(v, 4);
  if (!parsed.ok()) return invalid("Syntax error in input ('" + std::string(v) + "')");
  for (const auto& [k, val] : *parsed) {
    if (k != "admin" && k != "read-write" && k != "read-only") {
      return invalid("Key " + quoted(k) + " not recognized");
    }
  }
  for (std::string_view level : {"admin", "read-write", "read-only"}) {
    const boost::json::value* val = parsed->if_contains(level);
    if (!val) continue;
    if (!val->is_array()) return invalid("Value for key " + quoted(level) + " must be a list");
    for (const auto& e : val->as_array()) {
      if (!e.is_string()) return invalid("Elements of " + quoted(level) + " list must be strings");
    }
  }
  return {};
}

}  // namespace

awaitable<Result<AccountWrite>> authorize_account_write(Env env, const Request& req, Target t) {
  if (!req.auth) co_return make_error(ErrorCode::kUnauthenticated, "");
  auto rows = co_await load_rows(env, t, static_cast<int>(Want::kAccount));
  if (!rows.ok()) co_return std::move(rows).error();
  const store::Metadata* meta = rows->account ? &rows->account->meta : nullptr;
  auto access = authorize(env, req, t, Op::kAccountWrite, meta, nullptr);
  if (!access.ok()) co_return std::move(access).error();
  if (!access->owner) co_return make_error(ErrorCode::kForbidden, "");
  co_return AccountWrite{std::move(*rows), *access};
}

awaitable<Response> account_post(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  ONESTACK_SWIFT_TRY(req, check_name_length(env.svc->limits(), t, NameLevel::kAccount));
  auto write = co_await authorize_account_write(env, req, t);
  ONESTACK_SWIFT_TRY(req, write);
  const Rows* rows = &write->rows;
  const Access* access = &write->access;
  auto updates =
      metadata_updates(env.svc->limits(), req, "x-account-meta-", {"x-account-access-control"});
  ONESTACK_SWIFT_TRY(req, updates);
  if (auto it = updates->find("x-account-access-control"); it != updates->end()) {
    ONESTACK_SWIFT_TRY(req, check_account_acl(it->second));
  }
  // Account quotas are the reseller's to set (account_quotas middleware).
  for (const char* q : {"x-account-meta-quota-bytes"}) {
    auto it = updates->find(q);
    if (it == updates->end()) continue;
    if (!access->reseller) co_return error_for(req, make_error(ErrorCode::kForbidden, ""));
    if (!it->second.empty() && it->second.find_first_not_of("0123456789") != std::string::npos) {
      co_return error_for(req, make_error(ErrorCode::kInvalidArgument, "Invalid bytes quota."));
    }
  }
  if (!rows->account) record_project_domain(req, t, *updates);
  store::Metadata merged = rows->account ? rows->account->meta : store::Metadata{};
  merge_metadata(merged, *updates);
  ONESTACK_SWIFT_TRY(
      req, check_metadata_limits(env.svc->limits(), merged, "x-account-meta-", MetaCheck::kStored));
  int64_t now = env.svc->clock().now_us();
  auto job = [&]() { return env.svc->store().update_account_meta(t.account, *updates, now); };
  ONESTACK_SWIFT_TRY(req, co_await env.svc->pool().run(job));
  co_return empty_response(req, bhttp::status::no_content);
}

}  // namespace onestack::object::api
