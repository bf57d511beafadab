// Credentials (/v3/credentials: EC2 keys, certificates, TOTP seeds, opaque
// blobs owned by a user) and application credentials
// (/v3/users/{user_id}/application_credentials: a user's delegated secrets,
// locked to the project and roles of the token that created them).
//
// Work handed to the pool captures by reference only: the awaiting
// coroutine's frame outlives it, and g++ 12 mis-copies closures with
// non-trivial captures that are temporaries inside a co_await expression.
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "core/ids.h"
#include "identity/api/routes.h"
#include "identity/service/password.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

constexpr size_t kMaxId = 64;
constexpr size_t kMaxType = 255;
constexpr size_t kMaxBlob = 65535;
constexpr size_t kMaxName = 255;
constexpr size_t kSecretBytes = 64;

// --- helpers ---------------------------------------------------------------

// Keystone's ValidationError(message=...) wording.
Error validation_message(std::string_view message) {
  return bad_request(std::string(message) +
                     " The server could not comply with the request since it is either "
                     "malformed or otherwise incorrect. The client is assumed to be in error.");
}

Error forbidden_action(std::string_view action) {
  return make_error(
      ErrorCode::kForbidden,
      "You are not authorized to perform the requested action: " + std::string(action));
}

// An optional string attribute. `nullable` admits JSON null (as absent).
Status check_str(const json::object& o, std::string_view key, size_t min, size_t max, bool required,
                 bool nullable) {
  auto it = o.find(key);
  if (it == o.end() || (nullable && it->value().is_null())) {
    if (required) return invalid_field(key, "it is required");
    return ok_status();
  }
  if (!it->value().is_string()) return invalid_field(key, "must be a string");
  size_t n = it->value().as_string().size();
  if (n < min || n > max) {
    return invalid_field(key, "length must be " + std::to_string(min) + ".." + std::to_string(max));
  }
  return ok_status();
}

std::string string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex_encode(md, len);
}

