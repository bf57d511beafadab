// /v3/auth: token issue (password, token and application_credential
// methods), validation, check, revocation, and the token-scoped listings
// (catalog, projects, domains, system). Behaviour follows Keystone's
// keystone/api/auth.py and keystone/auth/plugins.
#include <algorithm>
#include <cstring>

#include "identity/api/routes.h"
#include "identity/service/identity_service.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

Error auth_failed() {
  return make_error(ErrorCode::kUnauthenticated,
                    "The request you have made requires authentication.");
}

const json::object* object_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}
std::string string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

// {"id"} or {"name"} of a domain. `unknown` is returned when it does not exist.
Result<const DomainInfo*> resolve_domain(const Snapshot& snap, const json::object& o,
                                         Error unknown) {
  std::string id = string_at(o, "id"), name = string_at(o, "name");
  const DomainInfo* d = !id.empty()     ? snap.domain(id)
                        : !name.empty() ? snap.domain_by_name(name)
                                        : nullptr;
  if (id.empty() && name.empty()) return bad_request("Expecting to find id or name in domain.");
  if (d == nullptr) return unknown;
  return d;
}

// The user of a password or application-credential method: {"id"} or
// {"name", "domain": {...}}. Unknown users yield "" (the caller burns a
// bcrypt check anyway, so timing does not tell).
Result<std::string> resolve_user(const Snapshot& snap, const json::object& user) {
  std::string id = string_at(user, "id");
  if (!id.empty()) return id;
  std::string name = string_at(user, "name");
  const json::object* dom = object_at(user, "domain");
  if (name.empty() || dom == nullptr) {
    return bad_request(
        "Expecting to find domain in user. The server could not comply with the "
        "request since it is either malformed or otherwise incorrect.");
  }
  auto d = resolve_domain(snap, *dom, auth_failed());
  if (!d.ok()) {
    if (d.error().code == ErrorCode::kInvalidArgument) return std::move(d).error();
    return std::string();
  }
  const UserInfo* u = snap.user_by_name(name, (*d)->id);
  return u == nullptr ? std::string() : u->id;
}

Result<ScopeRequest> parse_scope(const Snapshot& snap, const json::object& auth) {
  ScopeRequest scope;
  auto it = auth.find("scope");
  if (it == auth.end()) return scope;
  if (it->value().is_string() && it->value().as_string() == "unscoped") {
    scope.kind = ScopeRequest::Kind::kUnscoped;
    return scope;
  }
  if (!it->value().is_object()) return bad_request("Invalid input for field 'scope'.");
  const json::object& s = it->value().as_object();
  int given = 0;
  for (auto k : {"project", "domain", "system", "OS-TRUST:trust"}) given += s.contains(k) ? 1 : 0;
  if (given > 1)
    return bad_request("Specify either a project, domain or system scope, not several.");
  if (s.contains("OS-TRUST:trust")) {
    return make_error(ErrorCode::kNotImplemented,
                      "Trust-scoped tokens (OS-TRUST) are not supported.");
  }
  if (const json::object* p = object_at(s, "project")) {
    std::string id = string_at(*p, "id"), name = string_at(*p, "name");
    const ProjectInfo* proj = nullptr;
    if (!id.empty()) {
      proj = snap.project(id);
    } else if (!name.empty()) {
      const json::object* dom = object_at(*p, "domain");
      if (dom == nullptr) return bad_request("Expecting to find domain in project.");
      auto d = resolve_domain(snap, *dom, auth_failed());
      if (!d.ok()) return std::move(d).error();
      proj = snap.project_by_name(name, (*d)->id);
    } else {
      return bad_request("Expecting to find id or name in project.");
    }
    if (proj == nullptr) return auth_failed();
    scope.kind = ScopeRequest::Kind::kProject;
    scope.project_id = proj->id;
    return scope;
  }
  if (const json::object* d = object_at(s, "domain")) {
    auto dom = resolve_domain(snap, *d, auth_failed());
    if (!dom.ok()) return std::move(dom).error();
    scope.kind = ScopeRequest::Kind::kDomain;
    scope.domain_id = (*dom)->id;
    return scope;
  }
  if (const json::object* sys = object_at(s, "system")) {
    auto all = sys->find("all");
    if (all == sys->end() || !all->value().is_bool() || !all->value().as_bool()) {
      return bad_request("Invalid system scope: only {\"all\": true} is supported.");
    }
    scope.kind = ScopeRequest::Kind::kSystem;
    return scope;
  }
  return bad_request("Invalid input for field 'scope'.");
}

json::object name_ref(const std::string& id, const std::string& name) {
  json::object o;
  o["id"] = id;
  o["name"] = name;
  return o;
}

