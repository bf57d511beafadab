// Roles (global and domain-specific), implied roles, grants on projects,
// domains and the system (plus OS-INHERIT inherited grants), and
// /v3/role_assignments (keystone/api/roles.py, role_inferences.py,
// role_assignments.py, os_inherit.py).
#include <algorithm>
#include <set>

#include "core/ids.h"
#include "identity/api/routes.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::ActorType;
using store::Kind;
using store::TargetType;

namespace {

json::object render_role(const Env& env, const store::Record& rec) {
  json::object r = record_doc(rec);
  r["id"] = rec.id;
  r["name"] = rec.name;
  r["domain_id"] = rec.scope.empty() ? json::value(nullptr) : json::value(rec.scope);
  if (!r.contains("description")) r["description"] = nullptr;
  if (!r.contains("options")) r["options"] = json::object();
  add_self_link(env, r, "roles");
  return r;
}

json::object role_ref(const Env& env, const RoleInfo& r) {
  json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  json::object links;
  links["self"] = v3_url(env, "roles/" + r.id);
  o["links"] = std::move(links);
  return o;
}

// Keystone names global and domain-specific role rules apart:
// identity:get_role / identity:get_domain_role, identity:list_roles /
// identity:list_domain_roles.
std::string rule_for(std::string_view base, bool domain_role) {
  std::string plural = base == "list" ? "s" : "";
  return "identity:" + std::string(base) + (domain_role ? "_domain_role" : "_role") + plural;
}

// --- roles -----------------------------------------------------------------

awaitable<Response> create_role(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto body = body_entity(req, "role");
  ONESTACK_API_TRY(body);
  json::object r = std::move(body).value();
  ONESTACK_API_TRY(check_string(r, "name", 255, true));
  ONESTACK_API_TRY(check_string(r, "domain_id", 64, false));
  ONESTACK_API_TRY(check_string(r, "description", 255, false));
  std::string domain_id = r.contains("domain_id") && r["domain_id"].is_string()
                              ? std::string(r["domain_id"].as_string())
                              : std::string();
  policy::Target t{{"target.role.domain_id", domain_id.empty() ? "None" : domain_id}};
  ONESTACK_API_TRY(authorize(env, **who, rule_for("create", !domain_id.empty()), t));
  if (!domain_id.empty() && env.svc.snapshot()->domain(domain_id) == nullptr) {
    co_return error_response(
        make_error(ErrorCode::kNotFound, "Could not find domain: " + domain_id + "."));
  }
  store::Record rec;
  rec.id = new_hex_id();
  rec.scope = domain_id;
  rec.name = std::string(r["name"].as_string());
  for (auto k : {"id", "name", "domain_id", "links"}) r.erase(k);
  rec.doc = json::serialize(r);
  ONESTACK_API_TRY(co_await write(env, [&env, &rec] {
    Status s = env.svc.store().create(Kind::kRole, rec);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(ErrorCode::kConflict,
                               "Conflict occurred attempting to store role - Duplicate entry "
                               "found with name " +
                                   rec.name + "."));
    }
    return s;
  }));
  json::object out;
  out["role"] = render_role(env, rec);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> list_roles(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto domain = req.query.get("domain_id");
  policy::Target t;
  if (domain) t["target.domain_id"] = std::string(*domain);
  ONESTACK_API_TRY(authorize(env, **who, rule_for("list", domain.has_value()), t));
  store::RecordQuery q;
  q.scope = domain ? std::string(*domain) : std::string();  // global roles unless asked
  if (auto n = req.query.get("name")) q.name = std::string(*n);
  auto recs = co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kRole, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& r : *recs) out.push_back(render_role(env, r));
  co_return collection_response(env, req, "roles", std::move(out));
}

awaitable<Result<store::Record>> authorized_role(Env& env, Request& req, std::string_view base) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  auto rec = co_await fetch(env, Kind::kRole, req.param(0));
  bool domain_role = rec.ok() && !rec->scope.empty();
  policy::Target t{{"target.role.id", req.param(0)}, {"role_id", req.param(0)}};
  t["target.role.domain_id"] = domain_role ? rec->scope : "None";
  Status allowed = authorize(env, **who, rule_for(base, domain_role), t);
  if (!allowed.ok()) co_return std::move(allowed).error();
  co_return rec;
}