// URL-safe base64 without padding, as Python's urlsafe_b64encode().rstrip('=').
std::string urlsafe_b64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (auto& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// --- credentials -----------------------------------------------------------

json::object render_credential(const Env& env, const store::Record& rec) {
  json::object c = record_doc(rec);
  c["id"] = rec.id;
  c["user_id"] = rec.owner_id;
  c["project_id"] = rec.parent_id.empty() ? json::value(nullptr) : json::value(rec.parent_id);
  if (auto it = c.find("blob"); it == c.end()) {
    c["blob"] = "";
  } else if (!it->value().is_string()) {
    c["blob"] = json::serialize(it->value());
  }
  if (!c.contains("type")) c["type"] = "";
  add_self_link(env, c, "credentials");
  return c;
}

policy::Target credential_target(const json::object& cred) {
  policy::Target t;
  add_target(t, "credential", cred);
  return t;
}

Status check_credential_body(const json::object& c, bool create) {
  ONESTACK_TRY(check_str(c, "blob", 0, kMaxBlob, create, false));
  ONESTACK_TRY(check_str(c, "type", 0, kMaxType, create, false));
  ONESTACK_TRY(check_str(c, "user_id", 0, kMaxId, create, false));
  ONESTACK_TRY(check_str(c, "project_id", 0, kMaxId, false, true));
  if (create && string_at(c, "type") == "ec2" && string_at(c, "project_id").empty()) {
    return invalid_field("credential", "'project_id' is a required property");
  }
  return ok_status();
}

// The parsed blob of an EC2 credential, which must carry an access key.
Result<json::object> ec2_blob(const std::string& blob) {
  auto v = parse_json(blob);
  if (!v.ok()) return validation_message("Invalid blob in credential");
  if (!v->is_object() || v->as_object().empty()) return expecting("blob", "credential");
  json::object o = std::move(v->as_object());
  auto it = o.find("access");
  if (it == o.end() || it->value().is_null()) return expecting("access", "credential");
  if (!it->value().is_string()) return expecting("access", "credential");
  return o;
}

// Moves a credential body into a record: user_id and project_id become
// columns, the rest the document.
void fill_credential(store::Record& rec, json::object c) {
  if (auto it = c.find("user_id"); it != c.end() && it->value().is_string()) {
    rec.owner_id = std::string(it->value().as_string());
  }
  if (auto it = c.find("project_id"); it != c.end()) {
    rec.parent_id = it->value().is_string() ? std::string(it->value().as_string()) : "";
  }
  for (auto k : {"id", "user_id", "project_id", "links"}) c.erase(k);
  json::object doc = record_doc(rec);
  for (auto& kv : c) doc[kv.key()] = kv.value();
  rec.doc = json::serialize(doc);
}

awaitable<Response> create_credential(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto body = body_entity(req, "credential");
  ONESTACK_API_TRY(body);
  json::object c = std::move(body).value();
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_credential", credential_target(c)));
  ONESTACK_API_TRY(check_credential_body(c, true));
  store::Record rec;
  if (lower(string_at(c, "type")) == "ec2") {
    // An EC2 credential is found by its access key: its id is the key's hash.
    auto blob = ec2_blob(string_at(c, "blob"));
    ONESTACK_API_TRY(blob);
    rec.id = sha256_hex(std::string_view((*blob)["access"].as_string()));
    if (!(*who)->app_cred_id.empty()) {
      // Tokens from this key then stay as limited as the one that made it.
      (*blob)["app_cred_id"] = (*who)->app_cred_id;
      c["blob"] = json::serialize(*blob);
    }
  } else {
    rec.id = new_hex_id();
  }
  fill_credential(rec, std::move(c));
  ONESTACK_API_TRY(co_await write(env, [&env, &rec] {
    Status s = env.svc.store().create(Kind::kCredential, rec);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(ErrorCode::kConflict,
                               "Conflict occurred attempting to store credential - Duplicate "
                               "entry."));
    }
    return s;
  }));
  json::object out;
  out["credential"] = render_credential(env, rec);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> list_credentials(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  policy::Target t;
  if (!(*who)->system_scoped()) t["target.credential.user_id"] = (*who)->user_id;
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_credentials", t));
  store::RecordQuery q;
  if (auto u = req.query.get("user_id")) q.owner_id = std::string(*u);
  auto recs =
      co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kCredential, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& rec : *recs) {
    json::object c = render_credential(env, rec);
    if (!matches_filter(c, req, "user_id") || !matches_filter(c, req, "type")) continue;
    // Each credential is shown only to those who may read it on its own.
    if (!authorize(env, **who, "identity:get_credential", credential_target(c)).ok()) continue;
    out.push_back(std::move(c));
  }
  co_return collection_response(env, req, "credentials", std::move(out));
}

// Fetches the credential in the path and checks `rule` against it. As in
// Keystone, the policy runs first with whatever target exists, so a caller
// who may not see other users' credentials gets 403, not 404.
awaitable<Result<store::Record>> authorized_credential(Env& env, Request& req,
                                                       std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  auto rec = co_await fetch(env, Kind::kCredential, req.param(0));
  policy::Target t;
  if (rec.ok()) t = credential_target(render_credential(env, *rec));
  Status allowed = authorize(env, **who, rule, t);
  if (!allowed.ok()) co_return std::move(allowed).error();
  co_return rec;
}