// The token body Keystone returns from POST/GET /v3/auth/tokens.
// The catalog as this caller sees it: Keystone substitutes the scope's
// project into endpoint URLs ("%(project_id)s", "$(project_id)s", and the
// old "tenant_id" spelling) and leaves out endpoints whose URL needs a
// project the token does not have (keystone.catalog.core.format_url).
json::array scoped_catalog(const json::array& catalog, const std::string& project_id) {
  json::array out;
  for (const auto& svc : catalog) {
    json::object entry = svc.as_object();
    json::array eps;
    for (const auto& ep : entry["endpoints"].as_array()) {
      json::object e = ep.as_object();
      std::string url(e["url"].as_string());
      bool dropped = false;
      for (const char* key :
           {"%(project_id)s", "$(project_id)s", "%(tenant_id)s", "$(tenant_id)s"}) {
        for (size_t at = url.find(key); at != std::string::npos; at = url.find(key)) {
          if (project_id.empty()) {
            dropped = true;
            break;
          }
          url.replace(at, std::strlen(key), project_id);
        }
      }
      if (dropped) continue;
      e["url"] = url;
      eps.push_back(std::move(e));
    }
    entry["endpoints"] = std::move(eps);
    out.push_back(std::move(entry));
  }
  return out;
}

json::object render_token(const Env& env, const TokenInfo& t, bool with_catalog) {
  const auth::AuthContext& c = t.ctx;
  json::object tok;
  tok["methods"] = json::value_from(c.methods);
  json::object user = name_ref(c.user_id, c.user_name);
  user["domain"] = name_ref(c.user_domain_id, c.user_domain_name);
  user["password_expires_at"] = nullptr;
  tok["user"] = std::move(user);
  tok["audit_ids"] = json::value_from(c.audit_ids);
  tok["expires_at"] = format_time(c.expires_at);
  tok["issued_at"] = format_time(c.issued_at);
  if (c.project_scoped()) {
    json::object p = name_ref(c.project_id, c.project_name);
    p["domain"] = name_ref(c.project_domain_id, c.project_domain_name);
    tok["project"] = std::move(p);
    tok["is_domain"] = false;
  } else if (c.domain_scoped()) {
    tok["domain"] = name_ref(c.domain_id, c.domain_name);
  } else if (c.system_scoped()) {
    json::object sys;
    sys["all"] = true;
    tok["system"] = std::move(sys);
  }
  if (c.project_scoped() || c.domain_scoped() || c.system_scoped()) {
    json::array roles;
    for (size_t i = 0; i < c.role_ids.size(); ++i) {
      roles.push_back(name_ref(c.role_ids[i], c.role_names[i]));
    }
    tok["roles"] = std::move(roles);
    if (with_catalog) tok["catalog"] = scoped_catalog(env.svc.snapshot()->catalog(), c.project_id);
  }
  if (!c.app_cred_id.empty()) {
    json::object ac = name_ref(c.app_cred_id, t.app_cred_name);
    ac["restricted"] = t.app_cred_restricted;
    tok["application_credential"] = std::move(ac);
  }
  json::object body;
  body["token"] = std::move(tok);
  return body;
}

// Authenticates the request body's identity. Returns the user id, the method
// names and, for the application_credential method, its id.
struct Identity {
  std::string user_id;
  std::vector<std::string> methods;
  std::string app_cred_id;
  std::optional<auth::AuthContext> parent;  // the token method's token
};

