// Users, their passwords, groups and group membership (Keystone v3
// "identity" API, keystone/api/users.py and groups.py).
#include "core/ids.h"
#include "identity/api/routes.h"
#include "identity/service/password.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

constexpr size_t kMaxName = 255;

json::object render_user(const Env& env, const store::Record& rec) {
  json::object u = record_doc(rec);
  u.erase("password_hash");
  u["id"] = rec.id;
  u["name"] = rec.name;
  u["domain_id"] = rec.scope;
  if (!u.contains("enabled")) u["enabled"] = true;
  if (!u.contains("password_expires_at")) u["password_expires_at"] = nullptr;
  if (!u.contains("options")) u["options"] = json::object();
  add_self_link(env, u, "users");
  return u;
}

json::object render_group(const Env& env, const store::Record& rec) {
  json::object g = record_doc(rec);
  g["id"] = rec.id;
  g["name"] = rec.name;
  g["domain_id"] = rec.scope;
  if (!g.contains("description")) g["description"] = "";
  add_self_link(env, g, "groups");
  return g;
}

std::string domain_for_create(const Env& env, const auth::AuthContext& who,
                              const json::object& body) {
  auto it = body.find("domain_id");
  if (it != body.end() && it->value().is_string()) return std::string(it->value().as_string());
  if (!who.domain_id.empty()) return who.domain_id;
  if (!who.project_domain_id.empty()) return who.project_domain_id;
  return env.svc.settings().default_domain_id;
}

// Hashes a password on the pool; checks its length first.
awaitable<Result<std::string>> hash(Env& env, const json::value& pw) {
  if (!pw.is_string())
    co_return make_error(ErrorCode::kInvalidArgument,
                         "Invalid input for field 'password': must be a string.");
  std::string p(pw.as_string());
  if (p.size() > env.svc.settings().max_password_length) {
    co_return make_error(ErrorCode::kInvalidArgument,
                         "Invalid input for field 'password': too long.");
  }
  int rounds = env.svc.settings().bcrypt_rounds;
  co_return co_await env.pool.run([&p, &rounds] { return hash_password(p, rounds); });
}

Status check_user_body(const json::object& u, bool create) {
  ONESTACK_TRY(check_string(u, "name", kMaxName, create));
  ONESTACK_TRY(check_string(u, "domain_id", 64, false));
  ONESTACK_TRY(check_string(u, "default_project_id", 64, false));
  ONESTACK_TRY(check_string(u, "description", 65535, false));
  ONESTACK_TRY(check_bool(u, "enabled"));
  return ok_status();
}

// --- users -----------------------------------------------------------------

awaitable<Response> create_user(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto body = body_entity(req, "user");
  ONESTACK_API_TRY(body);
  json::object u = std::move(body).value();
  ONESTACK_API_TRY(check_user_body(u, true));
  std::string domain_id = domain_for_create(env, **who, u);
  policy::Target t{{"target.user.domain_id", domain_id}};
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_user", t));
  if (env.svc.snapshot()->domain(domain_id) == nullptr) {
    co_return error_response(
        make_error(ErrorCode::kNotFound, "Could not find domain: " + domain_id + "."));
  }
  store::Record rec;
  rec.id = new_hex_id();
  rec.scope = domain_id;
  rec.name = std::string(u["name"].as_string());
  if (auto it = u.find("password"); it != u.end() && !it->value().is_null()) {
    auto h = co_await hash(env, it->value());
    ONESTACK_API_TRY(h);
    u["password_hash"] = *h;
  }
  for (auto k : {"id", "name", "domain_id", "password", "links"}) u.erase(k);
  if (!u.contains("enabled")) u["enabled"] = true;
  u["password_expires_at"] = nullptr;
  rec.doc = json::serialize(u);
  ONESTACK_API_TRY(co_await write(env, [&env, &rec] {
    Status s = env.svc.store().create(Kind::kUser, rec);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(ErrorCode::kConflict,
                               "Conflict occurred attempting to store user - Duplicate entry "
                               "found with name " +
                                   rec.name + " at domain ID " + rec.scope + "."));
    }
    return s;
  }));
  json::object out;
  out["user"] = render_user(env, rec);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> list_users(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  // Keystone passes the domain only for a domain-scoped token.
  policy::Target t;
  if ((*who)->domain_scoped()) t["target.domain_id"] = (*who)->domain_id;
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_users", t));
  store::RecordQuery q;
  if (auto d = req.query.get("domain_id")) q.scope = std::string(*d);
  if (auto n = req.query.get("name")) q.name = std::string(*n);
  auto recs = co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kUser, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& r : *recs) {
    json::object u = render_user(env, r);
    if (!matches_filter(u, req, "enabled")) continue;
    out.push_back(std::move(u));
  }
  co_return collection_response(env, req, "users", std::move(out));
}