awaitable<Response> get_credential(Env& env, Request& req) {
  auto rec = co_await authorized_credential(env, req, "identity:get_credential");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["credential"] = render_credential(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_credential(Env& env, Request& req) {
  auto rec = co_await authorized_credential(env, req, "identity:update_credential");
  ONESTACK_API_TRY(rec);
  auto body = body_entity(req, "credential");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  if (patch.empty()) {
    co_return error_response(invalid_field("credential", "{} does not have enough properties"));
  }
  ONESTACK_API_TRY(check_credential_body(patch, false));
  json::object current = render_credential(env, *rec);
  if (lower(string_at(current, "type")) == "ec2" && patch.contains("blob")) {
    // The scope an EC2 key was made under cannot be changed or dropped.
    auto new_blob = ec2_blob(string_at(patch, "blob"));
    ONESTACK_API_TRY(new_blob);
    json::object old_blob;
    if (auto v = parse_json(string_at(current, "blob")); v.ok() && v->is_object()) {
      old_blob = std::move(v->as_object());
    }
    for (auto key : {"trust_id", "app_cred_id", "access_token_id", "access_id"}) {
      const json::value* was = old_blob.if_contains(key);
      const json::value* now = new_blob->if_contains(key);
      bool same = (was == nullptr || was->is_null()) ? (now == nullptr || now->is_null())
                                                     : (now != nullptr && *was == *now);
      if (!same) {
        co_return error_response(
            validation_message(std::string(key) + " can not be updated for credential"));
      }
    }
  }
  if (auto it = patch.find("id"); it != patch.end() && it->value() != json::value(rec->id)) {
    co_return error_response(bad_request("Cannot change ID"));
  }
  // Turning a credential into an EC2 one needs a project, given or kept.
  bool becomes_ec2 = lower(string_at(patch, "type")) == "ec2";
  store::Record updated = *rec;
  fill_credential(updated, std::move(patch));
  if (becomes_ec2 && updated.parent_id.empty()) {
    co_return error_response(expecting("project_id", "credential"));
  }
  json::object merged = render_credential(env, updated);
  // The caller must also be allowed the credential as it will be: an owner
  // cannot hand it to another user.
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:update_credential", credential_target(merged)));
  ONESTACK_API_TRY(co_await write(
      env, [&env, &updated] { return env.svc.store().update(Kind::kCredential, updated); }));
  json::object out;
  out["credential"] = std::move(merged);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_credential(Env& env, Request& req) {
  auto rec = co_await authorized_credential(env, req, "identity:delete_credential");
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  ONESTACK_API_TRY(
      co_await write(env, [&env, &id] { return env.svc.store().remove(Kind::kCredential, id); }));
  co_return Response::empty(bh::status::no_content);
}

// --- application credentials -------------------------------------------------

Error app_cred_not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "Could not find Application Credential: " + id + ".");
}

Error app_cred_invalid(std::string_view detail) {
  return bad_request("Invalid application credential: " + std::string(detail));
}

// A token obtained with a restricted application credential may not manage
// application credentials (it could otherwise outlive its own limits).
Status check_unrestricted(const Env& env, const auth::AuthContext& who) {
  bool via_app_cred = !who.app_cred_id.empty() ||
                      std::find(who.methods.begin(), who.methods.end(), "application_credential") !=
                          who.methods.end();
  if (!via_app_cred) return ok_status();
  auto snap = env.svc.snapshot();
  const AppCredInfo* ac =
      snap && !who.app_cred_id.empty() ? snap->app_cred(who.app_cred_id) : nullptr;
  if (ac != nullptr && ac->unrestricted) return ok_status();
  return forbidden_action(
      "Using method 'application_credential' is not allowed for managing additional "
      "application credentials.");
}

json::object render_app_cred(const Env& env, const store::Record& rec, const Snapshot* snap) {
  json::object doc = record_doc(rec);
  json::object a;
  a["id"] = rec.id;
  a["name"] = rec.name;
  a["project_id"] = rec.parent_id;
  auto desc = doc.find("description");
  a["description"] =
      desc != doc.end() && desc->value().is_string() ? desc->value() : json::value(nullptr);
  auto exp = doc.find("expires_at");
  a["expires_at"] =
      exp != doc.end() && exp->value().is_string() ? exp->value() : json::value(nullptr);
  auto unr = doc.find("unrestricted");
  a["unrestricted"] = unr != doc.end() && unr->value().is_bool() && unr->value().as_bool();
  json::array roles;
  if (auto it = doc.find("roles"); it != doc.end() && it->value().is_array()) {
    for (const auto& r : it->value().as_array()) {
      if (!r.is_object()) continue;
      json::object role;
      std::string id = string_at(r.as_object(), "id");
      const RoleInfo* info = snap ? snap->role(id) : nullptr;
      role["id"] = id;
      role["name"] = info ? info->name : string_at(r.as_object(), "name");
      role["domain_id"] =
          info && !info->domain_id.empty() ? json::value(info->domain_id) : json::value(nullptr);
      roles.push_back(std::move(role));
    }
  }
  a["roles"] = std::move(roles);
  auto rules = doc.find("access_rules");
  a["access_rules"] =
      rules != doc.end() && rules->value().is_array() ? rules->value() : json::value(json::array());
  json::object links;
  links["self"] = v3_url(env, "users/" + rec.owner_id + "/application_credentials/" + rec.id);
  a["links"] = std::move(links);
  return a;
}

Status check_app_cred_body(const json::object& a) {
  ONESTACK_TRY(check_str(a, "name", 1, kMaxName, true, false));
  std::string_view name = a.at("name").as_string();
  if (std::all_of(name.begin(), name.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
    return invalid_field("name", "must contain a non-whitespace character");
  }
  ONESTACK_TRY(check_str(a, "description", 0, 65535, false, true));
  ONESTACK_TRY(check_str(a, "secret", 0, 4096, false, true));
  ONESTACK_TRY(check_str(a, "expires_at", 0, 64, false, true));
  ONESTACK_TRY(check_bool(a, "unrestricted"));
  if (auto it = a.find("roles"); it != a.end()) {
    if (!it->value().is_array()) return invalid_field("roles", "must be a list");
    for (const auto& r : it->value().as_array()) {
      // Each role is named by exactly one of id or name.
      if (!r.is_object() || r.as_object().size() != 1) {
        return invalid_field("roles", "each role must be {\"id\": ...} or {\"name\": ...}");
      }
      const auto& ro = r.as_object();
      if (ro.contains("id")) {
        ONESTACK_TRY(check_str(ro, "id", 1, kMaxId, true, false));
      } else if (ro.contains("name")) {
        ONESTACK_TRY(check_str(ro, "name", 1, kMaxName, true, false));
      } else {
        return invalid_field("roles", "each role must be {\"id\": ...} or {\"name\": ...}");
      }
    }
  }
  if (auto it = a.find("access_rules"); it != a.end()) {
    ONESTACK_TRY(check_access_rules(it->value()));
  }
  return ok_status();
}

// The roles of a new application credential as [{"id","name"}]: those asked
// for, each of which the token must carry, or else all the token's roles.
awaitable<Result<json::array>> app_cred_roles(Env& env, const auth::AuthContext& who,
                                              const json::object& body) {
  json::array out;
  auto add = [&out](const std::string& id, const std::string& name) {
    for (const auto& r : out) {
      if (r.as_object().at("id") == json::value(id)) return;
    }
    json::object role;
    role["id"] = id;
    role["name"] = name;
    out.push_back(std::move(role));
  };
  const json::array* asked = nullptr;
  if (auto it = body.find("roles"); it != body.end() && !it->value().as_array().empty()) {
    asked = &it->value().as_array();
  }
  if (asked == nullptr) {
    for (size_t i = 0; i < who.role_ids.size(); ++i) {
      add(who.role_ids[i], i < who.role_names.size() ? who.role_names[i] : "");
    }
    co_return out;
  }
  const auto unassigned =
      app_cred_invalid("Cannot create an application credential with unassigned role");
  auto snap = env.svc.snapshot();
  for (const auto& r : *asked) {
    const auto& ro = r.as_object();
    std::string id = string_at(ro, "id");
    std::string name = string_at(ro, "name");
    if (id.empty()) {
      // By name: a global role (Keystone's get_unique_role_by_name).
      for (size_t i = 0; i < who.role_ids.size() && id.empty(); ++i) {
        const RoleInfo* info = snap ? snap->role(who.role_ids[i]) : nullptr;
        if (info != nullptr && info->name == name && info->domain_id.empty()) id = info->id;
      }
      if (id.empty()) {
        store::RecordQuery q;
        q.scope = "";
        q.name = name;
        auto found =
            co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kRole, q); });
        if (!found.ok()) co_return std::move(found).error();
        if (found->empty()) {
          co_return make_error(ErrorCode::kNotFound, "Could not find role: " + name + ".");
        }
        co_return unassigned;
      }
    }
    auto pos = std::find(who.role_ids.begin(), who.role_ids.end(), id);
    if (pos == who.role_ids.end()) co_return unassigned;
    size_t i = static_cast<size_t>(pos - who.role_ids.begin());
    add(id, i < who.role_names.size() ? who.role_names[i] : name);
  }
  co_return out;
}