awaitable<Result<Identity>> authenticate(Env& env, const json::object& identity,
                                         const Request& req) {
  auto mit = identity.find("methods");
  if (mit == identity.end() || !mit->value().is_array() || mit->value().as_array().empty()) {
    co_return bad_request("Expecting to find methods in identity.");
  }
  std::vector<std::string> methods;
  for (const auto& m : mit->value().as_array()) {
    if (!m.is_string()) co_return bad_request("Invalid input for field 'methods'.");
    methods.emplace_back(m.as_string());
  }
  if (methods.size() != 1) {
    co_return make_error(ErrorCode::kNotImplemented,
                         "Multi-factor authentication (several methods at once) is not supported.");
  }
  const std::string& method = methods[0];
  const json::object* body = object_at(identity, method);
  if (env.svc.settings().shared_store) {
    // Another node may have created this user or changed its roles.
    Status fresh = co_await env.pool.run([&env] { return env.svc.catch_up(); });
    if (!fresh.ok()) co_return std::move(fresh).error();
  }
  auto snap = env.svc.snapshot();
  Identity out;
  if (method == "password") {
    const json::object* user = body ? object_at(*body, "user") : nullptr;
    if (user == nullptr) co_return bad_request("Expecting to find user in password.");
    auto pw = user->find("password");
    if (pw == user->end() || !pw->value().is_string()) {
      co_return bad_request("Expecting to find password in user.");
    }
    std::string password(pw->value().as_string());
    if (password.size() > env.svc.settings().max_password_length) co_return auth_failed();
    auto uid = resolve_user(*snap, *user);
    if (!uid.ok()) co_return std::move(uid).error();
    std::string id = *uid;
    auto checked = co_await env.pool.run(
        [&env, &id, &password] { return env.svc.check_password(id, password); });
    if (!checked.ok()) co_return std::move(checked).error();
    out.user_id = id;
    out.methods = {"password"};
    co_return out;
  }
  if (method == "token") {
    std::string token = body ? string_at(*body, "id") : std::string();
    if (token.empty()) co_return bad_request("Expecting to find id in token.");
    auto parent = env.svc.validate(token, false);
    if (!parent.ok()) co_return auth_failed();
    if (!parent->app_cred_id.empty()) {
      co_return make_error(ErrorCode::kForbidden,
                           "A token created with an application credential cannot be rescoped.");
    }
    out.user_id = parent->user_id;
    out.methods = parent->methods;
    if (std::find(out.methods.begin(), out.methods.end(), "token") == out.methods.end()) {
      out.methods.push_back("token");
    }
    out.parent = std::move(parent).value();
    co_return out;
  }
  if (method == "application_credential") {
    if (body == nullptr) co_return bad_request("Expecting to find application_credential.");
    auto secret = body->find("secret");
    if (secret == body->end() || !secret->value().is_string()) {
      co_return bad_request("Expecting to find secret in application_credential.");
    }
    std::string ac_id = string_at(*body, "id");
    if (ac_id.empty()) {
      std::string name = string_at(*body, "name");
      const json::object* user = object_at(*body, "user");
      if (name.empty() || user == nullptr) {
        co_return bad_request("Expecting to find id, or name and user, in application_credential.");
      }
      auto uid = resolve_user(*snap, *user);
      if (!uid.ok()) co_return std::move(uid).error();
      store::RecordQuery q;
      q.scope = *uid;
      q.name = name;
      auto found = co_await env.pool.run(
          [&env, &q] { return env.svc.store().list(Kind::kAppCredential, q); });
      if (found.ok() && !found->empty()) ac_id = found->front().id;
    }
    std::string s(secret->value().as_string());
    auto checked =
        co_await env.pool.run([&env, &ac_id, &s] { return env.svc.check_app_cred(ac_id, s); });
    if (!checked.ok()) co_return std::move(checked).error();
    const AppCredInfo* ac = env.svc.snapshot()->app_cred(ac_id);
    if (ac == nullptr) co_return auth_failed();
    out.user_id = ac->user_id;
    out.methods = {"application_credential"};
    out.app_cred_id = ac_id;
    co_return out;
  }
  (void)req;
  co_return make_error(ErrorCode::kUnauthenticated,
                       "Attempted to authenticate with an unsupported method.");
}

awaitable<Response> issue_token(Env& env, Request& req) {
  auto body = parse_json_object(req.body);
  ONESTACK_API_TRY(body);
  const json::object* auth = object_at(*body, "auth");
  if (auth == nullptr)
    co_return error_response(bad_request("Expecting to find auth in request body."));
  const json::object* identity = object_at(*auth, "identity");
  if (identity == nullptr)
    co_return error_response(bad_request("Expecting to find identity in auth."));
  auto who = co_await authenticate(env, *identity, req);
  ONESTACK_API_TRY(who);
  auto snap = env.svc.snapshot();
  auto scope = parse_scope(*snap, *auth);
  ONESTACK_API_TRY(scope);
  if (!who->app_cred_id.empty() && scope->kind != ScopeRequest::Kind::kDefault) {
    const AppCredInfo* ac = snap->app_cred(who->app_cred_id);
    if (scope->kind != ScopeRequest::Kind::kProject || ac == nullptr ||
        scope->project_id != ac->project_id) {
      co_return error_response(
          make_error(ErrorCode::kUnauthenticated,
                     "Application credentials cannot request a scope other than their project."));
    }
  }
  auto info = env.svc.issue(who->user_id, who->methods, *scope,
                            who->parent ? &*who->parent : nullptr, who->app_cred_id);
  ONESTACK_API_TRY(info);
  bool catalog = !req.query.has("nocatalog");
  Response r = json_response(bh::status::created, render_token(env, *info, catalog));
  r.headers.set("X-Subject-Token", info->token);
  co_return r;
}

