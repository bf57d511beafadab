#include "identity/service/snapshot.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <set>

#include "core/json.h"

namespace onestack::identity {

namespace json = boost::json;
using store::Kind;

namespace {

bool doc_bool(const json::object& o, std::string_view key, bool def) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() ? it->value().as_bool() : def;
}
std::string doc_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}
json::object parse_doc(const std::string& doc) {
  auto v = parse_json(doc);
  return v.ok() && v->is_object() ? v->as_object() : json::object{};
}

}  // namespace

Result<std::shared_ptr<const Snapshot>> Snapshot::load(store::IdentityStore& st) {
  auto snap = std::make_shared<Snapshot>();
  store::RecordQuery all;
  auto domains = st.list(Kind::kDomain, all);
  if (!domains.ok()) return std::move(domains).error();
  for (auto& r : *domains) {
    auto d = parse_doc(r.doc);
    snap->domains_[r.id] = DomainInfo{r.id, r.name, doc_bool(d, "enabled", true)};
    snap->domain_names_[r.name] = r.id;
  }
  auto projects = st.list(Kind::kProject, all);
  if (!projects.ok()) return std::move(projects).error();
  for (auto& r : *projects) {
    auto d = parse_doc(r.doc);
    snap->projects_[r.id] =
        ProjectInfo{r.id, r.name, r.scope, r.parent_id, doc_bool(d, "enabled", true)};
    snap->project_names_[r.scope + '\x1f' + r.name] = r.id;
  }
  auto users = st.list(Kind::kUser, all);
  if (!users.ok()) return std::move(users).error();
  for (auto& r : *users) {
    auto d = parse_doc(r.doc);
    snap->users_[r.id] = UserInfo{r.id, r.name, r.scope, doc_string(d, "default_project_id"),
                                  doc_bool(d, "enabled", true)};
    snap->user_names_[r.scope + '\x1f' + r.name] = r.id;
  }
  auto roles = st.list(Kind::kRole, all);
  if (!roles.ok()) return std::move(roles).error();
  for (auto& r : *roles) snap->roles_[r.id] = RoleInfo{r.id, r.name, r.scope};

  auto creds = st.list(Kind::kAppCredential, all);
  if (!creds.ok()) return std::move(creds).error();
  for (auto& r : *creds) {
    auto d = parse_doc(r.doc);
    AppCredInfo a{r.id, r.name, r.owner_id, r.parent_id, {}, doc_bool(d, "unrestricted", false), 0};
    if (auto it = d.find("roles"); it != d.end() && it->value().is_array()) {
      for (auto& role : it->value().as_array()) {
        if (role.is_object()) a.role_ids.push_back(doc_string(role.as_object(), "id"));
      }
    }
    if (auto it = d.find("expires_at_ts"); it != d.end() && it->value().is_number()) {
      a.expires_at = it->value().to_number<double>();
    }
    snap->app_creds_[r.id] = std::move(a);
  }

  auto implied = st.list_implied_roles();
  if (!implied.ok()) return std::move(implied).error();
  for (auto& [prior, imp] : *implied) snap->implied_[prior].push_back(imp);

  auto groups = st.list(Kind::kGroup, all);
  if (!groups.ok()) return std::move(groups).error();
  for (auto& g : *groups) {
    auto members = st.users_in_group(g.id);
    if (!members.ok()) return std::move(members).error();
    for (auto& u : *members) snap->user_groups_[u].push_back(g.id);
  }
  auto assignments = st.list_assignments({});
  if (!assignments.ok()) return std::move(assignments).error();
  for (auto& a : *assignments) snap->by_actor_[a.actor_id].push_back(a);

  auto revs = st.list_revocations(0);
  if (!revs.ok()) return std::move(revs).error();
  snap->revocations_ = std::move(revs).value();

  // Catalog: services with their enabled endpoints, as tokens carry it.
  auto services = st.list(Kind::kService, all);
  if (!services.ok()) return std::move(services).error();
  auto endpoints = st.list(Kind::kEndpoint, all);
  if (!endpoints.ok()) return std::move(endpoints).error();
  for (auto& s : *services) {
    auto sd = parse_doc(s.doc);
    if (!doc_bool(sd, "enabled", true)) continue;
    json::array eps;
    for (auto& e : *endpoints) {
      if (e.parent_id != s.id) continue;
      auto ed = parse_doc(e.doc);
      if (!doc_bool(ed, "enabled", true)) continue;
      json::object ep;
      ep["id"] = e.id;
      ep["interface"] = doc_string(ed, "interface");
      std::string region = doc_string(ed, "region_id");
      ep["region_id"] = region.empty() ? json::value(nullptr) : json::value(region);
      ep["region"] = region.empty() ? json::value(nullptr) : json::value(region);
      ep["url"] = doc_string(ed, "url");
      eps.push_back(std::move(ep));
    }
    json::object entry;
    entry["endpoints"] = std::move(eps);
    entry["id"] = s.id;
    entry["type"] = doc_string(sd, "type");
    entry["name"] = doc_string(sd, "name");
    snap->catalog_.push_back(std::move(entry));
  }
  for (auto& s : *services)
    snap->services_by_type_[doc_string(parse_doc(s.doc), "type")].push_back(s.id);

  // Unified limits (api/limit_routes.cc writes them): parent_id the
  // service, scope the region, name the resource; owner_id a limit's project.
  auto number = [](const json::object& d, const char* key) -> int64_t {
    auto it = d.find(key);
    return it != d.end() && it->value().is_int64() ? it->value().as_int64() : 0;
  };
  auto registered = st.list(Kind::kRegisteredLimit, all);
  if (!registered.ok()) return std::move(registered).error();
  for (auto& r : *registered) {
    snap->registered_limits_[r.parent_id + '\x1f' + r.scope + '\x1f' + r.name] =
        number(parse_doc(r.doc), "default_limit");
  }
  auto limits = st.list(Kind::kLimit, all);
  if (!limits.ok()) return std::move(limits).error();
  for (auto& r : *limits) {
    snap->project_limits_[r.owner_id + '\x1f' + r.parent_id + '\x1f' + r.scope + '\x1f' + r.name] =
        number(parse_doc(r.doc), "resource_limit");
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

std::optional<int64_t> Snapshot::limit(std::string_view service_type, std::string_view region,
                                       std::string_view resource,
                                       std::string_view project_id) const {
  auto services = services_by_type_.find(std::string(service_type));
  if (services == services_by_type_.end()) return std::nullopt;
  for (const std::string& service : services->second) {
    const std::string key = service + '\x1f' + std::string(region) + '\x1f' + std::string(resource);
    auto reg = registered_limits_.find(key);
    if (reg == registered_limits_.end()) continue;
    auto own = project_limits_.find(std::string(project_id) + '\x1f' + key);
    return own != project_limits_.end() ? own->second : reg->second;
  }
  return std::nullopt;
}

const std::vector<std::string>& Snapshot::groups_of(const std::string& user_id) const {
  static const std::vector<std::string> kNone;
  auto it = user_groups_.find(user_id);
  return it == user_groups_.end() ? kNone : it->second;
}

std::vector<std::string> Snapshot::ancestors(const std::string& project_id) const {
  std::vector<std::string> out;
  const ProjectInfo* p = project(project_id);
  while (p != nullptr && !p->parent_id.empty() && out.size() < 64) {
    out.push_back(p->parent_id);
    p = project(p->parent_id);
  }
  return out;
}

std::vector<std::string> Snapshot::children(const std::string& project_id) const {
  std::vector<std::string> out;
  for (const auto& [id, p] : projects_) {
    if (p.parent_id == project_id) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Snapshot::collect(
    const std::string& user_id, store::TargetType type,
    const std::vector<std::string>& direct_targets,
    const std::vector<std::string>& inherited_targets) const {
  std::vector<std::string> actors = groups_of(user_id);
  actors.push_back(user_id);
  std::vector<std::string> out;
  for (const auto& actor : actors) {
    auto it = by_actor_.find(actor);
    if (it == by_actor_.end()) continue;
    for (const auto& a : it->second) {
      bool hit = false;
      if (!a.inherited && a.target_type == type) {
        hit = std::find(direct_targets.begin(), direct_targets.end(), a.target_id) !=
              direct_targets.end();
      } else if (a.inherited && type == store::TargetType::kProject) {
        hit = std::find(inherited_targets.begin(), inherited_targets.end(), a.target_id) !=
              inherited_targets.end();
      }
      if (hit) out.push_back(a.role_id);
    }
  }
  return expand_implied(std::move(out));
}

std::vector<std::string> Snapshot::roles_on_project(const std::string& user_id,
                                                    const std::string& project_id) const {
  const ProjectInfo* p = project(project_id);
  if (p == nullptr) return {};
  // Inherited grants flow down from every ancestor project and the domain.
  std::vector<std::string> inherited = ancestors(project_id);
  inherited.push_back(p->domain_id);
  return collect(user_id, store::TargetType::kProject, {project_id}, inherited);
}

std::vector<std::string> Snapshot::roles_on_domain(const std::string& user_id,
                                                   const std::string& domain_id) const {
  return collect(user_id, store::TargetType::kDomain, {domain_id}, {});
}

std::vector<std::string> Snapshot::roles_on_system(const std::string& user_id) const {
  return collect(user_id, store::TargetType::kSystem, {"system"}, {});
}

std::vector<std::string> Snapshot::expand_implied(std::vector<std::string> role_ids) const {
  // Domain-specific roles are followed through their implications but never
  // appear themselves in a token or an effective assignment (Keystone's
  // behaviour: they only exist to imply global roles).
  std::set<std::string> seen, out;
  std::vector<std::string> stack = std::move(role_ids);
  while (!stack.empty()) {
    std::string r = std::move(stack.back());
    stack.pop_back();
    const RoleInfo* info = role(r);
    if (info == nullptr || !seen.insert(r).second) continue;
    if (info->domain_id.empty()) out.insert(r);
    auto it = implied_.find(r);
    if (it != implied_.end()) stack.insert(stack.end(), it->second.begin(), it->second.end());
  }
  return {out.begin(), out.end()};
}

bool Snapshot::implies(const std::string& from, const std::string& to) const {
  std::set<std::string> seen;
  std::vector<std::string> stack{from};
  while (!stack.empty()) {
    std::string r = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(r).second) continue;
    auto it = implied_.find(r);
    if (it == implied_.end()) continue;
    for (const auto& next : it->second) {
      if (next == to) return true;
      stack.push_back(next);
    }
  }
  return false;
}

const DomainInfo* Snapshot::domain_by_name(const std::string& name) const {
  auto it = domain_names_.find(name);
  return it == domain_names_.end() ? nullptr : domain(it->second);
}

const UserInfo* Snapshot::user_by_name(const std::string& name,
                                       const std::string& domain_id) const {
  auto it = user_names_.find(domain_id + '\x1f' + name);
  return it == user_names_.end() ? nullptr : user(it->second);
}

const ProjectInfo* Snapshot::project_by_name(const std::string& name,
                                             const std::string& domain_id) const {
  auto it = project_names_.find(domain_id + '\x1f' + name);
  return it == project_names_.end() ? nullptr : project(it->second);
}

std::vector<const ProjectInfo*> Snapshot::projects_of_user(const std::string& user_id) const {
  std::vector<const ProjectInfo*> out;
  for (const auto& [id, p] : projects_) {
    if (!roles_on_project(user_id, id).empty()) out.push_back(&p);
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->id < b->id; });
  return out;
}

std::vector<const DomainInfo*> Snapshot::domains_of_user(const std::string& user_id) const {
  std::vector<const DomainInfo*> out;
  for (const auto& [id, d] : domains_) {
    if (!roles_on_domain(user_id, id).empty()) out.push_back(&d);
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->id < b->id; });
  return out;
}

Status SnapshotCache::refresh() {
  std::lock_guard lock(refresh_mu_);
  // Read first: a write that lands while the snapshot loads moves the
  // generation past this one, so the next check reloads again.
  auto generation = store_.generation();
  if (!generation.ok()) return std::move(generation).error();
  auto snap = Snapshot::load(store_);
  if (!snap.ok()) return std::move(snap).error();
  current_.store(std::move(snap).value());
  built_generation_.store(*generation);
  return ok_status();
}

}  // namespace onestack::identity