awaitable<Response> create_app_cred(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  const auth::AuthContext& ctx = **who;
  const std::string& user_id = req.param(0);
  ONESTACK_API_TRY(
      authorize(env, ctx, "identity:create_application_credential", {{"user_id", user_id}}));
  auto body = body_entity(req, "application_credential");
  ONESTACK_API_TRY(body);
  json::object a = std::move(body).value();
  ONESTACK_API_TRY(check_app_cred_body(a));
  ONESTACK_API_TRY(check_unrestricted(env, ctx));
  if (ctx.user_id != user_id) {
    co_return error_response(
        forbidden_action("Cannot create an application credential for another user."));
  }
  if (!ctx.project_scoped()) {
    co_return error_response(
        app_cred_invalid("Application credentials can only be created with a project-scoped "
                         "token."));
  }
  auto roles = co_await app_cred_roles(env, ctx, a);
  ONESTACK_API_TRY(roles);

  json::object doc;
  doc["description"] = a.contains("description") && a["description"].is_string()
                           ? a["description"]
                           : json::value(nullptr);
  doc["roles"] = std::move(roles).value();
  doc["unrestricted"] = a.contains("unrestricted") && a["unrestricted"].as_bool();
  doc["access_rules"] = json::array();
  doc["expires_at"] = nullptr;
  if (std::string expires = string_at(a, "expires_at"); !expires.empty()) {
    auto ts = parse_time(expires);
    if (!ts) {
      co_return error_response(validation_message("Timestamp not in expected format."));
    }
    if (*ts <= env.svc.clock().now_seconds()) {
      co_return error_response(validation_message("The 'expires_at' must not be before now."));
    }
    // Rendered as Keystone renders it: UTC, microseconds, no zone suffix.
    std::string iso = format_time(*ts);
    if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
    doc["expires_at"] = iso;
    doc["expires_at_ts"] = *ts;
  }
  std::string secret = string_at(a, "secret");
  if (secret.empty()) secret = urlsafe_b64(random_bytes(kSecretBytes));

  store::Record rec;
  rec.id = new_hex_id();
  rec.name = string_at(a, "name");
  rec.scope = user_id;
  rec.owner_id = user_id;
  rec.parent_id = ctx.project_id;
  int rounds = env.svc.settings().bcrypt_rounds;
  ONESTACK_API_TRY(co_await write(env, [&env, &rec, &doc, &secret, &a, rounds] {
    // bcrypt is slow by design: it runs here, on the pool.
    auto hash = hash_password(secret, rounds);
    if (!hash.ok()) return Status(std::move(hash).error());
    doc["secret_hash"] = std::move(hash).value();
    // Access rules are stored and shown as Keystone does; no onestack
    // service enforces them yet.
    if (auto it = a.find("access_rules"); it != a.end() && !it->value().as_array().empty()) {
      auto rules = store_access_rules(env.svc.store(), rec.owner_id, it->value().as_array());
      if (!rules.ok()) return Status(std::move(rules).error());
      doc["access_rules"] = std::move(rules).value();
    }
    rec.doc = json::serialize(doc);
    Status s = env.svc.store().create(Kind::kAppCredential, rec);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(ErrorCode::kConflict,
                               "Conflict occurred attempting to store application_credential - "
                               "Duplicate entry."));
    }
    return s;
  }));
  rec.doc = json::serialize(doc);
  json::object out_cred = render_app_cred(env, rec, env.svc.snapshot().get());
  out_cred["secret"] = secret;
  json::object out;
  out["application_credential"] = std::move(out_cred);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> list_app_creds(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  const std::string& user_id = req.param(0);
  ONESTACK_API_TRY(
      authorize(env, **who, "identity:list_application_credentials", {{"user_id", user_id}}));
  store::RecordQuery q;
  q.scope = user_id;
  if (auto n = req.query.get("name")) q.name = std::string(*n);
  auto recs =
      co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kAppCredential, q); });
  ONESTACK_API_TRY(recs);
  auto snap = env.svc.snapshot();
  json::array out;
  for (const auto& rec : *recs) out.push_back(render_app_cred(env, rec, snap.get()));
  co_return collection_response(env, req, "application_credentials", std::move(out));
}

