// Domains, projects and project tags (Keystone v3 "resource" API).
#include <algorithm>

#include "core/ids.h"
#include "identity/api/routes.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

constexpr size_t kMaxName = 64;
constexpr size_t kMaxTag = 255;
constexpr size_t kMaxTags = 80;

// --- rendering -------------------------------------------------------------

json::object render_domain(const Env& env, const store::Record& rec) {
  json::object d = record_doc(rec);
  d["id"] = rec.id;
  d["name"] = rec.name;
  if (!d.contains("description")) d["description"] = "";
  if (!d.contains("enabled")) d["enabled"] = true;
  if (!d.contains("tags")) d["tags"] = json::array();
  if (!d.contains("options")) d["options"] = json::object();
  add_self_link(env, d, "domains");
  return d;
}

json::object render_project(const Env& env, const store::Record& rec) {
  json::object p = record_doc(rec);
  p["id"] = rec.id;
  p["name"] = rec.name;
  p["domain_id"] = rec.scope;
  p["parent_id"] = rec.parent_id.empty() ? json::value(rec.scope) : json::value(rec.parent_id);
  p["is_domain"] = false;
  if (!p.contains("description")) p["description"] = "";
  if (!p.contains("enabled")) p["enabled"] = true;
  if (!p.contains("tags")) p["tags"] = json::array();
  if (!p.contains("options")) p["options"] = json::object();
  add_self_link(env, p, "projects");
  return p;
}

// A domain seen through the projects API (Keystone stores domains as
// projects with is_domain=true and shows them both ways).
json::object render_domain_as_project(const Env& env, const store::Record& rec) {
  json::object p = record_doc(rec);
  p["id"] = rec.id;
  p["name"] = rec.name;
  p["domain_id"] = nullptr;
  p["parent_id"] = nullptr;
  p["is_domain"] = true;
  if (!p.contains("description")) p["description"] = "";
  if (!p.contains("enabled")) p["enabled"] = true;
  if (!p.contains("tags")) p["tags"] = json::array();
  if (!p.contains("options")) p["options"] = json::object();
  add_self_link(env, p, "projects");
  return p;
}

Status check_tags(const json::object& o) {
  auto it = o.find("tags");
  if (it == o.end()) return ok_status();
  if (!it->value().is_array() || it->value().as_array().size() > kMaxTags) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Invalid input for field 'tags': must be a list of at most 80 strings.");
  }
  for (const auto& t : it->value().as_array()) {
    if (!t.is_string() || t.as_string().empty() || t.as_string().size() > kMaxTag ||
        std::string_view(t.as_string()).find('/') != std::string_view::npos ||
        std::string_view(t.as_string()).find(',') != std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "Invalid input for field 'tags': each tag is 1..255 characters without "
                        "'/' or ','.");
    }
  }
  return ok_status();
}

Status check_project_body(const json::object& p, bool create) {
  ONESTACK_TRY(check_string(p, "name", kMaxName, create));
  ONESTACK_TRY(check_string(p, "description", 65535, false));
  ONESTACK_TRY(check_string(p, "domain_id", kMaxName, false));
  ONESTACK_TRY(check_string(p, "parent_id", kMaxName, false));
  ONESTACK_TRY(check_bool(p, "enabled"));
  ONESTACK_TRY(check_bool(p, "is_domain"));
  ONESTACK_TRY(check_tags(p));
  return ok_status();
}

// --- domains ---------------------------------------------------------------

// Deletes a domain with its projects, users, groups and domain roles.
// Blocking: runs on the pool.
Status delete_domain_cascade(Env& env, const std::string& id) {
  auto& st = env.svc.store();
  for (Kind k : {Kind::kProject, Kind::kUser, Kind::kGroup, Kind::kRole}) {
    store::RecordQuery q;
    q.scope = id;
    auto recs = st.list(k, q);
    if (!recs.ok()) return Status(std::move(recs).error());
    for (const auto& r : *recs) {
      Status s = st.remove(k, r.id);
      if (!s.ok() && s.error().code != ErrorCode::kNotFound) return s;
    }
  }
  return st.remove(Kind::kDomain, id);
}

bool doc_enabled(const store::Record& rec) {
  json::object d = record_doc(rec);
  auto it = d.find("enabled");
  return it == d.end() || !it->value().is_bool() || it->value().as_bool();
}