awaitable<Result<store::Record>> authorized_user(Env& env, Request& req, std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  auto rec = co_await fetch(env, Kind::kUser, req.param(0));
  policy::Target t{{"target.user.id", req.param(0)}, {"user_id", req.param(0)}};
  if (rec.ok()) t["target.user.domain_id"] = rec->scope;
  Status allowed = authorize(env, **who, rule, t);
  if (!allowed.ok()) co_return std::move(allowed).error();
  co_return rec;
}

awaitable<Response> get_user(Env& env, Request& req) {
  auto rec = co_await authorized_user(env, req, "identity:get_user");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["user"] = render_user(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_user(Env& env, Request& req) {
  auto rec = co_await authorized_user(env, req, "identity:update_user");
  ONESTACK_API_TRY(rec);
  auto body = body_entity(req, "user");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  ONESTACK_API_TRY(check_user_body(patch, false));
  ONESTACK_API_TRY(check_same_id(patch, req.param(0)));
  if (auto it = patch.find("domain_id");
      it != patch.end() && it->value() != json::value(rec->scope)) {
    co_return error_response(
        make_error(ErrorCode::kInvalidArgument, "Update of `domain_id` is not allowed."));
  }
  store::Record updated = *rec;
  json::object d = record_doc(updated);
  bool password_changed = false;
  for (auto& kv : patch) {
    std::string_view k = kv.key();
    if (k == "id" || k == "domain_id" || k == "links" || k == "password_hash") continue;
    if (k == "name") {
      updated.name = std::string(kv.value().as_string());
    } else if (k == "password") {
      auto h = co_await hash(env, kv.value());
      ONESTACK_API_TRY(h);
      d["password_hash"] = *h;
      password_changed = true;
    } else {
      d[k] = kv.value();
    }
  }
  updated.doc = json::serialize(d);
  ONESTACK_API_TRY(co_await write(env, [&env, &updated, &password_changed] {
    Status s = env.svc.store().update(Kind::kUser, updated);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(ErrorCode::kConflict,
                               "Conflict occurred attempting to store user - Duplicate entry "
                               "found with name " +
                                   updated.name + "."));
    }
    if (s.ok() && password_changed) return env.svc.revoke_user(updated.id);
    return s;
  }));
  json::object out;
  out["user"] = render_user(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_user(Env& env, Request& req) {
  auto rec = co_await authorized_user(env, req, "identity:delete_user");
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  ONESTACK_API_TRY(co_await write(env, [&env, &id] {
    Status s = env.svc.store().remove(Kind::kUser, id);
    if (!s.ok()) return s;
    return env.svc.revoke_user(id);
  }));
  co_return Response::empty(bh::status::no_content);
}

// POST /v3/users/{user_id}/password: a user changes their own password.
awaitable<Response> change_password(Env& env, Request& req) {
  auto body = body_entity(req, "user");
  ONESTACK_API_TRY(body);
  auto orig = body->find("original_password");
  auto pw = body->find("password");
  if (orig == body->end() || !orig->value().is_string() || pw == body->end() ||
      !pw->value().is_string()) {
    co_return error_response(make_error(ErrorCode::kInvalidArgument,
                                        "Invalid input: 'password' and 'original_password' "
                                        "are required strings."));
  }
  std::string id = req.param(0), original(orig->value().as_string());
  // Keystone authenticates this call by the original password, not a token.
  auto checked = co_await env.pool.run(
      [&env, &id, &original] { return env.svc.check_password(id, original); });
  ONESTACK_API_TRY(checked);
  auto rec = co_await fetch(env, Kind::kUser, id);
  ONESTACK_API_TRY(rec);
  auto h = co_await hash(env, pw->value());
  ONESTACK_API_TRY(h);
  store::Record updated = *rec;
  json::object d = record_doc(updated);
  d["password_hash"] = *h;
  updated.doc = json::serialize(d);
  ONESTACK_API_TRY(co_await write(env, [&env, &updated] {
    Status s = env.svc.store().update(Kind::kUser, updated);
    if (!s.ok()) return s;
    return env.svc.revoke_user(updated.id);
  }));
  co_return Response::empty(bh::status::no_content);
}

awaitable<Response> list_user_projects(Env& env, Request& req) {
  auto rec = co_await authorized_user(env, req, "identity:list_user_projects");
  ONESTACK_API_TRY(rec);
  auto snap = env.svc.snapshot();
  json::array out;
  for (const ProjectInfo* p : snap->projects_of_user(rec->id)) {
    json::object o = render_project_info(env, *p);
    if (!matches_filter(o, req, "name") || !matches_filter(o, req, "enabled") ||
        !matches_filter(o, req, "domain_id")) {
      continue;
    }
    out.push_back(std::move(o));
  }
  co_return collection_response(env, req, "projects", std::move(out));
}

awaitable<Response> list_user_groups(Env& env, Request& req) {
  auto rec = co_await authorized_user(env, req, "identity:list_groups_for_user");
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  auto groups = co_await env.pool.run([&env, &id]() -> Result<std::vector<store::Record>> {
    auto ids = env.svc.store().groups_of_user(id);
    if (!ids.ok()) return std::move(ids).error();
    std::vector<store::Record> out;
    for (const auto& g : *ids) {
      auto r = env.svc.store().get(Kind::kGroup, g);
      if (r.ok()) out.push_back(std::move(r).value());
    }
    return out;
  });
  ONESTACK_API_TRY(groups);
  json::array out;
  for (const auto& g : *groups) {
    json::object o = render_group(env, g);
    if (matches_filter(o, req, "name")) out.push_back(std::move(o));
  }
  co_return collection_response(env, req, "groups", std::move(out));
}

// --- groups ----------------------------------------------------------------

awaitable<Response> create_group(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto body = body_entity(req, "group");
  ONESTACK_API_TRY(body);
  json::object g = std::move(body).value();
  ONESTACK_API_TRY(check_string(g, "name", 64, true));
  ONESTACK_API_TRY(check_string(g, "description", 65535, false));
  ONESTACK_API_TRY(check_string(g, "domain_id", 64, false));
  std::string domain_id = domain_for_create(env, **who, g);
  policy::Target t{{"target.group.domain_id", domain_id}};
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_group", t));
  if (env.svc.snapshot()->domain(domain_id) == nullptr) {
    co_return error_response(
        make_error(ErrorCode::kNotFound, "Could not find domain: " + domain_id + "."));
  }
  store::Record rec;
  rec.id = new_hex_id();
  rec.scope = domain_id;
  rec.name = std::string(g["name"].as_string());
  for (auto k : {"id", "name", "domain_id", "links"}) g.erase(k);
  rec.doc = json::serialize(g);
  ONESTACK_API_TRY(co_await write(env, [&env, &rec] {
    Status s = env.svc.store().create(Kind::kGroup, rec);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(ErrorCode::kConflict,
                               "Conflict occurred attempting to store group - Duplicate entry "
                               "found with name " +
                                   rec.name + "."));
    }
    return s;
  }));
  json::object out;
  out["group"] = render_group(env, rec);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> list_groups(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  policy::Target t;
  if ((*who)->domain_scoped()) t["target.group.domain_id"] = (*who)->domain_id;
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_groups", t));
  store::RecordQuery q;
  if (auto d = req.query.get("domain_id")) q.scope = std::string(*d);
  if (auto n = req.query.get("name")) q.name = std::string(*n);
  auto recs = co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kGroup, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& r : *recs) out.push_back(render_group(env, r));
  co_return collection_response(env, req, "groups", std::move(out));
}

