// Unified limits: /v3/registered_limits, /v3/limits and /v3/limits/model, as
// Keystone Zed serves them with its default [unified_limit]
// enforcement_model = flat. Sources of the behaviour: keystone/api/
// registered_limits.py and limits.py (routes, list visibility, policy
// targets), keystone/limit/core.py (what must exist), keystone/limit/
// backends/sql.py (uniqueness, references, update rules), keystone/limit/
// schema.py (request validation) and keystone/limit/models/flat.py (no
// hierarchy checks at all).
//
// A registered limit is a record whose parent_id is its service, scope its
// region ("" for none) and name its resource name; its document holds
// default_limit and description. A limit adds its project or domain as
// owner_id and keeps project_id, domain_id, resource_limit and description
// in its document. It copies its registered limit's service, region and
// resource name, which cannot change while a limit refers to them. The
// store's unique key makes (service, region, resource) unique among
// registered limits and adds the owner for limits, so two racing creates
// cannot both succeed; a list POST is stored with create_all, all or nothing,
// as Keystone's one transaction.
//
// Work handed to the pool captures by reference only, and co_await
// expressions name locals (see write() in common.h).
#include <cctype>
#include <charconv>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "core/ids.h"
#include "identity/api/routes.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

// keystone/limit/models/flat.py
constexpr const char* kFlatDescription =
    "Limit enforcement and validation does not take project hierarchy into consideration.";
constexpr int64_t kMaxLimit = 0x7FFFFFFF;  // schema.py: the largest signed INT
constexpr int64_t kMinLimit = -1;          // -1: unlimited
constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxResourceName = 255;

// --- errors, in Keystone's words (keystone/exception.py) ---------------------

Error duplicate_entry(std::string_view type) {
  return make_error(ErrorCode::kConflict, "Conflict occurred attempting to store " +
                                              std::string(type) + " - Duplicate entry.");
}

Error registered_limit_not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "Could not find registered limit for " + id + ".");
}

Error limit_not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "Could not find limit for " + id + ".");
}

// NoLimitReference.
Error no_limit_reference() {
  return make_error(ErrorCode::kForbidden,
                    "Unable to create a limit that has no corresponding registered limit.");
}

// RegisteredLimitError.
Error registered_limit_in_use(const std::string& id) {
  return make_error(ErrorCode::kForbidden, "Unable to update or delete registered limit " + id +
                                               " because there are project limits associated "
                                               "with it.");
}

// A store error with kNotFound and kConflict reworded by `not_found` and as
// `type`'s duplicate entry.
Error store_error(Error e, std::string_view type, Error (*not_found)(const std::string&),
                  const std::string& id) {
  if (e.code == ErrorCode::kNotFound) return not_found(id);
  if (e.code == ErrorCode::kConflict) return duplicate_entry(type);
  return e;
}

// --- request validation (keystone/limit/schema.py) ---------------------------
// Keystone runs jsonschema's Draft 4 validator and answers its first error
// in the schema's keyword order: "Invalid input for field '<path>': <why>"
// where the error has a path ("0/default_limit"), the bare reason where it
// has none, with values written as Python's repr() writes them.

// Python's repr() of a str.
void append_py_string(std::string& out, std::string_view s) {
  char quote =
      s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos ? '"' : '\'';
  out += quote;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += quote;
}

// Python's repr() of the value json.loads would make of `v`.
void append_py_repr(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "None"; return;
    case json::kind::bool_: out += v.get_bool() ? "True" : "False"; return;
    case json::kind::int64: out += std::to_string(v.get_int64()); return;
    case json::kind::uint64: out += std::to_string(v.get_uint64()); return;
    case json::kind::double_: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
      std::string text = ec == std::errc() ? std::string(buf, end) : "nan";
      if (text.find_first_of(".en") == std::string::npos) text += ".0";
      out += text;
      return;
    }
    case json::kind::string: append_py_string(out, v.get_string()); return;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        append_py_repr(out, e);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        append_py_string(out, kv.key());
        out += ": ";
        append_py_repr(out, kv.value());
      }
      out += '}';
      return;
    }
  }
}

std::string py_repr(const json::value& v) {
  std::string out;
  append_py_repr(out, v);
  return out;
}

std::string py_str_repr(std::string_view s) {
  std::string out;
  append_py_string(out, s);
  return out;
}