awaitable<Response> get_role(Env& env, Request& req) {
  auto rec = co_await authorized_role(env, req, "get");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["role"] = render_role(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_role(Env& env, Request& req) {
  auto rec = co_await authorized_role(env, req, "update");
  ONESTACK_API_TRY(rec);
  auto body = body_entity(req, "role");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  ONESTACK_API_TRY(check_string(patch, "name", 255, false));
  ONESTACK_API_TRY(check_string(patch, "description", 255, false));
  ONESTACK_API_TRY(check_same_id(patch, req.param(0)));
  if (auto it = patch.find("domain_id"); it != patch.end() &&
                                         !(it->value().is_null() && rec->scope.empty()) &&
                                         it->value() != json::value(rec->scope)) {
    co_return error_response(
        make_error(ErrorCode::kInvalidArgument, "Update of `domain_id` is not allowed."));
  }
  store::Record updated = apply_patch(*rec, patch);
  ONESTACK_API_TRY(co_await write(
      env, [&env, &updated] { return env.svc.store().update(Kind::kRole, updated); }));
  json::object out;
  out["role"] = render_role(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_role(Env& env, Request& req) {
  auto rec = co_await authorized_role(env, req, "delete");
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  ONESTACK_API_TRY(
      co_await write(env, [&env, &id] { return env.svc.store().remove(Kind::kRole, id); }));
  co_return Response::empty(bh::status::no_content);
}

// --- implied roles ---------------------------------------------------------

json::object inference(const Env& env, const RoleInfo& prior,
                       const std::vector<const RoleInfo*>& implies) {
  json::object o;
  o["prior_role"] = role_ref(env, prior);
  json::array imp;
  for (const RoleInfo* r : implies) imp.push_back(role_ref(env, *r));
  o["implies"] = std::move(imp);
  return o;
}

awaitable<Result<std::pair<RoleInfo, RoleInfo>>> implied_pair(Env& env, Request& req,
                                                              std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  Status allowed = authorize(env, **who, rule,
                             {{"prior_role_id", req.param(0)}, {"implied_role_id", req.param(1)}});
  if (!allowed.ok()) co_return std::move(allowed).error();
  auto snap = env.svc.snapshot();
  const RoleInfo* prior = snap->role(req.param(0));
  const RoleInfo* implied = snap->role(req.param(1));
  if (prior == nullptr)
    co_return make_error(ErrorCode::kNotFound, "Could not find role: " + req.param(0) + ".");
  if (implied == nullptr)
    co_return make_error(ErrorCode::kNotFound, "Could not find role: " + req.param(1) + ".");
  co_return std::pair{*prior, *implied};
}

awaitable<Response> create_implied(Env& env, Request& req) {
  auto pair = co_await implied_pair(env, req, "identity:create_implied_role");
  ONESTACK_API_TRY(pair);
  auto [prior, implied] = *pair;
  if (prior.domain_id.empty() && !implied.domain_id.empty()) {
    // Keystone: a global role may not imply a domain-specific one.
    co_return error_response(
        make_error(ErrorCode::kForbidden, "A global role cannot imply a domain-specific role."));
  }
  if (prior.id == implied.id || env.svc.snapshot()->implies(implied.id, prior.id)) {
    co_return error_response(
        make_error(ErrorCode::kForbidden, "The implied role would create a cycle."));
  }
  std::string p = prior.id, i = implied.id;
  ONESTACK_API_TRY(
      co_await write(env, [&env, &p, &i] { return env.svc.store().add_implied_role(p, i); }));
  json::object body;
  body["role_inference"] =
      json::object{{"prior_role", role_ref(env, prior)}, {"implies", role_ref(env, implied)}};
  body["links"] = json::object{{"self", v3_url(env, "roles/" + p + "/implies/" + i)}};
  co_return json_response(bh::status::created, body);
}

awaitable<Response> get_implied(Env& env, Request& req) {
  auto pair = co_await implied_pair(env, req, "identity:get_implied_role");
  ONESTACK_API_TRY(pair);
  auto [prior, implied] = *pair;
  auto all = co_await env.pool.run([&env] { return env.svc.store().list_implied_roles(); });
  ONESTACK_API_TRY(all);
  bool found = std::find(all->begin(), all->end(), std::pair{prior.id, implied.id}) != all->end();
  if (!found) {
    co_return error_response(
        make_error(ErrorCode::kNotFound,
                   "Could not find implied role: " + prior.id + " implies " + implied.id + "."));
  }
  if (req.method == bh::verb::head) co_return Response::empty(bh::status::no_content);
  json::object body;
  body["role_inference"] =
      json::object{{"prior_role", role_ref(env, prior)}, {"implies", role_ref(env, implied)}};
  body["links"] =
      json::object{{"self", v3_url(env, "roles/" + prior.id + "/implies/" + implied.id)}};
  co_return json_response(bh::status::ok, body);
}

awaitable<Response> delete_implied(Env& env, Request& req) {
  auto pair = co_await implied_pair(env, req, "identity:delete_implied_role");
  ONESTACK_API_TRY(pair);
  std::string p = pair->first.id, i = pair->second.id;
  ONESTACK_API_TRY(
      co_await write(env, [&env, &p, &i] { return env.svc.store().remove_implied_role(p, i); }));
  co_return Response::empty(bh::status::no_content);
}

awaitable<Response> list_implied(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(
      authorize(env, **who, "identity:list_implied_roles", {{"prior_role_id", req.param(0)}}));
  auto snap = env.svc.snapshot();
  const RoleInfo* prior = snap->role(req.param(0));
  if (prior == nullptr) {
    co_return error_response(
        make_error(ErrorCode::kNotFound, "Could not find role: " + req.param(0) + "."));
  }
  auto all = co_await env.pool.run([&env] { return env.svc.store().list_implied_roles(); });
  ONESTACK_API_TRY(all);
  std::vector<const RoleInfo*> implies;
  for (auto& [p, i] : *all) {
    if (p == prior->id && snap->role(i)) implies.push_back(snap->role(i));
  }
  json::object body;
  body["role_inference"] = inference(env, *prior, implies);
  body["links"] = json::object{{"self", v3_url(env, "roles/" + prior->id + "/implies")}};
  co_return json_response(bh::status::ok, body);
}

awaitable<Response> list_inferences(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_role_inference_rules", {}));
  auto snap = env.svc.snapshot();
  auto all = co_await env.pool.run([&env] { return env.svc.store().list_implied_roles(); });
  ONESTACK_API_TRY(all);
  std::map<std::string, std::vector<const RoleInfo*>> by_prior;
  for (auto& [p, i] : *all) {
    if (snap->role(p) && snap->role(i)) by_prior[p].push_back(snap->role(i));
  }
  json::array out;
  for (auto& [p, imps] : by_prior) out.push_back(inference(env, *snap->role(p), imps));
  co_return collection_response(env, req, "role_inferences", std::move(out));
}

// --- grants ----------------------------------------------------------------

// Path shapes: /v3/{projects|domains}/{target}/{users|groups}/{actor}/roles[/{role}]
// (OS-INHERIT adds a prefix and an "inherited_to_projects" suffix), and
// /v3/system/{users|groups}/{actor}/roles[/{role}].
template <TargetType T, ActorType A, bool Inherited>
struct GrantPath {
  static std::string target(const Request& req) {
    return T == TargetType::kSystem ? "system" : req.param(0);
  }
  static const std::string& actor(const Request& req) {
    return req.param(T == TargetType::kSystem ? 0 : 1);
  }
  static const std::string& role(const Request& req) {
    return req.param(T == TargetType::kSystem ? 1 : 2);
  }
};

template <TargetType T, ActorType A, bool Inherited>
awaitable<Result<store::Assignment>> grant_target(Env& env, Request& req, std::string_view rule,
                                                  bool with_role) {
  using P = GrantPath<T, A, Inherited>;
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  auto snap = env.svc.snapshot();
  store::Assignment a;
  a.actor_type = A;
  a.actor_id = P::actor(req);
  a.target_type = T;
  a.target_id = P::target(req);
  a.inherited = Inherited;
  policy::Target t;
  const char* actor_kind = A == ActorType::kUser ? "user" : "group";
  t[std::string("target.") + actor_kind + ".id"] = a.actor_id;
  if (A == ActorType::kUser) {
    if (const UserInfo* u = snap->user(a.actor_id)) t["target.user.domain_id"] = u->domain_id;
  }
  if (T == TargetType::kProject) {
    t["target.project.id"] = a.target_id;
    if (const ProjectInfo* p = snap->project(a.target_id))
      t["target.project.domain_id"] = p->domain_id;
  } else if (T == TargetType::kDomain) {
    t["target.domain.id"] = a.target_id;
  }
  if (with_role) {
    a.role_id = P::role(req);
    t["target.role.id"] = a.role_id;
    if (const RoleInfo* r = snap->role(a.role_id)) {
      t["target.role.domain_id"] = r->domain_id.empty() ? "None" : r->domain_id;
    }
  }
  Status allowed = authorize(env, **who, rule, t);
  if (!allowed.ok()) co_return std::move(allowed).error();
  // Existence checks come after authorisation, so nothing leaks to outsiders.
  if (T == TargetType::kProject && snap->project(a.target_id) == nullptr) {
    co_return make_error(ErrorCode::kNotFound, "Could not find project: " + a.target_id + ".");
  }
  if (T == TargetType::kDomain && snap->domain(a.target_id) == nullptr) {
    co_return make_error(ErrorCode::kNotFound, "Could not find domain: " + a.target_id + ".");
  }
  if (A == ActorType::kUser && snap->user(a.actor_id) == nullptr) {
    co_return make_error(ErrorCode::kNotFound, "Could not find user: " + a.actor_id + ".");
  }
  if (A == ActorType::kGroup) {
    auto g = co_await fetch(env, Kind::kGroup, a.actor_id);
    if (!g.ok()) co_return std::move(g).error();
  }
  if (with_role && snap->role(a.role_id) == nullptr) {
    co_return make_error(ErrorCode::kNotFound, "Could not find role: " + a.role_id + ".");
  }
  co_return a;
}

template <TargetType T, ActorType A, bool Inherited>
awaitable<Response> put_grant(Env& env, Request& req) {
  auto a = co_await grant_target<T, A, Inherited>(env, req, "identity:create_grant", true);
  ONESTACK_API_TRY(a);
  store::Assignment g = *a;
  ONESTACK_API_TRY(co_await write(env, [&env, &g] { return env.svc.store().add_assignment(g); }));
  co_return Response::empty(bh::status::no_content);
}

template <TargetType T, ActorType A, bool Inherited>
awaitable<Response> check_grant(Env& env, Request& req) {
  auto a = co_await grant_target<T, A, Inherited>(env, req, "identity:check_grant", true);
  ONESTACK_API_TRY(a);
  store::AssignmentQuery q{a->actor_type, a->actor_id, a->target_type, a->target_id, a->role_id};
  auto found = co_await env.pool.run([&env, &q] { return env.svc.store().list_assignments(q); });
  ONESTACK_API_TRY(found);
  bool hit = std::any_of(found->begin(), found->end(),
                         [&](const store::Assignment& x) { return x.inherited == Inherited; });
  if (!hit) {
    co_return error_response(make_error(
        ErrorCode::kNotFound, "Could not find role assignment with role: " + a->role_id +
                                  ", actor: " + a->actor_id + ", target: " + a->target_id + "."));
  }
  co_return Response::empty(bh::status::no_content);
}

template <TargetType T, ActorType A, bool Inherited>
awaitable<Response> delete_grant(Env& env, Request& req) {
  auto a = co_await grant_target<T, A, Inherited>(env, req, "identity:revoke_grant", true);
  ONESTACK_API_TRY(a);
  store::Assignment g = *a;
  ONESTACK_API_TRY(co_await write(env, [&env, &g] {
    Status s = env.svc.store().remove_assignment(g);
    if (!s.ok() && s.error().code == ErrorCode::kNotFound) {
      return Status(make_error(ErrorCode::kNotFound,
                               "Could not find role assignment with role: " + g.role_id + "."));
    }
    return s;
  }));
  co_return Response::empty(bh::status::no_content);
}

template <TargetType T, ActorType A, bool Inherited>
awaitable<Response> list_grants(Env& env, Request& req) {
  auto a = co_await grant_target<T, A, Inherited>(env, req, "identity:list_grants", false);
  ONESTACK_API_TRY(a);
  store::AssignmentQuery q{a->actor_type, a->actor_id, a->target_type, a->target_id, std::nullopt};
  auto found = co_await env.pool.run([&env, &q] { return env.svc.store().list_assignments(q); });
  ONESTACK_API_TRY(found);
  auto snap = env.svc.snapshot();
  json::array out;
  std::set<std::string> seen;
  for (const auto& x : *found) {
    if (x.inherited != Inherited || !seen.insert(x.role_id).second) continue;
    if (const RoleInfo* r = snap->role(x.role_id)) {
      json::object o = role_ref(env, *r);
      o["domain_id"] = r->domain_id.empty() ? json::value(nullptr) : json::value(r->domain_id);
      out.push_back(std::move(o));
    }
  }
  co_return collection_response(env, req, "roles", std::move(out));
}

template <TargetType T, ActorType A, bool Inherited>
void add_grant_routes(http::Router& r, Env& env, const std::string& base,
                      const std::string& suffix) {
  add_route(r, env, bh::verb::get, base + "/roles" + (Inherited ? "/inherited_to_projects" : ""),
            list_grants<T, A, Inherited>);
  std::string one = base + "/roles/{role_id}" + suffix;
  add_route(r, env, bh::verb::put, one, put_grant<T, A, Inherited>);
  add_route(r, env, bh::verb::head, one, check_grant<T, A, Inherited>);
  add_route(r, env, bh::verb::get, one, check_grant<T, A, Inherited>);
  add_route(r, env, bh::verb::delete_, one, delete_grant<T, A, Inherited>);
}

// --- role assignments --------------------------------------------------------

struct Row {
  store::Assignment a;
  std::string via_group;       // set when expanded from a group (effective)
  std::string inherited_from;  // set when an inherited grant was expanded
};

json::object scope_ref(const Env& env, const Snapshot& snap, const store::Assignment& a,
                       bool names) {
  json::object scope;
  if (a.target_type == TargetType::kSystem) {
    scope["system"] = json::object{{"all", true}};
    return scope;
  }
  json::object t{{"id", a.target_id}};
  if (names) {
    if (a.target_type == TargetType::kProject) {
      if (const ProjectInfo* p = snap.project(a.target_id)) {
        t["name"] = p->name;
        const DomainInfo* d = snap.domain(p->domain_id);
        t["domain"] = json::object{{"id", p->domain_id}, {"name", d ? d->name : ""}};
      }
    } else if (const DomainInfo* d = snap.domain(a.target_id)) {
      t["name"] = d->name;
    }
  }
  scope[a.target_type == TargetType::kProject ? "project" : "domain"] = std::move(t);
  if (a.inherited) scope["OS-INHERIT:inherited_to"] = "projects";
  (void)env;
  return scope;
}

awaitable<Response> list_role_assignments(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  policy::Target t;
  if ((*who)->domain_scoped()) t["target.domain_id"] = (*who)->domain_id;
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_role_assignments", t));
  bool effective = req.query.has("effective");
  bool names = req.query.has("include_names") && req.query.get("include_names") != "false" &&
               req.query.get("include_names") != "0";
  auto f_user = req.query.get("user.id"), f_group = req.query.get("group.id"),
       f_role = req.query.get("role.id"), f_project = req.query.get("scope.project.id"),
       f_domain = req.query.get("scope.domain.id"), f_system = req.query.get("scope.system"),
       f_inherit = req.query.get("scope.OS-INHERIT:inherited_to");
  if (f_user && f_group) {
    co_return error_response(
        make_error(ErrorCode::kInvalidArgument, "Specify a user or group, not both."));
  }
  if ((f_project ? 1 : 0) + (f_domain ? 1 : 0) + (f_system ? 1 : 0) > 1) {
    co_return error_response(make_error(ErrorCode::kInvalidArgument,
                                        "Specify a project, domain or system scope, not several."));
  }
  auto all = co_await env.pool.run([&env] { return env.svc.store().list_assignments({}); });
  ONESTACK_API_TRY(all);
  auto snap = env.svc.snapshot();

  std::vector<Row> rows;
  for (const auto& a : *all) {
    if (!effective) {
      rows.push_back({a, "", ""});
      continue;
    }
    // Effective: groups become their members, inherited grants become the
    // projects below them, implied roles are added.
    std::vector<std::pair<std::string, std::string>> actors;  // user, via group
    if (a.actor_type == ActorType::kGroup) {
      auto members = co_await env.pool.run(
          [&env, &g = a.actor_id] { return env.svc.store().users_in_group(g); });
      ONESTACK_API_TRY(members);
      for (auto& u : *members) actors.push_back({u, a.actor_id});
    } else {
      actors.push_back({a.actor_id, ""});
    }
    std::vector<std::string> targets;
    if (a.inherited) {
      // Every project below the target (a domain: all its projects).
      auto projects =
          co_await env.pool.run([&env] { return env.svc.store().list(Kind::kProject, {}); });
      ONESTACK_API_TRY(projects);
      for (auto& p : *projects) {
        auto anc = snap->ancestors(p.id);
        bool below = (a.target_type == TargetType::kDomain && p.scope == a.target_id) ||
                     (a.target_type == TargetType::kProject &&
                      std::find(anc.begin(), anc.end(), a.target_id) != anc.end());
        if (below) targets.push_back(p.id);
      }
    } else {
      targets.push_back(a.target_id);
    }
    for (auto& [user, group] : actors) {
      for (auto& target : targets) {
        for (auto& role : snap->expand_implied({a.role_id})) {
          store::Assignment e;
          e.actor_type = ActorType::kUser;
          e.actor_id = user;
          e.target_type = a.inherited ? TargetType::kProject : a.target_type;
          e.target_id = target;
          e.role_id = role;
          rows.push_back({e, group, a.inherited ? a.target_id : ""});
        }
      }
    }
  }
  json::array out;
  std::set<std::string> seen;
  for (const auto& row : rows) {
    const auto& a = row.a;
    if (f_user && !(a.actor_type == ActorType::kUser && a.actor_id == *f_user)) continue;
    if (f_group && !(a.actor_type == ActorType::kGroup && a.actor_id == *f_group)) continue;
    if (f_role && a.role_id != *f_role) continue;
    if (f_project && !(a.target_type == TargetType::kProject && a.target_id == *f_project))
      continue;
    if (f_domain && !(a.target_type == TargetType::kDomain && a.target_id == *f_domain)) continue;
    if (f_system && a.target_type != TargetType::kSystem) continue;
    if (f_inherit && !a.inherited) continue;
    std::string key = std::to_string(static_cast<int>(a.actor_type)) + a.actor_id + "|" +
                      std::to_string(static_cast<int>(a.target_type)) + a.target_id + "|" +
                      a.role_id + (a.inherited ? "|i" : "");
    if (!seen.insert(key).second) continue;
    json::object o;
    json::object role{{"id", a.role_id}};
    if (names) {
      if (const RoleInfo* r = snap->role(a.role_id)) {
        role["name"] = r->name;
        if (!r->domain_id.empty()) role["domain"] = json::object{{"id", r->domain_id}};
      }
    }
    o["role"] = std::move(role);
    json::object actor{{"id", a.actor_id}};
    if (names) {
      if (a.actor_type == ActorType::kUser) {
        if (const UserInfo* u = snap->user(a.actor_id)) {
          actor["name"] = u->name;
          const DomainInfo* d = snap->domain(u->domain_id);
          actor["domain"] = json::object{{"id", u->domain_id}, {"name", d ? d->name : ""}};
        }
      }
    }
    o[a.actor_type == ActorType::kUser ? "user" : "group"] = std::move(actor);
    o["scope"] = scope_ref(env, *snap, a, names);
    std::string target_path =
        a.target_type == TargetType::kSystem
            ? "system"
            : (a.target_type == TargetType::kProject ? "projects/" : "domains/") + a.target_id;
    std::string link =
        v3_url(env, (a.inherited ? "OS-INHERIT/" : "") + target_path + "/" +
                        (a.actor_type == ActorType::kUser ? "users/" : "groups/") + a.actor_id +
                        "/roles/" + a.role_id + (a.inherited ? "/inherited_to_projects" : ""));
    json::object links{{"assignment", link}};
    if (!row.via_group.empty())
      links["membership"] = v3_url(env, "groups/" + row.via_group + "/users/" + a.actor_id);
    o["links"] = std::move(links);
    out.push_back(std::move(o));
  }
  co_return collection_response(env, req, "role_assignments", std::move(out));
}

}  // namespace

void register_role_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::post, "/v3/roles", create_role);
  add_route(r, env, V::get, "/v3/roles", list_roles);
  add_route(r, env, V::get, "/v3/roles/{role_id}", get_role);
  add_route(r, env, V::patch, "/v3/roles/{role_id}", update_role);
  add_route(r, env, V::delete_, "/v3/roles/{role_id}", delete_role);
  add_route(r, env, V::get, "/v3/roles/{prior_role_id}/implies", list_implied);
  add_route(r, env, V::put, "/v3/roles/{prior_role_id}/implies/{implied_role_id}", create_implied);
  add_route(r, env, V::get, "/v3/roles/{prior_role_id}/implies/{implied_role_id}", get_implied);
  add_route(r, env, V::head, "/v3/roles/{prior_role_id}/implies/{implied_role_id}", get_implied);
  add_route(r, env, V::delete_, "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
            delete_implied);
  add_route(r, env, V::get, "/v3/role_inferences", list_inferences);
  add_route(r, env, V::get, "/v3/role_assignments", list_role_assignments);

  using T = TargetType;
  using A = ActorType;
  add_grant_routes<T::kProject, A::kUser, false>(r, env,
                                                 "/v3/projects/{project_id}/users/{user_id}", "");
  add_grant_routes<T::kProject, A::kGroup, false>(
      r, env, "/v3/projects/{project_id}/groups/{group_id}", "");
  add_grant_routes<T::kDomain, A::kUser, false>(r, env, "/v3/domains/{domain_id}/users/{user_id}",
                                                "");
  add_grant_routes<T::kDomain, A::kGroup, false>(r, env,
                                                 "/v3/domains/{domain_id}/groups/{group_id}", "");
  add_grant_routes<T::kSystem, A::kUser, false>(r, env, "/v3/system/users/{user_id}", "");
  add_grant_routes<T::kSystem, A::kGroup, false>(r, env, "/v3/system/groups/{group_id}", "");
  const std::string inherit = "/inherited_to_projects";
  add_grant_routes<T::kProject, A::kUser, true>(
      r, env, "/v3/OS-INHERIT/projects/{project_id}/users/{user_id}", inherit);
  add_grant_routes<T::kProject, A::kGroup, true>(
      r, env, "/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}", inherit);
  add_grant_routes<T::kDomain, A::kUser, true>(
      r, env, "/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}", inherit);
  add_grant_routes<T::kDomain, A::kGroup, true>(
      r, env, "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}", inherit);
}

}  // namespace onestack::identity::api