awaitable<Result<store::Record>> authorized_group(Env& env, Request& req, std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  auto rec = co_await fetch(env, Kind::kGroup, req.param(0));
  policy::Target t{{"target.group.id", req.param(0)}, {"group_id", req.param(0)}};
  if (rec.ok()) t["target.group.domain_id"] = rec->scope;
  if (req.path_params.size() > 1) {
    t["user_id"] = req.param(1);
    t["target.user.id"] = req.param(1);
    if (const UserInfo* u = env.svc.snapshot()->user(req.param(1))) {
      t["target.user.domain_id"] = u->domain_id;
    }
  }
  Status allowed = authorize(env, **who, rule, t);
  if (!allowed.ok()) co_return std::move(allowed).error();
  co_return rec;
}

awaitable<Response> get_group(Env& env, Request& req) {
  auto rec = co_await authorized_group(env, req, "identity:get_group");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["group"] = render_group(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_group(Env& env, Request& req) {
  auto rec = co_await authorized_group(env, req, "identity:update_group");
  ONESTACK_API_TRY(rec);
  auto body = body_entity(req, "group");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  ONESTACK_API_TRY(check_string(patch, "name", 64, false));
  ONESTACK_API_TRY(check_string(patch, "description", 65535, false));
  ONESTACK_API_TRY(check_same_id(patch, req.param(0)));
  if (auto it = patch.find("domain_id");
      it != patch.end() && it->value() != json::value(rec->scope)) {
    co_return error_response(
        make_error(ErrorCode::kInvalidArgument, "Update of `domain_id` is not allowed."));
  }
  store::Record updated = apply_patch(*rec, patch);
  ONESTACK_API_TRY(co_await write(
      env, [&env, &updated] { return env.svc.store().update(Kind::kGroup, updated); }));
  json::object out;
  out["group"] = render_group(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_group(Env& env, Request& req) {
  auto rec = co_await authorized_group(env, req, "identity:delete_group");
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  ONESTACK_API_TRY(
      co_await write(env, [&env, &id] { return env.svc.store().remove(Kind::kGroup, id); }));
  co_return Response::empty(bh::status::no_content);
}

awaitable<Response> list_group_users(Env& env, Request& req) {
  auto rec = co_await authorized_group(env, req, "identity:list_users_in_group");
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  auto users = co_await env.pool.run([&env, &id]() -> Result<std::vector<store::Record>> {
    auto ids = env.svc.store().users_in_group(id);
    if (!ids.ok()) return std::move(ids).error();
    std::vector<store::Record> out;
    for (const auto& u : *ids) {
      auto r = env.svc.store().get(Kind::kUser, u);
      if (r.ok()) out.push_back(std::move(r).value());
    }
    return out;
  });
  ONESTACK_API_TRY(users);
  json::array out;
  for (const auto& u : *users) {
    json::object o = render_user(env, u);
    if (matches_filter(o, req, "name") && matches_filter(o, req, "enabled")) {
      out.push_back(std::move(o));
    }
  }
  co_return collection_response(env, req, "users", std::move(out));
}

awaitable<Response> membership(Env& env, Request& req, std::string_view rule, int op) {
  auto rec = co_await authorized_group(env, req, rule);
  ONESTACK_API_TRY(rec);
  std::string group = rec->id, user = req.param(1);
  if (env.svc.snapshot()->user(user) == nullptr) {
    co_return error_response(
        make_error(ErrorCode::kNotFound, "Could not find user: " + user + "."));
  }
  if (op == 0) {  // check
    auto member = co_await env.pool.run(
        [&env, &group, &user] { return env.svc.store().is_member(group, user); });
    ONESTACK_API_TRY(member);
    if (!*member) {
      co_return error_response(make_error(
          ErrorCode::kNotFound, "User " + user + " is not a member of group " + group + "."));
    }
    co_return Response::empty(bh::status::no_content);
  }
  ONESTACK_API_TRY(co_await write(env, [&env, &group, &user, &op] {
    if (op == 1) return env.svc.store().add_member(group, user);
    Status s = env.svc.store().remove_member(group, user);
    if (!s.ok() && s.error().code == ErrorCode::kNotFound) {
      return Status(make_error(ErrorCode::kNotFound,
                               "User " + user + " is not a member of group " + group + "."));
    }
    return s;
  }));
  co_return Response::empty(bh::status::no_content);
}

awaitable<Response> check_member(Env& env, Request& req) {
  co_return co_await membership(env, req, "identity:check_user_in_group", 0);
}
awaitable<Response> add_member(Env& env, Request& req) {
  co_return co_await membership(env, req, "identity:add_user_to_group", 1);
}
awaitable<Response> remove_member(Env& env, Request& req) {
  co_return co_await membership(env, req, "identity:remove_user_from_group", 2);
}

}  // namespace

void register_user_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::post, "/v3/users", create_user);
  add_route(r, env, V::get, "/v3/users", list_users);
  add_route(r, env, V::get, "/v3/users/{user_id}", get_user);
  add_route(r, env, V::patch, "/v3/users/{user_id}", update_user);
  add_route(r, env, V::delete_, "/v3/users/{user_id}", delete_user);
  add_route(r, env, V::post, "/v3/users/{user_id}/password", change_password);
  add_route(r, env, V::get, "/v3/users/{user_id}/projects", list_user_projects);
  add_route(r, env, V::get, "/v3/users/{user_id}/groups", list_user_groups);
  add_route(r, env, V::post, "/v3/groups", create_group);
  add_route(r, env, V::get, "/v3/groups", list_groups);
  add_route(r, env, V::get, "/v3/groups/{group_id}", get_group);
  add_route(r, env, V::patch, "/v3/groups/{group_id}", update_group);
  add_route(r, env, V::delete_, "/v3/groups/{group_id}", delete_group);
  add_route(r, env, V::get, "/v3/groups/{group_id}/users", list_group_users);
  add_route(r, env, V::head, "/v3/groups/{group_id}/users/{user_id}", check_member);
  add_route(r, env, V::put, "/v3/groups/{group_id}/users/{user_id}", add_member);
  add_route(r, env, V::delete_, "/v3/groups/{group_id}/users/{user_id}", remove_member);
}

}  // namespace onestack::identity::api