// Where and why a body breaks the schema.
struct Violation {
  std::string path;  // "0/service_id", "" for the body itself
  std::string why;
};
using Check = std::optional<Violation>;

Error as_error(const Violation& v) {
  if (v.path.empty()) return bad_request(v.why);
  return bad_request("Invalid input for field '" + v.path + "': " + v.why);
}

std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "/" + std::string(key);
}

// jsonschema counts a string's length in code points.
size_t code_points(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// parameter_types.id_string's pattern '^[a-zA-Z0-9-]+$', searched with
// Python's re, whose '$' also matches before a final newline.
bool id_pattern_ok(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) || u >= 0x80) {
      if (c != '-') return false;
    }
  }
  return true;
}

// The property schemas schema.py uses.
enum class Shape {
  kId,            // parameter_types.id_string
  kRegionOrNull,  // a registered limit's region_id: {'type': ['null', 'string']}
  kRegion,        // a limit's region_id: {'type': 'string'}
  kResourceName,  // a string of 1..255
  kCount,         // default_limit, resource_limit: an integer in -1..0x7FFFFFFF
  kDescription,   // validation.nullable(parameter_types.description)
};

struct Prop {
  const char* name;
  Shape shape;
};

// jsonschema's first complaint about `v` under `shape` ("" if none).
std::string shape_error(const json::value& v, Shape shape) {
  std::string r = py_repr(v);
  auto length_error = [&](size_t min, size_t max) -> std::string {
    size_t n = code_points(v.get_string());
    if (n < min) return r + " is too short";
    if (n > max) return r + " is too long";
    return "";
  };
  switch (shape) {
    case Shape::kId: {
      if (!v.is_string()) return r + " is not of type 'string'";
      std::string why = length_error(1, kMaxIdLength);
      if (!why.empty()) return why;
      if (!id_pattern_ok(v.get_string())) return r + " does not match '^[a-zA-Z0-9-]+$'";
      return "";
    }
    case Shape::kRegionOrNull:
      return v.is_null() || v.is_string() ? "" : r + " is not of type 'null', 'string'";
    case Shape::kRegion: return v.is_string() ? "" : r + " is not of type 'string'";
    case Shape::kResourceName:
      if (!v.is_string()) return r + " is not of type 'string'";
      return length_error(1, kMaxResourceName);
    case Shape::kCount:
      // Draft 4: an integer is a JSON number without a fraction; 1.0 is not.
      if (v.is_uint64()) return r + " is greater than the maximum of " + std::to_string(kMaxLimit);
      if (!v.is_int64()) return r + " is not of type 'integer'";
      if (v.get_int64() < kMinLimit) return r + " is less than the minimum of -1";
      if (v.get_int64() > kMaxLimit) {
        return r + " is greater than the maximum of " + std::to_string(kMaxLimit);
      }
      return "";
    case Shape::kDescription:
      return v.is_null() || v.is_string() ? "" : r + " is not of type 'string', 'null'";
  }
  return "";
}

// An object schema {type: object, properties, additionalProperties: false,
// required}, checked in that keyword order.
Check check_object(const json::value& v, const std::string& path, std::span<const Prop> props,
                   std::span<const char* const> required) {
  if (!v.is_object()) return Violation{path, py_repr(v) + " is not of type 'object'"};
  const json::object& o = v.get_object();
  for (const Prop& p : props) {
    const json::value* field = o.if_contains(p.name);
    if (field == nullptr) continue;
    std::string why = shape_error(*field, p.shape);
    if (!why.empty()) return Violation{join_path(path, p.name), std::move(why)};
  }
  std::vector<std::string> extra;
  for (const auto& kv : o) {
    bool known = false;
    for (const Prop& p : props) known = known || kv.key() == p.name;
    if (!known) extra.push_back(py_str_repr(kv.key()));
  }
  if (!extra.empty()) {
    std::string names;
    for (const auto& e : extra) names += (names.empty() ? "" : ", ") + e;
    return Violation{path, "Additional properties are not allowed (" + names +
                               (extra.size() == 1 ? " was" : " were") + " unexpected)"};
  }
  for (const char* r : required) {
    if (!o.contains(r)) return Violation{path, py_str_repr(r) + " is a required property"};
  }
  return std::nullopt;
}