awaitable<Response> create_domain(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_domain", {}));
  auto body = body_entity(req, "domain");
  ONESTACK_API_TRY(body);
  json::object d = std::move(body).value();
  ONESTACK_API_TRY(check_string(d, "name", kMaxName, true));
  ONESTACK_API_TRY(check_string(d, "description", 65535, false));
  ONESTACK_API_TRY(check_bool(d, "enabled"));
  ONESTACK_API_TRY(check_tags(d));
  store::Record rec;
  rec.id = d.contains("explicit_domain_id") && d["explicit_domain_id"].is_string()
               ? std::string(d["explicit_domain_id"].as_string())
               : new_hex_id();
  d.erase("explicit_domain_id");
  d.erase("id");
  rec.name = std::string(d["name"].as_string());
  d.erase("name");
  if (!d.contains("enabled")) d["enabled"] = true;
  rec.doc = json::serialize(d);
  auto st = co_await write(env, [&env, &rec] {
    Status s = env.svc.store().create(Kind::kDomain, rec);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(ErrorCode::kConflict,
                               "Conflict occurred attempting to store domain - Duplicate entry "
                               "found with name " +
                                   rec.name + "."));
    }
    return s;
  });
  ONESTACK_API_TRY(st);
  json::object out;
  out["domain"] = render_domain(env, rec);
  co_return json_response(bh::status::created, out);
}

