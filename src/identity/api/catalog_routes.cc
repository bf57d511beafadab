// Regions, services and endpoints (Keystone v3 "catalog" API). Every write
// goes through write(), so the catalog that tokens carry is rebuilt before the
// answer leaves.
//
// Work handed to the pool captures by reference only: the awaiting
// coroutine's frame outlives it, and g++ 12 mis-copies closures with
// non-trivial captures that are temporaries inside a co_await expression.
#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <set>

#include "core/ids.h"
#include "identity/api/routes.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

constexpr size_t kMaxId = 255;
constexpr size_t kMaxText = 65535;
constexpr size_t kMaxUrl = 225;
// Bounds walks up the region tree, so corrupt data cannot loop forever.
constexpr int kMaxRegionDepth = 1000;

// --- validation helpers ----------------------------------------------------

Error not_found(std::string_view kind, const std::string& id) {
  return make_error(ErrorCode::kNotFound, "Could not find " + std::string(kind) + ": " + id + ".");
}

// A store error, with kNotFound reworded in Keystone's form for `kind`/`id`.
Error store_error(Error e, std::string_view kind, const std::string& id) {
  if (e.code == ErrorCode::kNotFound) return not_found(kind, id);
  return e;
}

// An optional string attribute whose schema does not admit null.
Status check_non_null_string(const json::object& o, std::string_view key, size_t min, size_t max) {
  auto it = o.find(key);
  if (it == o.end()) return ok_status();
  if (!it->value().is_string()) return invalid_field(key, "must be a string");
  size_t n = it->value().as_string().size();
  if (n < min || n > max) {
    return invalid_field(key, "length must be " + std::to_string(min) + ".." + std::to_string(max));
  }
  return ok_status();
}

// PATCH bodies must change something (JSON schema minProperties: 1).
Status check_not_empty(const json::object& o, std::string_view entity) {
  if (!o.empty()) return ok_status();
  return invalid_field(entity, "{} does not have enough properties");
}

// A PATCH may repeat the entity's id but not change it.
std::string string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

json::value id_or_null(const std::string& id) {
  return id.empty() ? json::value(nullptr) : json::value(id);
}

// --- regions ---------------------------------------------------------------

json::object render_region(const Env& env, const store::Record& rec) {
  json::object r = record_doc(rec);
  r["id"] = rec.id;
  r["parent_region_id"] = id_or_null(rec.parent_id);
  if (!r.contains("description") || !r["description"].is_string()) r["description"] = "";
  add_self_link(env, r, "regions");
  return r;
}

Status check_region_body(const json::object& r) {
  ONESTACK_TRY(check_non_null_string(r, "id", 0, kMaxId));
  ONESTACK_TRY(check_string(r, "description", kMaxText, false));
  ONESTACK_TRY(check_string(r, "parent_region_id", kMaxId, false));
  return ok_status();
}

// Moves a region body's attributes into a record (columns) and its document
// (everything else). A null description is stored as "", as Keystone does.
void fill_region(store::Record& rec, json::object r) {
  if (auto it = r.find("parent_region_id"); it != r.end()) {
    rec.parent_id = it->value().is_string() ? std::string(it->value().as_string()) : "";
  }
  for (auto k : {"id", "parent_region_id", "links"}) r.erase(k);
  json::object doc = record_doc(rec);
  for (auto& kv : r) doc[kv.key()] = kv.value();
  if (!doc.contains("description") || doc["description"].is_null()) doc["description"] = "";
  rec.doc = json::serialize(doc);
}