// {type: array, items, minItems: 1}.
Check check_list(const json::value& v, Check (*item)(const json::value&, const std::string&)) {
  if (!v.is_array()) return Violation{"", py_repr(v) + " is not of type 'array'"};
  const json::array& a = v.get_array();
  for (size_t i = 0; i < a.size(); ++i) {
    if (auto bad = item(a[i], std::to_string(i))) return bad;
  }
  if (a.empty()) return Violation{"", "[] is too short"};
  return std::nullopt;
}

constexpr Prop kRegisteredLimitProps[] = {{"service_id", Shape::kId},
                                          {"region_id", Shape::kRegionOrNull},
                                          {"resource_name", Shape::kResourceName},
                                          {"default_limit", Shape::kCount},
                                          {"description", Shape::kDescription}};
constexpr const char* kRegisteredLimitRequired[] = {"service_id", "resource_name", "default_limit"};
constexpr Prop kProjectLimitProps[] = {
    {"project_id", Shape::kId},        {"service_id", Shape::kId},
    {"region_id", Shape::kRegion},     {"resource_name", Shape::kResourceName},
    {"resource_limit", Shape::kCount}, {"description", Shape::kDescription}};
constexpr const char* kProjectLimitRequired[] = {"project_id", "service_id", "resource_name",
                                                 "resource_limit"};
constexpr Prop kDomainLimitProps[] = {
    {"domain_id", Shape::kId},         {"service_id", Shape::kId},
    {"region_id", Shape::kRegion},     {"resource_name", Shape::kResourceName},
    {"resource_limit", Shape::kCount}, {"description", Shape::kDescription}};
constexpr const char* kDomainLimitRequired[] = {"domain_id", "service_id", "resource_name",
                                                "resource_limit"};
constexpr Prop kLimitUpdateProps[] = {{"resource_limit", Shape::kCount},
                                      {"description", Shape::kDescription}};

Check check_registered_limit_item(const json::value& v, const std::string& path) {
  return check_object(v, path, kRegisteredLimitProps, kRegisteredLimitRequired);
}

// A limit is a project's or a domain's: the schema's oneOf of the two.
Check check_limit_item(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Violation{path, py_repr(v) + " is not of type 'object'"};
  if (!check_object(v, path, kProjectLimitProps, kProjectLimitRequired) ||
      !check_object(v, path, kDomainLimitProps, kDomainLimitRequired)) {
    return std::nullopt;
  }
  return Violation{path, py_repr(v) + " is not valid under any of the given schemas"};
}

// The body's member `key` as Keystone reads it:
// (request.get_json(silent=True) or {}).get(key, {}). A body that is not a
// JSON object reads as {} (Keystone answers a JSON list or string with a 500).
json::value body_member(const Request& req, std::string_view key) {
  auto body = parse_json_object(req.body);
  if (!body.ok()) return json::object();
  const json::value* v = body->if_contains(key);
  return v != nullptr ? *v : json::value(json::object());
}

// --- records -----------------------------------------------------------------

std::string string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::value id_or_null(const std::string& id) {
  return id.empty() ? json::value(nullptr) : json::value(id);
}

json::value doc_value(const json::object& doc, std::string_view key) {
  const json::value* v = doc.if_contains(key);
  return v != nullptr ? *v : json::value(nullptr);
}

json::object render_registered_limit(const Env& env, const store::Record& rec) {
  json::object doc = record_doc(rec);
  json::object r;
  r["id"] = rec.id;
  r["service_id"] = rec.parent_id;
  r["region_id"] = id_or_null(rec.scope);
  r["resource_name"] = rec.name;
  r["default_limit"] = doc_value(doc, "default_limit");
  r["description"] = doc_value(doc, "description");
  add_self_link(env, r, "registered_limits");
  return r;
}

json::object render_limit(const Env& env, const store::Record& rec) {
  json::object doc = record_doc(rec);
  json::object l;
  l["id"] = rec.id;
  l["project_id"] = doc_value(doc, "project_id");
  l["domain_id"] = doc_value(doc, "domain_id");
  l["service_id"] = rec.parent_id;
  l["region_id"] = id_or_null(rec.scope);
  l["resource_name"] = rec.name;
  l["resource_limit"] = doc_value(doc, "resource_limit");
  l["description"] = doc_value(doc, "description");
  add_self_link(env, l, "limits");
  return l;
}

// The registered limit a limit names: same service, region and resource.
store::RecordQuery same_resource(const store::Record& rec) {
  store::RecordQuery q;
  q.parent_id = rec.parent_id;
  q.scope = rec.scope;
  q.name = rec.name;
  return q;
}

