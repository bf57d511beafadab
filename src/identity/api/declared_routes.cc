// Keystone resources declared on the resource kit (src/resource): each is a
// declaration and its table; the routes, validation, list filters and JSON
// come from the kit, in Keystone's words (KeystoneStyle below). Stored
// policies (/v3/policies) are the first; the other table-driven resources
// follow them here.
#include <boost/json.hpp>

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
    return "Could not find " + std::string(def.member) + ": " + std::string(id) + ".";
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
};

void register_declared_routes(http::Router& r, Env& env) {
  if (env.db == nullptr) return;  // no database handed over: the routes stay unserved
  env.declared = std::make_shared<DeclaredResources>(
      DeclaredResources{resource::Env{*env.db, env.pool, env.svc.policy(), env.svc.clock(),
                                      env.svc.settings().public_url},
                        keystone_style(env), resource::Api{}});
  resource::Api& policies = env.declared->policies;
  policies.def = &kPolicies;
  policies.path = "/v3/policies";
  policies.project_owned = false;
  resource::register_crud(r, env.declared->env, policies, env.declared->style);
}

}  // namespace onestack::identity::api