awaitable<Response> store_new_region(Env& env, std::string id, json::object r) {
  store::Record rec;
  rec.id = id.empty() ? new_hex_id() : std::move(id);
  fill_region(rec, std::move(r));
  ONESTACK_API_TRY(co_await write(env, [&env, &rec] {
    auto& st = env.svc.store();
    auto existing = st.get(Kind::kRegion, rec.id);
    if (existing.ok() || existing.error().code != ErrorCode::kNotFound) {
      if (!existing.ok()) return Status(existing.error());
      return Status(make_error(
          ErrorCode::kConflict,
          "Conflict occurred attempting to store region - Duplicate ID, " + rec.id + "."));
    }
    if (!rec.parent_id.empty()) {
      auto parent = st.get(Kind::kRegion, rec.parent_id);
      if (!parent.ok()) return Status(store_error(parent.error(), "region", rec.parent_id));
    }
    return st.create(Kind::kRegion, rec);
  }));
  json::object out;
  out["region"] = render_region(env, rec);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> create_region(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_region", {}));
  auto body = body_entity(req, "region");
  ONESTACK_API_TRY(body);
  json::object r = std::move(body).value();
  ONESTACK_API_TRY(check_region_body(r));
  // The id may be chosen by the client; an empty one is generated.
  std::string id = string_at(r, "id");
  co_return co_await store_new_region(env, std::move(id), std::move(r));
}

awaitable<Response> put_region(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_region", {}));
  auto body = body_entity(req, "region");
  ONESTACK_API_TRY(body);
  json::object r = std::move(body).value();
  ONESTACK_API_TRY(check_region_body(r));
  const std::string& url_id = req.param(0);
  if (r.contains("id") && string_at(r, "id") != url_id) {
    co_return error_response(bad_request("Conflicting region IDs specified: \"" + url_id +
                                         "\" != \"" + string_at(r, "id") + "\""));
  }
  co_return co_await store_new_region(env, url_id, std::move(r));
}

awaitable<Response> list_regions(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_regions", {}));
  auto recs = co_await env.pool.run([&env] { return env.svc.store().list(Kind::kRegion, {}); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& rec : *recs) {
    json::object r = render_region(env, rec);
    if (!matches_filter(r, req, "parent_region_id")) continue;
    out.push_back(std::move(r));
  }
  co_return collection_response(env, req, "regions", std::move(out));
}

awaitable<Response> get_region(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:get_region", {}));
  auto rec = co_await fetch(env, Kind::kRegion, req.param(0));
  ONESTACK_API_TRY(rec);
  json::object out;
  out["region"] = render_region(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_region(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:update_region", {}));
  auto body = body_entity(req, "region");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  ONESTACK_API_TRY(check_not_empty(patch, "region"));
  ONESTACK_API_TRY(check_region_body(patch));
  ONESTACK_API_TRY(check_same_id(patch, req.param(0)));
  auto rec = co_await fetch(env, Kind::kRegion, req.param(0));
  ONESTACK_API_TRY(rec);
  store::Record updated = *rec;
  fill_region(updated, std::move(patch));
  ONESTACK_API_TRY(co_await write(env, [&env, &updated] {
    auto& st = env.svc.store();
    // The new parent must exist, and must not be the region or below it.
    std::string p = updated.parent_id;
    for (int depth = 0; !p.empty() && depth < kMaxRegionDepth; ++depth) {
      if (p == updated.id) {
        return Status(bad_request("The specified parent region " + updated.parent_id +
                                  " would create a circular region hierarchy."));
      }
      auto parent = st.get(Kind::kRegion, p);
      if (!parent.ok()) {
        if (depth == 0) return Status(store_error(parent.error(), "region", p));
        break;
      }
      p = parent->parent_id;
    }
    return st.update(Kind::kRegion, updated);
  }));
  json::object out;
  out["region"] = render_region(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_region(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:delete_region", {}));
  auto rec = co_await fetch(env, Kind::kRegion, req.param(0));
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  ONESTACK_API_TRY(co_await write(env, [&env, &id] {
    auto& st = env.svc.store();
    // Keystone deletes the whole subtree, unless an endpoint lives in it.
    auto regions = st.list(Kind::kRegion, {});
    if (!regions.ok()) return Status(std::move(regions).error());
    std::set<std::string> subtree{id};
    std::deque<std::string> todo{id};
    while (!todo.empty()) {
      std::string cur = std::move(todo.front());
      todo.pop_front();
      for (const auto& r : *regions) {
        if (r.parent_id == cur && subtree.insert(r.id).second) todo.push_back(r.id);
      }
    }
    auto endpoints = st.list(Kind::kEndpoint, {});
    if (!endpoints.ok()) return Status(std::move(endpoints).error());
    for (const auto& e : *endpoints) {
      if (subtree.count(string_at(record_doc(e), "region_id"))) {
        return Status(make_error(ErrorCode::kForbidden,
                                 "Unable to delete region " + id +
                                     " because it or its child regions have associated "
                                     "endpoints."));
      }
    }
    // Keystone's registered_limit.region_id is a foreign key: deleting a
    // region a registered limit names fails there (a 500); here it is
    // refused as the endpoints' case is.
    auto limits = st.list(Kind::kRegisteredLimit, {});
    if (!limits.ok()) return Status(std::move(limits).error());
    for (const auto& l : *limits) {
      if (subtree.count(l.scope)) {
        return Status(make_error(ErrorCode::kForbidden,
                                 "Unable to delete region " + id +
                                     " because it or its child regions have associated "
                                     "registered limits."));
      }
    }
    for (const auto& r : subtree) {
      Status s = st.remove(Kind::kRegion, r);
      if (!s.ok() && s.error().code != ErrorCode::kNotFound) return s;
    }
    return ok_status();
  }));
  co_return Response::empty(bh::status::no_content);
}

// --- services --------------------------------------------------------------

json::object render_service(const Env& env, const store::Record& rec) {
  json::object s = record_doc(rec);
  s["id"] = rec.id;
  if (!s.contains("enabled")) s["enabled"] = true;
  if (!s.contains("name")) s["name"] = rec.name;
  if (!s.contains("type")) s["type"] = "";
  add_self_link(env, s, "services");
  return s;
}

Status check_service_body(const json::object& s, bool create) {
  if (create && (!s.contains("type") || s.at("type").is_null())) {
    return invalid_field("service", "'type' is a required property");
  }
  ONESTACK_TRY(check_non_null_string(s, "type", 1, 255));
  ONESTACK_TRY(check_non_null_string(s, "name", 1, 255));
  ONESTACK_TRY(check_string(s, "description", kMaxText, false));
  ONESTACK_TRY(check_bool(s, "enabled"));
  return ok_status();
}

awaitable<Response> create_service(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_service", {}));
  auto body = body_entity(req, "service");
  ONESTACK_API_TRY(body);
  json::object s = std::move(body).value();
  ONESTACK_API_TRY(check_service_body(s, true));
  for (auto k : {"id", "links"}) s.erase(k);
  if (!s.contains("enabled")) s["enabled"] = true;
  if (!s.contains("name")) s["name"] = "";
  store::Record rec;
  rec.id = new_hex_id();
  rec.name = string_at(s, "name");
  rec.doc = json::serialize(s);
  ONESTACK_API_TRY(
      co_await write(env, [&env, &rec] { return env.svc.store().create(Kind::kService, rec); }));
  json::object out;
  out["service"] = render_service(env, rec);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> list_services(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_services", {}));
  auto recs = co_await env.pool.run([&env] { return env.svc.store().list(Kind::kService, {}); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& rec : *recs) {
    json::object s = render_service(env, rec);
    if (!matches_filter(s, req, "type") || !matches_filter(s, req, "name")) continue;
    out.push_back(std::move(s));
  }
  co_return collection_response(env, req, "services", std::move(out));
}

awaitable<Response> get_service(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:get_service", {}));
  auto rec = co_await fetch(env, Kind::kService, req.param(0));
  ONESTACK_API_TRY(rec);
  json::object out;
  out["service"] = render_service(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_service(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:update_service", {}));
  auto body = body_entity(req, "service");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  ONESTACK_API_TRY(check_not_empty(patch, "service"));
  ONESTACK_API_TRY(check_service_body(patch, false));
  ONESTACK_API_TRY(check_same_id(patch, req.param(0)));
  auto rec = co_await fetch(env, Kind::kService, req.param(0));
  ONESTACK_API_TRY(rec);
  store::Record updated = *rec;
  json::object d = record_doc(updated);
  for (auto& kv : patch) {
    if (kv.key() == "id" || kv.key() == "links") continue;
    d[kv.key()] = kv.value();
  }
  updated.name = string_at(d, "name");
  updated.doc = json::serialize(d);
  ONESTACK_API_TRY(co_await write(
      env, [&env, &updated] { return env.svc.store().update(Kind::kService, updated); }));
  json::object out;
  out["service"] = render_service(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_service(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:delete_service", {}));
  auto rec = co_await fetch(env, Kind::kService, req.param(0));
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  ONESTACK_API_TRY(co_await write(env, [&env, &id] {
    // A service takes its endpoints with it. Keystone's
    // registered_limit.service_id is a foreign key: deleting a service a
    // registered limit names fails there (a 500); here it is refused.
    auto& st = env.svc.store();
    store::RecordQuery q;
    q.parent_id = id;
    auto limits = st.list(Kind::kRegisteredLimit, q);
    if (!limits.ok()) return Status(std::move(limits).error());
    if (!limits->empty()) {
      return Status(make_error(
          ErrorCode::kForbidden,
          "Unable to delete service " + id + " because it has associated registered limits."));
    }
    auto endpoints = st.list(Kind::kEndpoint, q);
    if (!endpoints.ok()) return Status(std::move(endpoints).error());
    for (const auto& e : *endpoints) {
      Status s = st.remove(Kind::kEndpoint, e.id);
      if (!s.ok() && s.error().code != ErrorCode::kNotFound) return s;
    }
    Status s = st.remove(Kind::kService, id);
    if (!s.ok()) return Status(store_error(std::move(s).error(), "service", id));
    return ok_status();
  }));
  co_return Response::empty(bh::status::no_content);
}

// --- endpoints -------------------------------------------------------------

json::object render_endpoint(const Env& env, const store::Record& rec) {
  json::object e = record_doc(rec);
  e["id"] = rec.id;
  e["service_id"] = rec.parent_id;
  if (!e.contains("region_id") || !e["region_id"].is_string()) e["region_id"] = nullptr;
  e["region"] = e["region_id"];
  if (!e.contains("enabled")) e["enabled"] = true;
  if (!e.contains("interface")) e["interface"] = "";
  if (!e.contains("url")) e["url"] = "";
  add_self_link(env, e, "endpoints");
  return e;
}

// True if Keystone would accept `url`'s substitutions: after "$(" becomes
// "%(", Python's %-formatting with only the allowed keys must succeed.
bool url_substitutions_ok(std::string_view url) {
  static constexpr std::array<std::string_view, 10> kAllowed = {
      "tenant_id",    "project_id", "user_id",     "public_bind_host", "admin_bind_host",
      "compute_host", "admin_port", "public_port", "public_endpoint",  "admin_endpoint"};
  for (size_t i = 0; i < url.size(); ++i) {
    char c = url[i];
    bool opens = (c == '$' || c == '%') && i + 1 < url.size() && url[i + 1] == '(';
    if (c == '%' && !opens) {
      if (i + 1 < url.size() && url[i + 1] == '%') {
        ++i;
        continue;
      }
      return false;
    }
    if (!opens) continue;
    size_t close = url.find(')', i + 2);
    if (close == std::string_view::npos) return false;
    std::string_view key = url.substr(i + 2, close - (i + 2));
    if (std::find(kAllowed.begin(), kAllowed.end(), key) == kAllowed.end()) return false;
    size_t j = close + 1;
    while (j < url.size() &&
           std::string_view("-+ #0123456789.").find(url[j]) != std::string_view::npos) {
      ++j;
    }
    // Values are strings: only string conversions succeed.
    if (j >= url.size() || std::string_view("sra").find(url[j]) == std::string_view::npos) {
      return false;
    }
    i = j;
  }
  return true;
}

Status check_endpoint_body(const json::object& e, bool create) {
  if (create) {
    for (auto k : {"interface", "service_id", "url"}) {
      if (!e.contains(k))
        return invalid_field("endpoint", "'" + std::string(k) + "' is a required property");
    }
  }
  if (auto it = e.find("interface"); it != e.end()) {
    const json::value& v = it->value();
    if (!v.is_string() ||
        (v.as_string() != "public" && v.as_string() != "internal" && v.as_string() != "admin")) {
      return invalid_field("interface",
                           json::serialize(v) + " is not one of ['admin', 'internal', 'public']");
    }
  }
  ONESTACK_TRY(check_non_null_string(e, "service_id", 1, 64));
  ONESTACK_TRY(check_non_null_string(e, "url", 0, kMaxUrl));
  if (auto it = e.find("url"); it != e.end()) {
    std::string_view url = it->value().as_string();
    // Keystone's pattern "^[a-zA-Z0-9+.-]+:.+": a scheme, a colon, something.
    size_t colon = url.find(':');
    bool scheme_ok = colon != std::string_view::npos && colon > 0 && colon + 1 < url.size();
    for (size_t i = 0; scheme_ok && i < colon; ++i) {
      unsigned char ch = static_cast<unsigned char>(url[i]);
      scheme_ok = std::isalnum(ch) || ch == '+' || ch == '.' || ch == '-';
    }
    if (!scheme_ok) return invalid_field("url", "'" + std::string(url) + "' is not a valid URL");
    if (!url_substitutions_ok(url)) {
      return bad_request("Cannot create an endpoint with an invalid URL: " + std::string(url) +
                         ".");
    }
  }
  ONESTACK_TRY(check_string(e, "region_id", kMaxId, false));
  ONESTACK_TRY(check_string(e, "region", kMaxId, false));
  ONESTACK_TRY(check_bool(e, "enabled"));
  ONESTACK_TRY(check_non_null_string(e, "name", 0, kMaxText));
  ONESTACK_TRY(check_string(e, "description", kMaxText, false));
  return ok_status();
}

// Applies an endpoint body to `rec` (create or patch). The deprecated
// "region" attribute stands in for region_id when that is absent; such a
// region is created on the fly, as Keystone does for old v2-style clients.
// Returns the region to auto-create ("" for none).
std::string apply_endpoint_body(store::Record& rec, json::object e) {
  std::string auto_region;
  bool has_region_id = e.contains("region_id") && !e["region_id"].is_null();
  if (!has_region_id) {
    if (auto it = e.find("region"); it != e.end() && it->value().is_string()) {
      auto_region = std::string(it->value().as_string());
      e["region_id"] = auto_region;
    }
  }
  if (auto it = e.find("service_id"); it != e.end()) {
    rec.parent_id = std::string(it->value().as_string());
  }
  for (auto k : {"id", "links", "service_id", "region", "legacy_endpoint_id"}) e.erase(k);
  json::object doc = record_doc(rec);
  for (auto& kv : e) doc[kv.key()] = kv.value();
  if (!doc.contains("enabled")) doc["enabled"] = true;
  if (!doc.contains("region_id")) doc["region_id"] = nullptr;
  rec.doc = json::serialize(doc);
  return auto_region;
}

// Runs on the pool: checks the endpoint's service and region exist (creating
// an auto region), then creates or replaces the endpoint.
Status save_endpoint(IdentityService& svc, const store::Record& rec, const std::string& auto_region,
                     bool create) {
  auto& st = svc.store();
  auto service = st.get(Kind::kService, rec.parent_id);
  if (!service.ok()) {
    if (service.error().code != ErrorCode::kNotFound) return Status(service.error());
    return Status(expecting("endpoint service_id", "service table"));
  }
  std::string region_id = string_at(record_doc(rec), "region_id");
  if (!region_id.empty()) {
    auto region = st.get(Kind::kRegion, region_id);
    if (!region.ok()) {
      if (region.error().code != ErrorCode::kNotFound) return Status(region.error());
      if (region_id != auto_region) return Status(expecting("endpoint region_id", "region table"));
      store::Record r;
      r.id = region_id;
      r.doc = R"({"description":""})";
      ONESTACK_TRY(st.create(Kind::kRegion, r));
    }
  }
  return create ? st.create(Kind::kEndpoint, rec) : st.update(Kind::kEndpoint, rec);
}

awaitable<Response> create_endpoint(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_endpoint", {}));
  auto body = body_entity(req, "endpoint");
  ONESTACK_API_TRY(body);
  json::object e = std::move(body).value();
  ONESTACK_API_TRY(check_endpoint_body(e, true));
  store::Record rec;
  rec.id = new_hex_id();
  std::string auto_region = apply_endpoint_body(rec, std::move(e));
  ONESTACK_API_TRY(co_await write(
      env, [&env, &rec, &auto_region] { return save_endpoint(env.svc, rec, auto_region, true); }));
  json::object out;
  out["endpoint"] = render_endpoint(env, rec);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> list_endpoints(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_endpoints", {}));
  store::RecordQuery q;
  if (auto s = req.query.get("service_id")) q.parent_id = std::string(*s);
  auto recs =
      co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kEndpoint, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& rec : *recs) {
    json::object e = render_endpoint(env, rec);
    if (!matches_filter(e, req, "interface") || !matches_filter(e, req, "service_id") ||
        !matches_filter(e, req, "region_id")) {
      continue;
    }
    out.push_back(std::move(e));
  }
  co_return collection_response(env, req, "endpoints", std::move(out));
}

awaitable<Response> get_endpoint(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:get_endpoint", {}));
  auto rec = co_await fetch(env, Kind::kEndpoint, req.param(0));
  ONESTACK_API_TRY(rec);
  json::object out;
  out["endpoint"] = render_endpoint(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_endpoint(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:update_endpoint", {}));
  auto body = body_entity(req, "endpoint");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  ONESTACK_API_TRY(check_not_empty(patch, "endpoint"));
  ONESTACK_API_TRY(check_endpoint_body(patch, false));
  ONESTACK_API_TRY(check_same_id(patch, req.param(0)));
  auto rec = co_await fetch(env, Kind::kEndpoint, req.param(0));
  ONESTACK_API_TRY(rec);
  store::Record updated = *rec;
  std::string auto_region = apply_endpoint_body(updated, std::move(patch));
  ONESTACK_API_TRY(co_await write(env, [&env, &updated, &auto_region] {
    return save_endpoint(env.svc, updated, auto_region, false);
  }));
  json::object out;
  out["endpoint"] = render_endpoint(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_endpoint(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:delete_endpoint", {}));
  std::string id = req.param(0);
  ONESTACK_API_TRY(co_await write(env, [&env, &id] {
    Status s = env.svc.store().remove(Kind::kEndpoint, id);
    if (!s.ok()) return Status(store_error(std::move(s).error(), "endpoint", id));
    return ok_status();
  }));
  co_return Response::empty(bh::status::no_content);
}

}  // namespace

void register_catalog_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::post, "/v3/regions", create_region);
  add_route(r, env, V::get, "/v3/regions", list_regions);
  add_route(r, env, V::get, "/v3/regions/{region_id}", get_region);
  add_route(r, env, V::put, "/v3/regions/{region_id}", put_region);
  add_route(r, env, V::patch, "/v3/regions/{region_id}", update_region);
  add_route(r, env, V::delete_, "/v3/regions/{region_id}", delete_region);
  add_route(r, env, V::post, "/v3/services", create_service);
  add_route(r, env, V::get, "/v3/services", list_services);
  add_route(r, env, V::get, "/v3/services/{service_id}", get_service);
  add_route(r, env, V::patch, "/v3/services/{service_id}", update_service);
  add_route(r, env, V::delete_, "/v3/services/{service_id}", delete_service);
  add_route(r, env, V::post, "/v3/endpoints", create_endpoint);
  add_route(r, env, V::get, "/v3/endpoints", list_endpoints);
  add_route(r, env, V::get, "/v3/endpoints/{endpoint_id}", get_endpoint);
  add_route(r, env, V::patch, "/v3/endpoints/{endpoint_id}", update_endpoint);
  add_route(r, env, V::delete_, "/v3/endpoints/{endpoint_id}", delete_endpoint);
}

}  // namespace onestack::identity::api