store::Record new_registered_limit(const json::object& body) {
  store::Record rec;
  rec.id = new_hex_id();
  rec.parent_id = string_at(body, "service_id");
  rec.scope = string_at(body, "region_id");
  rec.name = string_at(body, "resource_name");
  json::object doc;
  doc["default_limit"] = doc_value(body, "default_limit");
  doc["description"] = doc_value(body, "description");
  rec.doc = json::serialize(doc);
  return rec;
}

store::Record new_limit(const json::object& body) {
  store::Record rec;
  rec.id = new_hex_id();
  std::string project = string_at(body, "project_id");
  std::string domain = string_at(body, "domain_id");
  rec.owner_id = project.empty() ? domain : project;
  rec.parent_id = string_at(body, "service_id");
  rec.scope = string_at(body, "region_id");
  rec.name = string_at(body, "resource_name");
  json::object doc;
  doc["project_id"] = id_or_null(project);
  doc["domain_id"] = id_or_null(domain);
  doc["resource_limit"] = doc_value(body, "resource_limit");
  doc["description"] = doc_value(body, "description");
  rec.doc = json::serialize(doc);
  return rec;
}

// --- checks against stored data (blocking: run on the pool) ------------------

Result<bool> exists(store::IdentityStore& st, Kind kind, const std::string& id) {
  auto rec = st.get(kind, id);
  if (rec.ok()) return true;
  if (rec.error().code == ErrorCode::kNotFound) return false;
  return std::move(rec).error();
}

// Keystone's _assert_resource_exist: every service, region, project and
// domain `item` names (a null names none) must exist, else a 400 naming the
// attribute and `target`. A project_id that names a domain makes the limit
// the domain's, as Keystone does (a domain is a project there).
Status check_named_resources(store::IdentityStore& st, json::object& item,
                             std::string_view target) {
  struct Ref {
    const char* attr;
    Kind kind;
  };
  for (Ref ref : {Ref{"service_id", Kind::kService}, Ref{"region_id", Kind::kRegion},
                  Ref{"project_id", Kind::kProject}, Ref{"domain_id", Kind::kDomain}}) {
    const json::value* v = item.if_contains(ref.attr);
    if (v == nullptr || !v->is_string()) continue;
    std::string id(v->get_string());
    auto found = exists(st, ref.kind, id);
    if (!found.ok()) return std::move(found).error();
    if (!*found && ref.kind == Kind::kProject) {
      auto domain = exists(st, Kind::kDomain, id);
      if (!domain.ok()) return std::move(domain).error();
      if (*domain) {
        item.erase("project_id");
        item["domain_id"] = id;
        found = true;
      }
    }
    if (!*found) return expecting(ref.attr, target);
  }
  return ok_status();
}

// RegisteredLimitError unless no limit refers to `reg` (backends/sql.py's
// _check_referenced_limit_reference).
Status check_unreferenced(store::IdentityStore& st, const store::Record& reg) {
  auto limits = st.list(Kind::kLimit, same_resource(reg));
  if (!limits.ok()) return std::move(limits).error();
  if (!limits->empty()) return registered_limit_in_use(reg.id);
  return ok_status();
}

// --- the model -------------------------------------------------------------------

awaitable<Response> get_limit_model(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:get_limit_model", {}));
  json::object model;
  model["name"] = "flat";
  model["description"] = kFlatDescription;
  json::object out;
  out["model"] = std::move(model);
  co_return json_response(bh::status::ok, out);
}

// --- registered limits -------------------------------------------------------------

awaitable<Response> create_registered_limits(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_registered_limits", {}));
  json::value body = body_member(req, "registered_limits");
  if (auto bad = check_list(body, check_registered_limit_item))
    co_return error_response(as_error(*bad));
  std::vector<store::Record> recs;
  ONESTACK_API_TRY(co_await env.pool.run([&env, &body, &recs]() -> Status {
    auto& st = env.svc.store();
    for (json::value& item : body.as_array()) {
      ONESTACK_TRY(check_named_resources(st, item.as_object(), "registered_limit"));
      recs.push_back(new_registered_limit(item.as_object()));
    }
    // The unique key refuses a (service, region, resource) already taken,
    // by a stored registered limit or one earlier in the list.
    Status s = st.create_all(Kind::kRegisteredLimit, recs);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(duplicate_entry("registered_limit"));
    }
    return s;
  }));
  json::array out;
  for (const auto& rec : recs) out.push_back(render_registered_limit(env, rec));
  json::object res;
  res["registered_limits"] = std::move(out);
  co_return json_response(bh::status::created, res);
}

