// What a user holds besides passwords, /v3/credentials and application
// credentials: EC2-style credentials (/v3/users/{user_id}/credentials/OS-EC2)
// and the access rules of application credentials
// (/v3/users/{user_id}/access_rules), with the helpers credential_routes.cc
// uses to store the access rules of a new application credential.
//
// An EC2 credential is an access key and secret scoped to a project, stored as
// credentials of type "ec2" (so /v3/credentials lists them too, as Keystone
// does): owner = the user, parent = the project, id = sha256 hex of the
// access key, and the document {"type": "ec2", "blob": "<JSON string>"}.
// Signing requests with them (/v3/ec2tokens) is not implemented.
//
// Work handed to the pool captures by reference only, and co_await
// expressions name locals rather than build temporaries: the awaiting
// coroutine's frame outlives them, and g++ 12 destroys non-trivial
// temporaries of a co_await expression twice.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "core/ids.h"
#include "identity/api/routes.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

Error not_found(std::string_view kind, const std::string& id) {
  return make_error(ErrorCode::kNotFound, "Could not find " + std::string(kind) + ": " + id + ".");
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex_encode(md, len);
}

std::string string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

json::value or_null(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? *v : json::value(nullptr);
}

bool is_ec2(const store::Record& rec) { return string_at(record_doc(rec), "type") == "ec2"; }

json::object blob_of(const store::Record& rec) {
  json::object doc = record_doc(rec);
  if (auto v = parse_json(string_at(doc, "blob")); v.ok() && v->is_object()) {
    return std::move(v->as_object());
  }
  return {};
}

// Keystone's EC2 view of a credential.
json::object render_ec2(const Env& env, const store::Record& rec) {
  json::object blob = blob_of(rec);
  json::object c;
  c["user_id"] = rec.owner_id;
  c["tenant_id"] = rec.parent_id.empty() ? json::value(nullptr) : json::value(rec.parent_id);
  c["access"] = or_null(blob, "access");
  c["secret"] = or_null(blob, "secret");
  c["trust_id"] = or_null(blob, "trust_id");
  json::object links;
  links["self"] =
      v3_url(env, "users/" + rec.owner_id + "/credentials/OS-EC2/" + string_at(blob, "access"));
  c["links"] = std::move(links);
  return c;
}

// The target of the per-credential rules: the credential's owner, project and
// type under target.credential.*, and the path's user as "user_id".
policy::Target credential_target(const store::Record& rec, const std::string& path_user) {
  policy::Target t{{"user_id", path_user}};
  t["target.credential.id"] = rec.id;
  t["target.credential.user_id"] = rec.owner_id;
  t["target.credential.project_id"] =
      rec.parent_id.empty() ? std::string(policy::kNoneValue) : rec.parent_id;
  t["target.credential.type"] = string_at(record_doc(rec), "type");
  return t;
}

awaitable<Status> user_exists(Env& env, const std::string& user_id) {
  auto user = co_await fetch(env, Kind::kUser, user_id);
  if (!user.ok()) co_return std::move(user).error();
  co_return ok_status();
}

awaitable<Response> list_ec2(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  const std::string& user_id = req.param(0);
  ONESTACK_API_TRY(authorize(env, **who, "identity:ec2_list_credentials", {{"user_id", user_id}}));
  ONESTACK_API_TRY(co_await user_exists(env, user_id));
  store::RecordQuery q;
  q.owner_id = user_id;
  auto recs =
      co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kCredential, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& rec : *recs) {
    if (is_ec2(rec)) out.push_back(render_ec2(env, rec));
  }
  co_return collection_response(env, req, "credentials", std::move(out));
}

