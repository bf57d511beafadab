// Keystone resources declared on the resource kit (src/resource): each is a
// declaration and its table; the routes, validation, list filters and JSON
// come from the kit, in Keystone's words (keystone_style below). Stored
// policies, endpoint groups and OAuth1 consumers so far; regions, services
// and endpoints (which the token catalog reads) follow.
#include <boost/json.hpp>

#include "core/ids.h"
#include "identity/api/common.h"
#include "identity/api/routes.h"
#include "resource/routes.h"

namespace onestack::identity::api {

using resource::Attr;
using resource::Def;
using resource::IdKind;
using resource::kCreate;
using resource::kFilter;
using resource::kRequired;
using resource::kUpdate;
using resource::kVisible;
using resource::Type;

namespace {

constexpr uint32_t kRw = kCreate | kUpdate | kVisible;
constexpr uint32_t kMaxText = 65535;

// A stored policy: an opaque blob of a given type that Keystone keeps for
// other services (keystone/policy/schema.py: blob and type required on
// create, other properties allowed; list filter `type`).
constexpr Attr kPolicyAttrs[] = {
    {"blob", Type::kString, kRw | kRequired, kMaxText},
    {"type", Type::kString, kRw | kRequired | kFilter, 255},
};
constexpr Def kPolicies{
    "policy",       "policies",           "identity_policies",     kPolicyAttrs,
    /*tags=*/false, /*extra_attrs=*/true, /*show_standard=*/false, IdKind::kHex};

// An endpoint group (OS-EP-FILTER): a name and the filters that pick
// endpoints. Stored and shown as Keystone does; onestack's catalog is not
// filtered by them (the project associations that would apply them are not
// offered). keystone/catalog/schema.py: name and filters required.
constexpr Attr kEndpointGroupAttrs[] = {
    {"name", Type::kString, kRw | kRequired | kFilter, 255},
    {"description", Type::kString, kRw, kMaxText},
    {"filters", Type::kJson, kRw | kRequired},
};
constexpr Def kEndpointGroups{"endpoint_group",
                              "endpoint_groups",
                              "identity_endpoint_groups",
                              kEndpointGroupAttrs,
                              /*tags=*/false,
                              /*extra_attrs=*/true,
                              /*show_standard=*/false,
                              IdKind::kHex,
                              /*title=*/"Endpoint Group"};

// A name of at least one character, and filters that name only what
// Keystone filters endpoints by (keystone/catalog/core.py).
Status check_endpoint_group(const json::object& g) {
  if (const json::value* name = g.if_contains("name");
      name != nullptr && name->is_string() && name->as_string().empty()) {
    return invalid_field("name", "'' is too short");
  }
  const json::value* filters = g.if_contains("filters");
  if (filters == nullptr) return ok_status();
  if (!filters->is_object()) return invalid_field("filters", "must be an object");
  for (const auto& kv : filters->as_object()) {
    std::string_view key = kv.key();
    if (key != "interface" && key != "service_id" && key != "region_id") {
      return bad_request(
          "Expecting to find interface or service_id or region_id in endpoint_group. The server "
          "could not comply with the request since it is either malformed or otherwise "
          "incorrect. The client is assumed to be in error.");
    }
  }
  return ok_status();
}

// An OAuth1 consumer: a description and a secret generated on create and
// shown only then (keystone/oauth1/core.py). onestack does not run the
// OAuth1 token flows, so consumers are registrations only. The secret is
// kept as an undeclared attribute, never shown after the create.
constexpr Attr kConsumerAttrs[] = {
    {"description", Type::kString, kRw | kFilter, kMaxText},
};
constexpr Def kConsumers{
    "consumer",     "consumers",          "identity_consumers",    kConsumerAttrs,
    /*tags=*/false, /*extra_attrs=*/true, /*show_standard=*/false, IdKind::kHex};

// Keystone's dialect: rules "identity:<verb>_<member>" and
// "identity:list_<collection>" for a whole list, its error document, lists
// as {"<collection>": [...], "links": {"self", "previous", "next"}}, each
// entity with links.self, updates by PATCH with at least one property.
resource::ApiStyle keystone_style(const Env& env) {
  resource::ApiStyle st;
  st.rule = [](const Def& def, std::string_view verb) {
    return "identity:" + std::string(verb) + "_" + std::string(def.member);
  };
  st.list_rule = [](const Def& def) { return "identity:list_" + std::string(def.collection); };
  st.error = error_response;
  st.page = [&env](const Def& def, json::array items, const std::string&, const Request& req,
                   const std::string&) {
    json::object body;
    body[def.collection] = std::move(items);
    body["links"] = collection_links(env, req);
    return body;
  };
  // Keystone pages nothing unless [DEFAULT] list_limit says so, and ignores
  // query parameters it does not filter by.
  st.list.max_limit = 0;
  st.list.strict = false;
  st.update_method = http::beast_http::verb::patch;
  st.update_needs_change = true;
  st.not_found = [](const Def& def, std::string_view id) {
    const std::string_view title = def.title.empty() ? def.member : def.title;
    return "Could not find " + std::string(title) + ": " + std::string(id) + ".";
  };
  st.decorate = [](const Def&, json::object& shown, const std::string& url) {
    json::object links;
    links["self"] = url;
    shown["links"] = std::move(links);
  };
  return st;
}

}  // namespace

struct DeclaredResources {
  resource::Env env;
  resource::ApiStyle style;
  resource::Api policies;
  resource::Api endpoint_groups;
  resource::Api consumers;
};

void register_declared_routes(http::Router& r, Env& env) {
  if (env.db == nullptr) return;  // no database handed over: the routes stay unserved
  env.declared = std::make_shared<DeclaredResources>(
      DeclaredResources{resource::Env{*env.db, env.pool, env.svc.policy(), env.svc.clock(),
                                      env.svc.settings().public_url},
                        keystone_style(env), resource::Api{}, resource::Api{}, resource::Api{}});
  DeclaredResources& d = *env.declared;
  d.policies.def = &kPolicies;
  d.policies.path = "/v3/policies";
  d.policies.project_owned = false;
  resource::register_crud(r, d.env, d.policies, d.style);

  d.endpoint_groups.def = &kEndpointGroups;
  d.endpoint_groups.path = "/v3/OS-EP-FILTER/endpoint_groups";
  d.endpoint_groups.project_owned = false;
  d.endpoint_groups.hooks.before_create = [](resource::Tx&, const auth::AuthContext&,
                                             json::object& attrs) {
    return check_endpoint_group(attrs);
  };
  d.endpoint_groups.hooks.before_update = [](resource::Tx&, const json::object&,
                                             json::object& changes) {
    return check_endpoint_group(changes);
  };
  resource::register_crud(r, d.env, d.endpoint_groups, d.style);

  d.consumers.def = &kConsumers;
  d.consumers.path = "/v3/OS-OAUTH1/consumers";
  d.consumers.project_owned = false;
  d.consumers.hooks.before_create = [](resource::Tx&, const auth::AuthContext&,
                                       json::object& attrs) {
    attrs["secret"] = new_hex_id();
    return ok_status();
  };
  d.consumers.hooks.before_update = [](resource::Tx&, const json::object&,
                                       json::object& changes) -> Status {
    if (changes.contains("secret")) {
      return invalid_field("consumer", "the secret cannot be updated");
    }
    return ok_status();
  };
  d.consumers.hooks.show = [](const json::object& item, json::object& shown, bool created) {
    shown.erase("secret");
    if (created) shown["secret"] = item.at("secret");
  };
  resource::register_crud(r, d.env, d.consumers, d.style);
}

}  // namespace onestack::identity::api