awaitable<Response> list_registered_limits(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_registered_limits", {}));
  store::RecordQuery q;
  if (auto s = req.query.get("service_id")) q.parent_id = std::string(*s);
  if (auto s = req.query.get("resource_name")) q.name = std::string(*s);
  auto recs =
      co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kRegisteredLimit, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& rec : *recs) {
    json::object r = render_registered_limit(env, rec);
    if (!matches_filter(r, req, "region_id")) continue;
    out.push_back(std::move(r));
  }
  co_return collection_response(env, req, "registered_limits", std::move(out));
}

awaitable<Response> get_registered_limit(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:get_registered_limit", {}));
  const std::string& id = req.param(0);
  auto rec = co_await env.pool.run(
      [&env, &id] { return env.svc.store().get(Kind::kRegisteredLimit, id); });
  if (!rec.ok()) {
    co_return error_response(
        store_error(std::move(rec).error(), "registered_limit", registered_limit_not_found, id));
  }
  json::object out;
  out["registered_limit"] = render_registered_limit(env, *rec);
  co_return json_response(bh::status::ok, out);
}

// Applies a validated PATCH body to a registered limit's record.
void apply_registered_limit_patch(store::Record& rec, const json::object& patch) {
  json::object doc = record_doc(rec);
  for (const auto& kv : patch) {
    std::string_view k = kv.key();
    std::string text = kv.value().is_string() ? std::string(kv.value().get_string()) : "";
    if (k == "service_id") {
      rec.parent_id = text;
    } else if (k == "region_id") {
      rec.scope = text;
    } else if (k == "resource_name") {
      rec.name = text;
    } else {
      doc[k] = kv.value();
    }
  }
  rec.doc = json::serialize(doc);
}