awaitable<Response> create_ec2(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  const std::string& user_id = req.param(0);
  policy::Target t{{"user_id", user_id}, {"target.credential.user_id", user_id}};
  ONESTACK_API_TRY(authorize(env, **who, "identity:ec2_create_credential", t));
  ONESTACK_API_TRY(co_await user_exists(env, user_id));
  auto body = parse_json_object(req.body);
  ONESTACK_API_TRY(body);
  // Keystone looks the project up whatever was sent: a missing tenant_id is
  // the project "None".
  std::string project_id = string_at(*body, "tenant_id");
  std::string project_key = project_id.empty() ? "None" : project_id;
  auto project = co_await fetch(env, Kind::kProject, project_key);
  ONESTACK_API_TRY(project);

  json::object blob;
  blob["access"] = new_hex_id();
  blob["secret"] = new_hex_id();
  blob["trust_id"] = nullptr;  // onestack issues no trust-scoped tokens
  if (!(*who)->app_cred_id.empty()) {
    // Keys made with an application credential stay as limited as it is.
    blob["app_cred_id"] = (*who)->app_cred_id;
  }
  store::Record rec;
  rec.id = sha256_hex(std::string_view(blob["access"].as_string()));
  rec.owner_id = user_id;
  rec.parent_id = project_id;
  json::object doc;
  doc["type"] = "ec2";
  doc["blob"] = json::serialize(blob);
  rec.doc = json::serialize(doc);
  ONESTACK_API_TRY(
      co_await write(env, [&env, &rec] { return env.svc.store().create(Kind::kCredential, rec); }));
  json::object out;
  out["credential"] = render_ec2(env, rec);
  co_return json_response(bh::status::created, out);
}

// Finds the credential of the access key in the path and checks `rule`
// against it (Keystone looks the credential up first: an unknown key is 404
// whoever asks). A credential that is not an EC2 one is refused as Keystone
// does; one of another user is not found.
awaitable<Result<store::Record>> authorized_ec2(Env& env, Request& req, std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  const std::string& user_id = req.param(0);
  std::string id = sha256_hex(req.param(1));
  auto rec = co_await fetch(env, Kind::kCredential, id);
  if (!rec.ok()) co_return std::move(rec).error();
  Status allowed = authorize(env, **who, rule, credential_target(*rec, user_id));
  if (!allowed.ok()) co_return std::move(allowed).error();
  Status user = co_await user_exists(env, user_id);
  if (!user.ok()) co_return std::move(user).error();
  if (!is_ec2(*rec)) {
    co_return make_error(ErrorCode::kUnauthenticated, "EC2 access key not found.");
  }
  if (rec->owner_id != user_id) {
    co_return make_error(ErrorCode::kNotFound, "Could not find credential: " + rec->id + ".");
  }
  co_return rec;
}