// Validates X-Auth-Token and X-Subject-Token for GET/HEAD/DELETE.
awaitable<Result<TokenInfo>> subject(Env& env, Request& req, std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  std::string subject_token(req.header("X-Subject-Token"));
  if (subject_token.empty()) co_return bad_request("X-Subject-Token header is required.");
  bool allow_expired = false;
  if (auto v = req.query.get("allow_expired"))
    allow_expired = *v == "1" || *v == "true" || *v == "True";
  auto ctx = env.svc.validate(subject_token, allow_expired);
  if (!ctx.ok()) {
    co_return make_error(ErrorCode::kNotFound, "Could not find token: " + subject_token + ".");
  }
  policy::Target t{{"target.token.user_id", ctx->user_id}};
  Status s = authorize(env, **who, rule, t);
  if (!s.ok()) co_return std::move(s).error();
  TokenInfo info;
  info.ctx = std::move(ctx).value();
  if (!info.ctx.app_cred_id.empty()) {
    if (const AppCredInfo* ac = env.svc.snapshot()->app_cred(info.ctx.app_cred_id)) {
      info.app_cred_name = ac->name;
      info.app_cred_restricted = !ac->unrestricted;
    }
  }
  co_return info;
}

awaitable<Response> validate_token(Env& env, Request& req) {
  auto info = co_await subject(env, req, "identity:validate_token");
  ONESTACK_API_TRY(info);
  Response r = json_response(bh::status::ok, render_token(env, *info, !req.query.has("nocatalog")));
  r.headers.set("X-Subject-Token", req.header("X-Subject-Token"));
  co_return r;
}

awaitable<Response> check_token(Env& env, Request& req) {
  auto info = co_await subject(env, req, "identity:check_token");
  ONESTACK_API_TRY(info);
  Response r = json_response(bh::status::ok, render_token(env, *info, !req.query.has("nocatalog")));
  r.headers.set("X-Subject-Token", req.header("X-Subject-Token"));
  co_return r;
}

awaitable<Response> revoke_token(Env& env, Request& req) {
  auto info = co_await subject(env, req, "identity:revoke_token");
  ONESTACK_API_TRY(info);
  auth::AuthContext ctx = info->ctx;
  ONESTACK_API_TRY(co_await env.pool.run([&env, &ctx] { return env.svc.revoke_token(ctx); }));
  co_return Response::empty(bh::status::no_content);
}

awaitable<Response> auth_catalog(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  if (!(*who)->project_scoped() && !(*who)->domain_scoped() && !(*who)->system_scoped()) {
    co_return error_response(
        make_error(ErrorCode::kForbidden, "A scoped token is required to get the catalog."));
  }
  json::object body;
  body["catalog"] = scoped_catalog(env.svc.snapshot()->catalog(), (*who)->project_id);
  body["links"] = collection_links(env, req);
  co_return json_response(bh::status::ok, body);
}

awaitable<Response> auth_projects(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto snap = env.svc.snapshot();
  json::array out;
  for (const ProjectInfo* p : snap->projects_of_user((*who)->user_id)) {
    if (!p->enabled) continue;
    out.push_back(render_project_info(env, *p));
  }
  co_return collection_response(env, req, "projects", std::move(out));
}

awaitable<Response> auth_domains(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto snap = env.svc.snapshot();
  json::array out;
  for (const DomainInfo* d : snap->domains_of_user((*who)->user_id)) {
    if (!d->enabled) continue;
    json::object o;
    o["id"] = d->id;
    o["name"] = d->name;
    o["enabled"] = d->enabled;
    add_self_link(env, o, "domains");
    out.push_back(std::move(o));
  }
  co_return collection_response(env, req, "domains", std::move(out));
}

awaitable<Response> auth_system(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  json::array out;
  if (!env.svc.snapshot()->roles_on_system((*who)->user_id).empty()) {
    json::object all;
    all["all"] = true;
    out.push_back(std::move(all));
  }
  co_return collection_response(env, req, "system", std::move(out));
}

}  // namespace

void register_auth_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::post, "/v3/auth/tokens", issue_token);
  add_route(r, env, V::get, "/v3/auth/tokens", validate_token);
  add_route(r, env, V::head, "/v3/auth/tokens", check_token);
  add_route(r, env, V::delete_, "/v3/auth/tokens", revoke_token);
  add_route(r, env, V::get, "/v3/auth/catalog", auth_catalog);
  add_route(r, env, V::get, "/v3/auth/projects", auth_projects);
  add_route(r, env, V::get, "/v3/auth/domains", auth_domains);
  add_route(r, env, V::get, "/v3/auth/system", auth_system);
}

}  // namespace onestack::identity::api