awaitable<Response> update_registered_limit(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:update_registered_limit", {}));
  json::value body = body_member(req, "registered_limit");
  if (auto bad = check_object(body, "", kRegisteredLimitProps, {})) {
    co_return error_response(as_error(*bad));
  }
  const std::string& id = req.param(0);
  store::Record updated;
  ONESTACK_API_TRY(co_await env.pool.run([&env, &body, &id, &updated]() -> Status {
    auto& st = env.svc.store();
    json::object& patch = body.as_object();
    ONESTACK_TRY(check_named_resources(st, patch, "registered_limit"));
    auto rec = st.get(Kind::kRegisteredLimit, id);
    if (!rec.ok()) {
      return store_error(std::move(rec).error(), "registered_limit", registered_limit_not_found,
                         id);
    }
    // Keystone refuses any change, even of the default or the description,
    // while a limit refers to the registered limit.
    ONESTACK_TRY(check_unreferenced(st, *rec));
    updated = std::move(rec).value();
    apply_registered_limit_patch(updated, patch);
    // Keystone looks for the new (service, region, resource) among all
    // registered limits, this one included: a PATCH naming the service,
    // region or resource it already has is a 409 too (the openstack CLI's
    // help for `registered limit set` warns of it).
    if (!string_at(patch, "service_id").empty() || patch.contains("region_id") ||
        !string_at(patch, "resource_name").empty()) {
      auto clash = st.list(Kind::kRegisteredLimit, same_resource(updated));
      if (!clash.ok()) return std::move(clash).error();
      if (!clash->empty()) return duplicate_entry("registered_limit");
    }
    Status s = st.update(Kind::kRegisteredLimit, updated);
    if (!s.ok()) {
      return store_error(std::move(s).error(), "registered_limit", registered_limit_not_found, id);
    }
    return ok_status();
  }));
  json::object out;
  out["registered_limit"] = render_registered_limit(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_registered_limit(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:delete_registered_limit", {}));
  const std::string& id = req.param(0);
  ONESTACK_API_TRY(co_await env.pool.run([&env, &id]() -> Status {
    auto& st = env.svc.store();
    auto rec = st.get(Kind::kRegisteredLimit, id);
    if (!rec.ok()) {
      return store_error(std::move(rec).error(), "registered_limit", registered_limit_not_found,
                         id);
    }
    ONESTACK_TRY(check_unreferenced(st, *rec));
    Status s = st.remove(Kind::kRegisteredLimit, id);
    if (!s.ok()) {
      return store_error(std::move(s).error(), "registered_limit", registered_limit_not_found, id);
    }
    return ok_status();
  }));
  co_return Response::empty(bh::status::no_content);
}

// --- limits ------------------------------------------------------------------------

// Keystone's per-limit checks, in its order: a registered limit for the same
// service, region and resource (NoLimitReference, 403), then no limit of the
// same owner for it, stored or earlier in the list (409).
Status check_new_limits(store::IdentityStore& st, const std::vector<store::Record>& recs) {
  std::set<std::string> seen;
  for (const store::Record& rec : recs) {
    store::RecordQuery q = same_resource(rec);
    auto registered = st.list(Kind::kRegisteredLimit, q);
    if (!registered.ok()) return std::move(registered).error();
    if (registered->empty()) return no_limit_reference();
    q.owner_id = rec.owner_id;
    auto taken = st.list(Kind::kLimit, q);
    if (!taken.ok()) return std::move(taken).error();
    std::string key =
        rec.owner_id + '\x1f' + rec.parent_id + '\x1f' + rec.scope + '\x1f' + rec.name;
    if (!taken->empty() || !seen.insert(std::move(key)).second) return duplicate_entry("limit");
  }
  return ok_status();
}

awaitable<Response> create_limits(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_limits", {}));
  json::value body = body_member(req, "limits");
  if (auto bad = check_list(body, check_limit_item)) co_return error_response(as_error(*bad));
  std::vector<store::Record> recs;
  ONESTACK_API_TRY(co_await env.pool.run([&env, &body, &recs]() -> Status {
    auto& st = env.svc.store();
    for (json::value& item : body.as_array()) {
      ONESTACK_TRY(check_named_resources(st, item.as_object(), "limit"));
      recs.push_back(new_limit(item.as_object()));
    }
    // The flat model checks nothing across projects (models/flat.py).
    ONESTACK_TRY(check_new_limits(st, recs));
    Status s = st.create_all(Kind::kLimit, recs);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) return Status(duplicate_entry("limit"));
    return s;
  }));
  json::array out;
  for (const auto& rec : recs) out.push_back(render_limit(env, rec));
  json::object res;
  res["limits"] = std::move(out);
  co_return json_response(bh::status::created, res);
}

// What a caller sees of GET /v3/limits (keystone/api/limits.py): a system
// scope everything, a domain scope its domain's limits and those of its
// projects, a project scope its project's, an unscoped token nothing.
awaitable<Response> list_limits(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_limits", {}));
  const auth::AuthContext& c = **who;
  store::RecordQuery q;
  if (c.project_scoped()) q.owner_id = c.project_id;
  std::set<std::string> domain_projects;
  auto recs = co_await env.pool.run(
      [&env, &q, &c, &domain_projects]() -> Result<std::vector<store::Record>> {
        auto& st = env.svc.store();
        if (c.domain_scoped()) {
          store::RecordQuery in_domain;
          in_domain.scope = c.domain_id;
          auto projects = st.list(Kind::kProject, in_domain);
          if (!projects.ok()) return std::move(projects).error();
          for (const auto& p : *projects) domain_projects.insert(p.id);
        }
        return st.list(Kind::kLimit, q);
      });
  ONESTACK_API_TRY(recs);
  json::array out;
  if (c.system_scoped() || c.domain_scoped() || c.project_scoped()) {
    for (const auto& rec : *recs) {
      json::object l = render_limit(env, rec);
      bool keep = true;
      for (const char* f :
           {"service_id", "region_id", "resource_name", "project_id", "domain_id"}) {
        keep = keep && matches_filter(l, req, f);
      }
      if (keep && c.domain_scoped()) {
        keep = domain_projects.count(string_at(l, "project_id")) > 0 ||
               string_at(l, "domain_id") == c.domain_id;
      }
      if (keep) out.push_back(std::move(l));
    }
  }
  co_return collection_response(env, req, "limits", std::move(out));
}

awaitable<Response> get_limit(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  const std::string& id = req.param(0);
  // The policy target is the limit with its project or domain, when they
  // exist (limits.py's _build_limit_enforcement_target); the 404 comes after
  // the policy check.
  policy::Target target;
  auto rec = co_await env.pool.run([&env, &id, &target]() -> Result<store::Record> {
    auto& st = env.svc.store();
    auto limit = st.get(Kind::kLimit, id);
    if (!limit.ok()) return limit;
    json::object doc = record_doc(*limit);
    std::string project = string_at(doc, "project_id");
    std::string domain = string_at(doc, "domain_id");
    if (!project.empty()) {
      auto p = st.get(Kind::kProject, project);
      if (!p.ok() && p.error().code != ErrorCode::kNotFound) return std::move(p).error();
      if (p.ok()) {
        target["target.limit.project.id"] = p->id;
        target["target.limit.project.name"] = p->name;
        target["target.limit.project.domain_id"] = p->scope;
      }
    } else if (!domain.empty()) {
      auto d = st.get(Kind::kDomain, domain);
      if (!d.ok() && d.error().code != ErrorCode::kNotFound) return std::move(d).error();
      if (d.ok()) {
        target["target.limit.domain.id"] = d->id;
        target["target.limit.domain.name"] = d->name;
      }
    }
    return limit;
  });
  if (!rec.ok() && rec.error().code != ErrorCode::kNotFound) co_return error_response(rec.error());
  json::object rendered;
  if (rec.ok()) {
    rendered = render_limit(env, *rec);
    json::object fields = rendered;
    fields.erase("links");
    add_target(target, "limit", fields);
  }
  ONESTACK_API_TRY(authorize(env, **who, "identity:get_limit", target));
  if (!rec.ok()) co_return error_response(limit_not_found(id));
  json::object out;
  out["limit"] = std::move(rendered);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_limit(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:update_limit", {}));
  json::value body = body_member(req, "limit");
  if (auto bad = check_object(body, "", kLimitUpdateProps, {})) {
    co_return error_response(as_error(*bad));
  }
  const std::string& id = req.param(0);
  store::Record updated;
  ONESTACK_API_TRY(co_await env.pool.run([&env, &body, &id, &updated]() -> Status {
    auto& st = env.svc.store();
    auto rec = st.get(Kind::kLimit, id);
    if (!rec.ok()) return store_error(std::move(rec).error(), "limit", limit_not_found, id);
    updated = std::move(rec).value();
    // Keystone's update_limit sets each attribute only when it is truthy:
    // a resource_limit of 0, or an empty or null description, leaves the
    // old value (backends/sql.py).
    const json::object& patch = body.as_object();
    json::object doc = record_doc(updated);
    const json::value* limit = patch.if_contains("resource_limit");
    if (limit != nullptr && limit->is_int64() && limit->get_int64() != 0) {
      doc["resource_limit"] = *limit;
    }
    if (!string_at(patch, "description").empty()) doc["description"] = patch.at("description");
    updated.doc = json::serialize(doc);
    Status s = st.update(Kind::kLimit, updated);
    if (!s.ok()) return store_error(std::move(s).error(), "limit", limit_not_found, id);
    return ok_status();
  }));
  json::object out;
  out["limit"] = render_limit(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_limit(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:delete_limit", {}));
  const std::string& id = req.param(0);
  ONESTACK_API_TRY(co_await env.pool.run([&env, &id]() -> Status {
    Status s = env.svc.store().remove(Kind::kLimit, id);
    if (!s.ok()) return store_error(std::move(s).error(), "limit", limit_not_found, id);
    return ok_status();
  }));
  co_return Response::empty(bh::status::no_content);
}

}  // namespace

void register_limit_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::post, "/v3/registered_limits", create_registered_limits);
  add_route(r, env, V::get, "/v3/registered_limits", list_registered_limits);
  add_route(r, env, V::get, "/v3/registered_limits/{registered_limit_id}", get_registered_limit);
  add_route(r, env, V::patch, "/v3/registered_limits/{registered_limit_id}",
            update_registered_limit);
  add_route(r, env, V::delete_, "/v3/registered_limits/{registered_limit_id}",
            delete_registered_limit);
  // The literal segment before the parameter that would shadow it.
  add_route(r, env, V::get, "/v3/limits/model", get_limit_model);
  add_route(r, env, V::post, "/v3/limits", create_limits);
  add_route(r, env, V::get, "/v3/limits", list_limits);
  add_route(r, env, V::get, "/v3/limits/{limit_id}", get_limit);
  add_route(r, env, V::patch, "/v3/limits/{limit_id}", update_limit);
  add_route(r, env, V::delete_, "/v3/limits/{limit_id}", delete_limit);
}

}  // namespace onestack::identity::api
