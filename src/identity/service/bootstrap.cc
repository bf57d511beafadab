#include "identity/service/bootstrap.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "core/ids.h"
#include "core/json.h"
#include "identity/service/password.h"

namespace onestack::identity {

namespace json = boost::json;
using store::Kind;

namespace {

// Returns the id of the record of `kind` named `name` in `scope`, creating it
// with `doc` (and `id`, if given) when absent.
Result<std::string> ensure(store::IdentityStore& st, Kind kind, const std::string& scope,
                           const std::string& name, const json::object& doc,
                           const std::string& id = "") {
  store::RecordQuery q;
  q.scope = scope;
  q.name = name;
  auto found = st.list(kind, q);
  if (!found.ok()) return std::move(found).error();
  if (!found->empty()) return found->front().id;
  store::Record rec;
  rec.id = id.empty() ? new_hex_id() : id;
  rec.scope = scope;
  rec.name = name;
  rec.doc = json::serialize(doc);
  ONESTACK_TRY(st.create(kind, rec));
  spdlog::info("bootstrap: created {} {} ({})", store::kind_name(kind), name, rec.id);
  return rec.id;
}

Status grant(store::IdentityStore& st, store::TargetType type, const std::string& target,
             const std::string& user, const std::string& role) {
  store::Assignment a;
  a.actor_type = store::ActorType::kUser;
  a.actor_id = user;
  a.target_type = type;
  a.target_id = target;
  a.role_id = role;
  return st.add_assignment(a);
}

}  // namespace

Status bootstrap(store::IdentityStore& st, const BootstrapOptions& o) {
  if (o.password.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "a bootstrap password is required");
  }
  json::object enabled{{"enabled", true}};

  json::object domain{{"enabled", true}, {"description", "The default domain"}};
  auto domain_id = ensure(st, Kind::kDomain, "", "Default", domain, "default");
  if (!domain_id.ok()) return std::move(domain_id).error();

  json::object project{{"enabled", true},
                       {"description", "Bootstrap project for initializing the cloud."},
                       {"tags", json::array()}};
  auto project_id = ensure(st, Kind::kProject, *domain_id, o.project_name, project);
  if (!project_id.ok()) return std::move(project_id).error();

  std::string admin_role, member_role, reader_role;
  for (const std::string& name :
       {o.role_name, std::string("member"), std::string("reader"), std::string("ResellerAdmin")}) {
    auto id = ensure(st, Kind::kRole, "", name, json::object{});
    if (!id.ok()) return std::move(id).error();
    if (name == o.role_name) admin_role = *id;
    if (name == "member") member_role = *id;
    if (name == "reader") reader_role = *id;
  }
  // admin => member => reader, as Keystone's bootstrap sets up.
  for (auto [prior, implied] : {std::pair{admin_role, member_role}, {member_role, reader_role}}) {
    if (prior == implied) continue;
    Status s = st.add_implied_role(prior, implied);
    if (!s.ok() && s.error().code != ErrorCode::kConflict) return s;
  }

  auto hash = hash_password(o.password, o.bcrypt_rounds);
  if (!hash.ok()) return std::move(hash).error();
  store::RecordQuery uq;
  uq.scope = *domain_id;
  uq.name = o.username;
  auto users = st.list(Kind::kUser, uq);
  if (!users.ok()) return std::move(users).error();
  std::string user_id;
  json::object user{{"enabled", true},
                    {"password_hash", *hash},
                    {"options", json::object()},
                    {"password_expires_at", nullptr}};
  if (users->empty()) {
    store::Record rec;
    rec.id = new_hex_id();
    rec.scope = *domain_id;
    rec.name = o.username;
    rec.doc = json::serialize(user);
    ONESTACK_TRY(st.create(Kind::kUser, rec));
    user_id = rec.id;
    spdlog::info("bootstrap: created user {} ({})", o.username, user_id);
  } else {
    store::Record rec = users->front();
    auto doc = parse_json(rec.doc);
    json::object d = doc.ok() && doc->is_object() ? doc->as_object() : json::object{};
    d["enabled"] = true;
    d["password_hash"] = *hash;
    rec.doc = json::serialize(d);
    ONESTACK_TRY(st.update(Kind::kUser, rec));
    user_id = rec.id;
    spdlog::info("bootstrap: user {} exists; password reset and enabled", o.username);
  }
  ONESTACK_TRY(grant(st, store::TargetType::kProject, *project_id, user_id, admin_role));
  ONESTACK_TRY(grant(st, store::TargetType::kSystem, "system", user_id, admin_role));

  if (!o.region_id.empty()) {
    auto region = st.get(Kind::kRegion, o.region_id);
    if (!region.ok()) {
      if (region.error().code != ErrorCode::kNotFound) return std::move(region).error();
      store::Record rec;
      rec.id = o.region_id;
      rec.doc = json::serialize(json::object{{"description", ""}, {"parent_region_id", nullptr}});
      ONESTACK_TRY(st.create(Kind::kRegion, rec));
    }
  }
  auto services = st.list(Kind::kService, {});
  if (!services.ok()) return std::move(services).error();
  auto endpoints = st.list(Kind::kEndpoint, {});
  if (!endpoints.ok()) return std::move(endpoints).error();
  for (const auto& svc : o.services) {
    std::string service_id;
    for (const auto& r : *services) {
      auto d = parse_json(r.doc);
      if (d.ok() && d->is_object() && d->as_object().contains("type") &&
          d->as_object().at("type") == json::value(svc.type)) {
        service_id = r.id;
      }
    }
    if (service_id.empty()) {
      store::Record rec;
      rec.id = new_hex_id();
      rec.name = svc.name;
      rec.doc =
          json::serialize(json::object{{"type", svc.type}, {"name", svc.name}, {"enabled", true}});
      ONESTACK_TRY(st.create(Kind::kService, rec));
      service_id = rec.id;
      spdlog::info("bootstrap: created service {} ({})", svc.type, service_id);
    }
    for (auto [iface, url] : {std::pair{"public", svc.public_url},
                              {"internal", svc.internal_url},
                              {"admin", svc.admin_url}}) {
      if (url.empty()) continue;
      store::Record* existing = nullptr;
      for (auto& e : *endpoints) {
        auto d = parse_json(e.doc);
        if (e.parent_id == service_id && d.ok() && d->is_object() &&
            d->as_object().contains("interface") &&
            d->as_object().at("interface") == json::value(iface)) {
          existing = &e;
        }
      }
      json::object doc{
          {"interface", iface},
          {"url", url},
          {"enabled", true},
          {"service_id", service_id},
          {"region_id", o.region_id.empty() ? json::value(nullptr) : json::value(o.region_id)}};
      if (existing != nullptr) {
        existing->doc = json::serialize(doc);
        ONESTACK_TRY(st.update(Kind::kEndpoint, *existing));
        continue;
      }
      store::Record rec;
      rec.id = new_hex_id();
      rec.parent_id = service_id;
      rec.doc = json::serialize(doc);
      ONESTACK_TRY(st.create(Kind::kEndpoint, rec));
    }
  }
  return ok_status();
}

}  // namespace onestack::identity