awaitable<Response> get_ec2(Env& env, Request& req) {
  auto rec = co_await authorized_ec2(env, req, "identity:ec2_get_credential");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["credential"] = render_ec2(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_ec2(Env& env, Request& req) {
  auto rec = co_await authorized_ec2(env, req, "identity:ec2_delete_credential");
  ONESTACK_API_TRY(rec);
  const std::string& id = rec->id;
  ONESTACK_API_TRY(
      co_await write(env, [&env, &id] { return env.svc.store().remove(Kind::kCredential, id); }));
  co_return Response::empty(bh::status::no_content);
}

awaitable<Response> ec2_tokens_not_implemented(Env&, Request&) {
  co_return error_response(
      make_error(ErrorCode::kNotImplemented,
                 "Authenticating with EC2 signatures (/v3/ec2tokens) is not implemented; EC2 "
                 "credentials can be created, listed and deleted."));
}

// --- access rules ----------------------------------------------------------------
// What an application credential may call: (service, path, method) triples
// owned by its user and shared between that user's application credentials.
// No onestack service consumes them yet, so they are stored and returned as
// Keystone does but not enforced on requests.

constexpr std::array<std::string_view, 6> kAccessRuleMethods = {"GET",   "HEAD", "POST",
                                                                "PATCH", "PUT",  "DELETE"};

bool is_id_string(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

json::object access_rule_doc(const json::object& rule) {
  json::object r;
  r["id"] = string_at(rule, "id");
  r["path"] = string_at(rule, "path");
  r["method"] = string_at(rule, "method");
  r["service"] = string_at(rule, "service");
  return r;
}

json::object render_access_rule(const Env& env, const store::Record& rec) {
  json::object r = record_doc(rec);
  r["id"] = rec.id;
  json::object links;
  links["self"] = v3_url(env, "users/" + rec.owner_id + "/access_rules/" + rec.id);
  r["links"] = std::move(links);
  return r;
}

// The policy target of the user in the path (empty if there is none).
awaitable<policy::Target> user_target(Env& env, const std::string& user_id) {
  policy::Target t;
  auto user =
      co_await env.pool.run([&env, &user_id] { return env.svc.store().get(Kind::kUser, user_id); });
  if (user.ok()) {
    t["target.user.id"] = user->id;
    t["target.user.domain_id"] = user->scope;
  }
  co_return t;
}

awaitable<Response> list_access_rules(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  const std::string& user_id = req.param(0);
  policy::Target t = co_await user_target(env, user_id);
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_access_rules", t));
  store::RecordQuery q;
  q.owner_id = user_id;
  auto recs =
      co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kAccessRule, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& rec : *recs) {
    json::object r = render_access_rule(env, rec);
    if (!matches_filter(r, req, "service") || !matches_filter(r, req, "path") ||
        !matches_filter(r, req, "method")) {
      continue;
    }
    out.push_back(std::move(r));
  }
  co_return collection_response(env, req, "access_rules", std::move(out));
}

// Checks `rule` against the user in the path, then finds that user's rule.
awaitable<Result<store::Record>> authorized_access_rule(Env& env, Request& req,
                                                        std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  const std::string& user_id = req.param(0);
  policy::Target t = co_await user_target(env, user_id);
  Status allowed = authorize(env, **who, rule, t);
  if (!allowed.ok()) co_return std::move(allowed).error();
  const std::string& id = req.param(1);
  auto rec =
      co_await env.pool.run([&env, &id] { return env.svc.store().get(Kind::kAccessRule, id); });
  if (!rec.ok()) {
    if (rec.error().code == ErrorCode::kNotFound) co_return not_found("Access Rule", id);
    co_return std::move(rec).error();
  }
  if (rec->owner_id != user_id) co_return not_found("Access Rule", id);
  co_return rec;
}

awaitable<Response> get_access_rule(Env& env, Request& req) {
  auto rec = co_await authorized_access_rule(env, req, "identity:get_access_rule");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["access_rule"] = render_access_rule(env, *rec);
  co_return json_response(bh::status::ok, out);
}

bool app_cred_uses(const store::Record& app_cred, const std::string& rule_id) {
  json::object doc = record_doc(app_cred);
  const json::value* rules = doc.if_contains("access_rules");
  if (rules == nullptr || !rules->is_array()) return false;
  return std::any_of(rules->as_array().begin(), rules->as_array().end(), [&](const json::value& r) {
    return r.is_object() && string_at(r.as_object(), "id") == rule_id;
  });
}

awaitable<Response> delete_access_rule(Env& env, Request& req) {
  auto rec = co_await authorized_access_rule(env, req, "identity:delete_access_rule");
  ONESTACK_API_TRY(rec);
  const store::Record& rule = *rec;
  ONESTACK_API_TRY(co_await env.pool.run([&env, &rule]() -> Status {
    auto& st = env.svc.store();
    store::RecordQuery q;
    q.scope = rule.owner_id;
    auto creds = st.list(Kind::kAppCredential, q);
    if (!creds.ok()) return std::move(creds).error();
    for (const auto& c : *creds) {
      if (app_cred_uses(c, rule.id)) {
        return make_error(ErrorCode::kForbidden,
                          "Cannot delete access rule " + rule.id +
                              ": it is in use by an application credential.");
      }
    }
    return st.remove(Kind::kAccessRule, rule.id);
  }));
  co_return Response::empty(bh::status::no_content);
}

}  // namespace

Status check_access_rules(const json::value& rules) {
  if (!rules.is_array()) return invalid_field("access_rules", "must be a list");
  for (const auto& r : rules.as_array()) {
    if (!r.is_object()) return invalid_field("access_rules", "each rule must be an object");
    const json::object& o = r.as_object();
    for (const auto& kv : o) {
      std::string_view k = kv.key();
      if (k != "id" && k != "path" && k != "method" && k != "service") {
        return invalid_field("access_rules", "additional properties are not allowed ('" +
                                                 std::string(k) + "' was unexpected)");
      }
      if (!kv.value().is_string()) return invalid_field(k, "must be a string");
    }
    std::string path = string_at(o, "path");
    if (o.contains("path") && (path.size() > 225 || path.empty() || path[0] != '/')) {
      return invalid_field("path", "must start with '/' and be at most 225 characters");
    }
    if (o.contains("method") && std::find(kAccessRuleMethods.begin(), kAccessRuleMethods.end(),
                                          string_at(o, "method")) == kAccessRuleMethods.end()) {
      return invalid_field("method", "must be one of GET, HEAD, POST, PATCH, PUT, DELETE");
    }
    for (auto key : {"service", "id"}) {
      if (o.contains(key) && !is_id_string(string_at(o, key))) {
        return invalid_field(key, "must be 1..64 letters, digits or '-'");
      }
    }
    if (!o.contains("id") &&
        (!o.contains("service") || !o.contains("path") || !o.contains("method"))) {
      return invalid_field("access_rules", "each rule needs an id, or service, path and method");
    }
  }
  return ok_status();
}

Result<json::array> store_access_rules(store::IdentityStore& st, const std::string& user_id,
                                       const json::array& rules) {
  store::RecordQuery q;
  q.owner_id = user_id;
  auto existing = st.list(Kind::kAccessRule, q);
  if (!existing.ok()) return std::move(existing).error();
  std::vector<json::object> known;
  for (const auto& rec : *existing) {
    json::object doc = record_doc(rec);
    doc["id"] = rec.id;
    known.push_back(access_rule_doc(doc));
  }
  json::array out;
  for (const auto& r : rules) {
    const json::object& asked = r.as_object();
    std::string id = string_at(asked, "id");
    bool spelled_out =
        asked.contains("service") && asked.contains("path") && asked.contains("method");
    auto same = [&](const json::object& k) {
      if (!id.empty() && string_at(k, "id") == id) return true;
      return spelled_out && string_at(k, "service") == string_at(asked, "service") &&
             string_at(k, "path") == string_at(asked, "path") &&
             string_at(k, "method") == string_at(asked, "method");
    };
    auto found = std::find_if(known.begin(), known.end(), same);
    json::object rule;
    if (found != known.end()) {
      rule = *found;
    } else {
      // An id naming no rule of this user refers to nothing, unless the rule
      // is spelled out: then it is created under a new id (a client-chosen
      // one could clash with another user's rule).
      if (!spelled_out) return not_found("Access Rule", id);
      rule = access_rule_doc(asked);
      rule["id"] = new_hex_id();
      store::Record rec;
      rec.id = std::string(rule["id"].as_string());
      rec.owner_id = user_id;
      json::object doc = rule;
      doc.erase("id");
      rec.doc = json::serialize(doc);
      ONESTACK_TRY(st.create(Kind::kAccessRule, rec));
      known.push_back(rule);
    }
    bool listed = std::any_of(out.begin(), out.end(), [&](const json::value& v) {
      return v.as_object().at("id") == rule.at("id");
    });
    if (!listed) out.push_back(std::move(rule));
  }
  return out;
}

void register_ec2_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::get, "/v3/users/{user_id}/credentials/OS-EC2", list_ec2);
  add_route(r, env, V::post, "/v3/users/{user_id}/credentials/OS-EC2", create_ec2);
  add_route(r, env, V::get, "/v3/users/{user_id}/credentials/OS-EC2/{credential_id}", get_ec2);
  add_route(r, env, V::delete_, "/v3/users/{user_id}/credentials/OS-EC2/{credential_id}",
            delete_ec2);
  add_route(r, env, V::post, "/v3/ec2tokens", ec2_tokens_not_implemented);

  add_route(r, env, V::get, "/v3/users/{user_id}/access_rules", list_access_rules);
  add_route(r, env, V::get, "/v3/users/{user_id}/access_rules/{access_rule_id}", get_access_rule);
  add_route(r, env, V::delete_, "/v3/users/{user_id}/access_rules/{access_rule_id}",
            delete_access_rule);
}

}  // namespace onestack::identity::api