awaitable<Response> list_domains(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_domains", {}));
  auto recs = co_await env.pool.run([&] { return env.svc.store().list(Kind::kDomain, {}); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& r : *recs) {
    json::object d = render_domain(env, r);
    if (!matches_filter(d, req, "name") || !matches_filter(d, req, "enabled")) continue;
    out.push_back(std::move(d));
  }
  co_return collection_response(env, req, "domains", std::move(out));
}

awaitable<Response> get_domain(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto rec = co_await fetch(env, Kind::kDomain, req.param(0));
  policy::Target t{{"target.domain.id", req.param(0)}, {"domain_id", req.param(0)}};
  ONESTACK_API_TRY(authorize(env, **who, "identity:get_domain", t));
  ONESTACK_API_TRY(rec);
  json::object out;
  out["domain"] = render_domain(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_domain(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  policy::Target t{{"target.domain.id", req.param(0)}, {"domain_id", req.param(0)}};
  ONESTACK_API_TRY(authorize(env, **who, "identity:update_domain", t));
  auto body = body_entity(req, "domain");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  ONESTACK_API_TRY(check_string(patch, "name", kMaxName, false));
  ONESTACK_API_TRY(check_string(patch, "description", 65535, false));
  ONESTACK_API_TRY(check_bool(patch, "enabled"));
  ONESTACK_API_TRY(check_tags(patch));
  ONESTACK_API_TRY(check_same_id(patch, req.param(0)));
  auto rec = co_await fetch(env, Kind::kDomain, req.param(0));
  ONESTACK_API_TRY(rec);
  store::Record updated = apply_patch(*rec, patch);
  ONESTACK_API_TRY(co_await write(
      env, [&env, &updated] { return env.svc.store().update(Kind::kDomain, updated); }));
  json::object out;
  out["domain"] = render_domain(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_domain(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  policy::Target t{{"target.domain.id", req.param(0)}, {"domain_id", req.param(0)}};
  ONESTACK_API_TRY(authorize(env, **who, "identity:delete_domain", t));
  auto rec = co_await fetch(env, Kind::kDomain, req.param(0));
  ONESTACK_API_TRY(rec);
  if (doc_enabled(*rec)) {
    // Keystone refuses to delete an enabled domain (ForbiddenNotSecurity).
    co_return error_response(make_error(
        ErrorCode::kForbidden, "Cannot delete a domain that is enabled, please disable it first."));
  }
  std::string id = req.param(0);
  ONESTACK_API_TRY(co_await write(env, [&env, &id] { return delete_domain_cascade(env, id); }));
  co_return Response::empty(bh::status::no_content);
}

// --- projects --------------------------------------------------------------

awaitable<Response> create_project(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  auto body = body_entity(req, "project");
  ONESTACK_API_TRY(body);
  json::object p = std::move(body).value();
  ONESTACK_API_TRY(check_project_body(p, true));
  if (auto it = p.find("is_domain"); it != p.end() && it->value().as_bool()) {
    policy::Target dt{{"target.project.domain_id", std::string(policy::kNoneValue)}};
    ONESTACK_API_TRY(authorize(env, **who, "identity:create_project", dt));
    if (p.contains("domain_id") && !p["domain_id"].is_null()) {
      co_return error_response(make_error(ErrorCode::kInvalidArgument,
                                          "A project acting as a domain cannot have a domain_id."));
    }
    store::Record rec;
    rec.id = new_hex_id();
    rec.name = std::string(p["name"].as_string());
    for (auto k : {"id", "name", "domain_id", "parent_id", "is_domain", "links"}) p.erase(k);
    if (!p.contains("enabled")) p["enabled"] = true;
    rec.doc = json::serialize(p);
    ONESTACK_API_TRY(co_await write(env, [&env, &rec] {
      Status s = env.svc.store().create(Kind::kDomain, rec);
      if (!s.ok() && s.error().code == ErrorCode::kConflict) {
        return Status(make_error(ErrorCode::kConflict,
                                 "Conflict occurred attempting to store project - Duplicate entry "
                                 "found with name " +
                                     rec.name + "."));
      }
      return s;
    }));
    json::object out;
    out["project"] = render_domain_as_project(env, rec);
    co_return json_response(bh::status::created, out);
  }
  auto snap = env.svc.snapshot();
  std::string domain_id = p.contains("domain_id") && p["domain_id"].is_string()
                              ? std::string(p["domain_id"].as_string())
                              : std::string();
  std::string parent_id = p.contains("parent_id") && p["parent_id"].is_string()
                              ? std::string(p["parent_id"].as_string())
                              : std::string();
  if (!parent_id.empty()) {
    const ProjectInfo* parent = snap->project(parent_id);
    if (parent == nullptr && snap->domain(parent_id) == nullptr) {
      co_return error_response(
          make_error(ErrorCode::kNotFound, "Could not find project: " + parent_id + "."));
    }
    std::string parent_domain = parent ? parent->domain_id : parent_id;
    if (!domain_id.empty() && domain_id != parent_domain) {
      co_return error_response(make_error(ErrorCode::kInvalidArgument,
                                          "Cannot create project: parent in another domain."));
    }
    domain_id = parent_domain;
    if (!parent) parent_id.clear();
  }
  if (domain_id.empty()) {
    // Keystone takes the domain of the caller's scope, else the default.
    domain_id = !(*who)->project_domain_id.empty() ? (*who)->project_domain_id
                : !(*who)->domain_id.empty()       ? (*who)->domain_id
                                                   : env.svc.settings().default_domain_id;
  }
  policy::Target t{{"target.project.domain_id", domain_id}};
  ONESTACK_API_TRY(authorize(env, **who, "identity:create_project", t));
  if (snap->domain(domain_id) == nullptr) {
    co_return error_response(
        make_error(ErrorCode::kNotFound, "Could not find domain: " + domain_id + "."));
  }
  store::Record rec;
  rec.id = new_hex_id();
  rec.scope = domain_id;
  rec.parent_id = parent_id;
  rec.name = std::string(p["name"].as_string());
  for (auto k : {"id", "name", "domain_id", "parent_id", "is_domain", "links"}) p.erase(k);
  if (!p.contains("enabled")) p["enabled"] = true;
  if (!p.contains("tags")) p["tags"] = json::array();
  rec.doc = json::serialize(p);
  ONESTACK_API_TRY(co_await write(env, [&env, &rec] {
    Status s = env.svc.store().create(Kind::kProject, rec);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(ErrorCode::kConflict,
                               "Conflict occurred attempting to store project - it is not "
                               "permitted to have two projects with the same name in the same "
                               "domain : " +
                                   rec.name + "."));
    }
    return s;
  }));
  json::object out;
  out["project"] = render_project(env, rec);
  co_return json_response(bh::status::created, out);
}

bool has_tags(const json::object& p, std::string_view csv, bool all) {
  std::vector<std::string> want;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t comma = csv.find(',', start);
    if (comma == std::string_view::npos) comma = csv.size();
    want.emplace_back(csv.substr(start, comma - start));
    start = comma + 1;
  }
  auto it = p.find("tags");
  std::vector<std::string> have;
  if (it != p.end() && it->value().is_array()) {
    for (auto& t : it->value().as_array()) {
      if (t.is_string()) have.emplace_back(t.as_string());
    }
  }
  size_t found = 0;
  for (auto& w : want) {
    if (std::find(have.begin(), have.end(), w) != have.end()) ++found;
  }
  return all ? found == want.size() : found > 0;
}

awaitable<Response> list_projects(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  // Keystone passes the domain only for a domain-scoped token.
  policy::Target t;
  if ((*who)->domain_scoped()) t["target.domain_id"] = (*who)->domain_id;
  ONESTACK_API_TRY(authorize(env, **who, "identity:list_projects", t));
  store::RecordQuery q;
  if (auto d = req.query.get("domain_id")) q.scope = std::string(*d);
  auto recs = co_await env.pool.run([&] { return env.svc.store().list(Kind::kProject, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  bool domains = false;
  if (auto is_domain = req.query.get("is_domain")) {
    std::string v(*is_domain);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    domains = v == "true" || v == "1";
  }
  if (domains) {
    recs = co_await env.pool.run([&env] { return env.svc.store().list(Kind::kDomain, {}); });
    ONESTACK_API_TRY(recs);
  }
  for (const auto& r : *recs) {
    json::object p = domains ? render_domain_as_project(env, r) : render_project(env, r);
    if (!matches_filter(p, req, "name") || !matches_filter(p, req, "enabled") ||
        !matches_filter(p, req, "parent_id")) {
      continue;
    }
    if (auto v = req.query.get("tags"); v && !has_tags(p, *v, true)) continue;
    if (auto v = req.query.get("tags-any"); v && !has_tags(p, *v, false)) continue;
    if (auto v = req.query.get("not-tags"); v && has_tags(p, *v, true)) continue;
    if (auto v = req.query.get("not-tags-any"); v && has_tags(p, *v, false)) continue;
    out.push_back(std::move(p));
  }
  co_return collection_response(env, req, "projects", std::move(out));
}

bool is_domain(const store::Record& project) { return project.scope.empty(); }

awaitable<Result<store::Record>> authorized_project(Env& env, Request& req, std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  auto rec = co_await fetch(env, Kind::kProject, req.param(0));
  if (!rec.ok() && rec.error().code == ErrorCode::kNotFound) {
    // A domain is also a project (is_domain=true); its record has no scope.
    auto dom = co_await fetch(env, Kind::kDomain, req.param(0));
    if (dom.ok()) rec = std::move(dom);
  }
  policy::Target t{{"target.project.id", req.param(0)}, {"project_id", req.param(0)}};
  if (rec.ok()) t["target.project.domain_id"] = rec->scope.empty() ? "None" : rec->scope;
  Status allowed = authorize(env, **who, rule, t);
  if (!allowed.ok()) co_return std::move(allowed).error();
  co_return rec;
}

// {"parent": {"grandparent": {"domain": null}}}: the ancestors as nested ids,
// ending with the domain (Keystone's parents_as_ids).
json::value parents_as_ids(const Snapshot& snap, const store::Record& rec) {
  json::value chain = json::object{{rec.scope, nullptr}};
  auto anc = snap.ancestors(rec.id);
  for (auto it = anc.rbegin(); it != anc.rend(); ++it) {
    chain = json::object{{*it, std::move(chain)}};
  }
  return chain;
}

// {"child": {"grandchild": null}} (Keystone's subtree_as_ids).
json::value subtree_as_ids(const Snapshot& snap, const std::string& id, int depth = 0) {
  auto kids = snap.children(id);
  if (kids.empty() || depth > 64) return nullptr;
  json::object out;
  for (const auto& k : kids) out[k] = subtree_as_ids(snap, k, depth + 1);
  return out;
}

void collect_subtree(const Snapshot& snap, const std::string& id, std::vector<std::string>* out,
                     int depth = 0) {
  if (depth > 64) return;
  for (const auto& k : snap.children(id)) {
    out->push_back(k);
    collect_subtree(snap, k, out, depth + 1);
  }
}

// [{"project": {...}}, ...] for those of `ids` the caller may see.
awaitable<json::array> visible_projects(Env& env, Request& req, std::vector<std::string> ids) {
  json::array listed;
  for (const auto& id : ids) {
    auto r = co_await fetch(env, Kind::kProject, id);
    if (!r.ok()) continue;
    policy::Target t{{"target.project.id", id}, {"target.project.domain_id", r->scope}};
    if (!env.svc.allowed("identity:get_project", *req.auth, t)) continue;
    listed.push_back(json::object{{"project", render_project(env, *r)}});
  }
  co_return listed;
}

awaitable<Response> get_project(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:get_project");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["project"] =
      is_domain(*rec) ? render_domain_as_project(env, *rec) : render_project(env, *rec);
  bool p_ids = req.query.has("parents_as_ids"), p_list = req.query.has("parents_as_list");
  bool s_ids = req.query.has("subtree_as_ids"), s_list = req.query.has("subtree_as_list");
  if ((p_ids && p_list) || (s_ids && s_list)) {
    co_return error_response(make_error(
        ErrorCode::kInvalidArgument,
        "Cannot use parents_as_ids and parents_as_list, or subtree_as_ids and subtree_as_list, "
        "at the same time."));
  }
  if (!is_domain(*rec) && (p_ids || p_list || s_ids || s_list)) {
    auto snap = env.svc.snapshot();
    json::object& project = out["project"].as_object();
    if (p_ids) project["parents"] = parents_as_ids(*snap, *rec);
    if (s_ids) project["subtree"] = subtree_as_ids(*snap, rec->id);
    if (p_list) {
      std::vector<std::string> ids = snap->ancestors(rec->id);
      project["parents"] = co_await visible_projects(env, req, ids);
    }
    if (s_list) {
      std::vector<std::string> ids;
      collect_subtree(*snap, rec->id, &ids);
      project["subtree"] = co_await visible_projects(env, req, ids);
    }
  }
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> update_project(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:update_project");
  ONESTACK_API_TRY(rec);
  auto body = body_entity(req, "project");
  ONESTACK_API_TRY(body);
  json::object patch = std::move(body).value();
  ONESTACK_API_TRY(check_project_body(patch, false));
  ONESTACK_API_TRY(check_same_id(patch, req.param(0)));
  if (is_domain(*rec)) {
    store::Record updated = apply_patch(*rec, patch);
    ONESTACK_API_TRY(co_await write(
        env, [&env, &updated] { return env.svc.store().update(Kind::kDomain, updated); }));
    json::object out;
    out["project"] = render_domain_as_project(env, updated);
    co_return json_response(bh::status::ok, out);
  }
  if (auto it = patch.find("domain_id");
      it != patch.end() && it->value() != json::value(rec->scope)) {
    co_return error_response(
        make_error(ErrorCode::kInvalidArgument, "Update of `domain_id` is not allowed."));
  }
  if (auto it = patch.find("parent_id"); it != patch.end() && !it->value().is_null() &&
                                         it->value() != json::value(rec->parent_id) &&
                                         it->value() != json::value(rec->scope)) {
    co_return error_response(
        make_error(ErrorCode::kForbidden, "Update of `parent_id` is not allowed."));
  }
  store::Record updated = apply_patch(*rec, patch);
  ONESTACK_API_TRY(co_await write(env, [&env, &updated] {
    Status s = env.svc.store().update(Kind::kProject, updated);
    if (!s.ok() && s.error().code == ErrorCode::kConflict) {
      return Status(make_error(
          ErrorCode::kConflict,
          "Conflict occurred attempting to store project - Duplicate name, " + updated.name + "."));
    }
    return s;
  }));
  json::object out;
  out["project"] = render_project(env, updated);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_project(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:delete_project");
  ONESTACK_API_TRY(rec);
  std::string id = rec->id;
  if (is_domain(*rec)) {
    if (doc_enabled(*rec)) {
      co_return error_response(make_error(ErrorCode::kForbidden,
                                          "Cannot delete a domain that is enabled, please disable "
                                          "it first."));
    }
    ONESTACK_API_TRY(co_await write(env, [&env, &id] { return delete_domain_cascade(env, id); }));
    co_return Response::empty(bh::status::no_content);
  }
  ONESTACK_API_TRY(co_await write(env, [&env, &id] {
    store::RecordQuery q;
    q.parent_id = id;
    auto children = env.svc.store().list(Kind::kProject, q);
    if (!children.ok()) return Status(std::move(children).error());
    if (!children->empty()) {
      return Status(make_error(ErrorCode::kForbidden,
                               "Cannot delete the project " + id +
                                   " since it is not a leaf in "
                                   "the hierarchy. Use the cascade option if you want to delete a "
                                   "whole subtree."));
    }
    return env.svc.store().remove(Kind::kProject, id);
  }));
  co_return Response::empty(bh::status::no_content);
}

// --- project tags ----------------------------------------------------------

json::array tags_of(const store::Record& rec) {
  json::object d = record_doc(rec);
  auto it = d.find("tags");
  return it != d.end() && it->value().is_array() ? it->value().as_array() : json::array();
}

awaitable<Response> save_tags(Env& env, store::Record rec, json::array tags, bh::status status,
                              bool render) {
  json::object d = record_doc(rec);
  d["tags"] = tags;
  rec.doc = json::serialize(d);
  ONESTACK_API_TRY(
      co_await write(env, [&env, &rec] { return env.svc.store().update(Kind::kProject, rec); }));
  if (!render) co_return Response::empty(status);
  json::object out;
  out["tags"] = std::move(tags);
  co_return json_response(status, out);
}

awaitable<Response> list_project_tags(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:list_project_tags");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["tags"] = tags_of(*rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> get_project_tag(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:get_project_tag");
  ONESTACK_API_TRY(rec);
  json::array tags = tags_of(*rec);
  for (auto& t : tags) {
    if (t == json::value(req.param(1))) co_return Response::empty(bh::status::no_content);
  }
  co_return error_response(make_error(ErrorCode::kNotFound, "Tag " + req.param(1) + " not found."));
}

awaitable<Response> replace_project_tags(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:update_project_tags");
  ONESTACK_API_TRY(rec);
  auto body = parse_json_object(req.body);
  ONESTACK_API_TRY(body);
  ONESTACK_API_TRY(check_tags(*body));
  auto it = body->find("tags");
  json::array tags = it != body->end() ? it->value().as_array() : json::array();
  co_return co_await save_tags(env, *rec, std::move(tags), bh::status::ok, true);
}

awaitable<Response> add_project_tag(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:create_project_tag");
  ONESTACK_API_TRY(rec);
  json::object probe;
  probe["tags"] = json::array{json::value(req.param(1))};
  ONESTACK_API_TRY(check_tags(probe));
  json::array tags = tags_of(*rec);
  bool present = false;
  for (auto& t : tags) present = present || t == json::value(req.param(1));
  if (!present) {
    if (tags.size() >= kMaxTags) {
      co_return error_response(
          make_error(ErrorCode::kInvalidArgument, "A project may have at most 80 tags."));
    }
    tags.push_back(json::value(req.param(1)));
  }
  Response r = co_await save_tags(env, *rec, std::move(tags), bh::status::created, false);
  if (r.status == bh::status::created) {
    r.headers.set(bh::field::location,
                  v3_url(env, "projects/" + rec->id + "/tags/" + req.param(1)));
  }
  co_return r;
}

awaitable<Response> delete_project_tags(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:delete_project_tags");
  ONESTACK_API_TRY(rec);
  co_return co_await save_tags(env, *rec, json::array(), bh::status::no_content, false);
}

awaitable<Response> delete_project_tag(Env& env, Request& req) {
  auto rec = co_await authorized_project(env, req, "identity:delete_project_tag");
  ONESTACK_API_TRY(rec);
  json::array tags = tags_of(*rec), kept;
  for (auto& t : tags) {
    if (t != json::value(req.param(1))) kept.push_back(t);
  }
  if (kept.size() == tags.size()) {
    co_return error_response(
        make_error(ErrorCode::kNotFound, "Tag " + req.param(1) + " not found."));
  }
  co_return co_await save_tags(env, *rec, std::move(kept), bh::status::no_content, false);
}

}  // namespace

void register_resource_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::post, "/v3/domains", create_domain);
  add_route(r, env, V::get, "/v3/domains", list_domains);
  add_route(r, env, V::get, "/v3/domains/{domain_id}", get_domain);
  add_route(r, env, V::patch, "/v3/domains/{domain_id}", update_domain);
  add_route(r, env, V::delete_, "/v3/domains/{domain_id}", delete_domain);
  add_route(r, env, V::post, "/v3/projects", create_project);
  add_route(r, env, V::get, "/v3/projects", list_projects);
  add_route(r, env, V::get, "/v3/projects/{project_id}", get_project);
  add_route(r, env, V::patch, "/v3/projects/{project_id}", update_project);
  add_route(r, env, V::delete_, "/v3/projects/{project_id}", delete_project);
  add_route(r, env, V::get, "/v3/projects/{project_id}/tags", list_project_tags);
  add_route(r, env, V::put, "/v3/projects/{project_id}/tags", replace_project_tags);
  add_route(r, env, V::delete_, "/v3/projects/{project_id}/tags", delete_project_tags);
  add_route(r, env, V::get, "/v3/projects/{project_id}/tags/{tag}", get_project_tag);
  add_route(r, env, V::put, "/v3/projects/{project_id}/tags/{tag}", add_project_tag);
  add_route(r, env, V::delete_, "/v3/projects/{project_id}/tags/{tag}", delete_project_tag);
}

}  // namespace onestack::identity::api