// Fetches the application credential in the path and checks `rule`, with
// the owner taken from the credential itself (not the path) as Keystone does,
// so a path naming oneself cannot reach another user's credential.
awaitable<Result<store::Record>> authorized_app_cred(Env& env, Request& req,
                                                     std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  const std::string& id = req.param(1);
  auto rec =
      co_await env.pool.run([&env, &id] { return env.svc.store().get(Kind::kAppCredential, id); });
  policy::Target t{{"user_id", rec.ok() ? rec->owner_id : req.param(0)}};
  Status allowed = authorize(env, **who, rule, t);
  if (!allowed.ok()) co_return std::move(allowed).error();
  if (!rec.ok()) {
    if (rec.error().code == ErrorCode::kNotFound) co_return app_cred_not_found(id);
    co_return std::move(rec).error();
  }
  if (rec->owner_id != req.param(0)) co_return app_cred_not_found(id);
  co_return rec;
}

awaitable<Response> get_app_cred(Env& env, Request& req) {
  auto rec = co_await authorized_app_cred(env, req, "identity:get_application_credential");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["application_credential"] = render_app_cred(env, *rec, env.svc.snapshot().get());
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_app_cred(Env& env, Request& req) {
  auto rec = co_await authorized_app_cred(env, req, "identity:delete_application_credential");
  ONESTACK_API_TRY(rec);
  ONESTACK_API_TRY(check_unrestricted(env, *req.auth));
  std::string id = rec->id;
  ONESTACK_API_TRY(co_await write(
      env, [&env, &id] { return env.svc.store().remove(Kind::kAppCredential, id); }));
  co_return Response::empty(bh::status::no_content);
}

}  // namespace

void register_credential_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::post, "/v3/credentials", create_credential);
  add_route(r, env, V::get, "/v3/credentials", list_credentials);
  add_route(r, env, V::get, "/v3/credentials/{credential_id}", get_credential);
  add_route(r, env, V::patch, "/v3/credentials/{credential_id}", update_credential);
  add_route(r, env, V::delete_, "/v3/credentials/{credential_id}", delete_credential);
  add_route(r, env, V::post, "/v3/users/{user_id}/application_credentials", create_app_cred);
  add_route(r, env, V::get, "/v3/users/{user_id}/application_credentials", list_app_creds);
  add_route(r, env, V::get,
            "/v3/users/{user_id}/application_credentials/{application_credential_id}",
            get_app_cred);
  add_route(r, env, V::delete_,
            "/v3/users/{user_id}/application_credentials/{application_credential_id}",
            delete_app_cred);
}

}  // namespace onestack::identity::api
