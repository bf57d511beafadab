// Keystone's smaller v3 APIs: domain-specific configuration
// (/v3/domains/{domain_id}/config and the defaults under
// /v3/domains/config), and the 501s of the OS-EP-FILTER project
// associations and the OAuth1 token flows (endpoint groups and consumers
// themselves are declared resources: declared_routes.cc).
//
// Work handed to the pool captures by reference only, and co_await
// expressions name locals rather than build temporaries: the awaiting
// coroutine's frame outlives them, and g++ 12 destroys non-trivial
// temporaries of a co_await expression twice.
#include <algorithm>
#include <array>

#include "core/ids.h"
#include "identity/api/routes.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

// --- helpers ---------------------------------------------------------------

Error not_implemented(std::string_view what) {
  return make_error(ErrorCode::kNotImplemented, std::string(what));
}

awaitable<Response> ep_filter_not_implemented(Env&, Request&) {
  co_return error_response(not_implemented(
      "Associating endpoints and endpoint groups with projects (OS-EP-FILTER) is not "
      "implemented; only endpoint groups themselves are."));
}

awaitable<Response> oauth1_not_implemented(Env&, Request&) {
  co_return error_response(not_implemented(
      "OAuth1 request tokens, authorization and access tokens are not implemented; only "
      "consumers (/v3/OS-OAUTH1/consumers) are."));
}

// --- domain configuration ------------------------------------------------------
// Keystone lets a domain override a fixed set of [identity] and [ldap]
// options for a domain-specific identity driver. onestack has no LDAP driver,
// so the configuration changes nothing it does: reading and writing it is what
// the API offers. Each domain's configuration is one record (id = domain id)
// whose document is {"group": {"option": value}}.

struct ConfigOption {
  const char* group;
  const char* option;
  const char* default_json;  // Keystone's default, as JSON
};

// The options Keystone allows per domain, with Keystone's defaults, in its order.
constexpr ConfigOption kConfigOptions[] = {
    {"identity", "driver", "\"sql\""},
    {"identity", "list_limit", "null"},
    {"ldap", "url", "\"ldap://localhost\""},
    {"ldap", "user", "null"},
    {"ldap", "suffix", "\"cn=example,cn=com\""},
    {"ldap", "query_scope", "\"one\""},
    {"ldap", "page_size", "0"},
    {"ldap", "alias_dereferencing", "\"default\""},
    {"ldap", "debug_level", "null"},
    {"ldap", "chase_referrals", "null"},
    {"ldap", "user_tree_dn", "null"},
    {"ldap", "user_filter", "null"},
    {"ldap", "user_objectclass", "\"inetOrgPerson\""},
    {"ldap", "user_id_attribute", "\"cn\""},
    {"ldap", "user_name_attribute", "\"sn\""},
    {"ldap", "user_mail_attribute", "\"mail\""},
    {"ldap", "user_description_attribute", "\"description\""},
    {"ldap", "user_pass_attribute", "\"userPassword\""},
    {"ldap", "user_enabled_attribute", "\"enabled\""},
    {"ldap", "user_enabled_invert", "false"},
    {"ldap", "user_enabled_mask", "0"},
    {"ldap", "user_enabled_default", "\"True\""},
    {"ldap", "user_attribute_ignore", "[\"default_project_id\"]"},
    {"ldap", "user_default_project_id_attribute", "null"},
    {"ldap", "user_enabled_emulation", "false"},
    {"ldap", "user_enabled_emulation_dn", "null"},
    {"ldap", "user_enabled_emulation_use_group_config", "false"},
    {"ldap", "user_additional_attribute_mapping", "[]"},
    {"ldap", "group_tree_dn", "null"},
    {"ldap", "group_filter", "null"},
    {"ldap", "group_objectclass", "\"groupOfNames\""},
    {"ldap", "group_id_attribute", "\"cn\""},
    {"ldap", "group_name_attribute", "\"ou\""},
    {"ldap", "group_members_are_ids", "false"},
    {"ldap", "group_member_attribute", "\"member\""},
    {"ldap", "group_desc_attribute", "\"description\""},
    {"ldap", "group_attribute_ignore", "[]"},
    {"ldap", "group_additional_attribute_mapping", "[]"},
    {"ldap", "tls_cacertfile", "null"},
    {"ldap", "tls_cacertdir", "null"},
    {"ldap", "use_tls", "false"},
    {"ldap", "tls_req_cert", "\"demand\""},
    {"ldap", "use_pool", "true"},
    {"ldap", "pool_size", "10"},
    {"ldap", "pool_retry_max", "3"},
    {"ldap", "pool_retry_delay", "0.1"},
    {"ldap", "pool_connection_timeout", "-1"},
    {"ldap", "pool_connection_lifetime", "600"},
    {"ldap", "use_auth_pool", "true"},
    {"ldap", "auth_pool_size", "100"},
    {"ldap", "auth_pool_connection_lifetime", "60"},
};

// Options that may be set but are never shown.
bool is_sensitive(std::string_view group, std::string_view option) {
  return group == "ldap" && option == "password";
}

bool is_whitelisted(std::string_view group, std::string_view option) {
  return std::any_of(std::begin(kConfigOptions), std::end(kConfigOptions),
                     [&](const ConfigOption& o) { return o.group == group && o.option == option; });
}

Error invalid_config(const std::string& reason) {
  return make_error(ErrorCode::kForbidden,
                    "Invalid domain specific configuration: " + reason + ".");
}

Error config_not_found(const std::string& domain_id, const std::string& what) {
  return make_error(
      ErrorCode::kNotFound,
      "Could not find " + what + " in domain configuration for domain " + domain_id + ".");
}

std::string what_of(const std::string& group, const std::string& option) {
  if (!option.empty()) return "option " + option + " in group " + group;
  if (!group.empty()) return "group " + group;
  return "any options";
}

Status check_group_option(const std::string& group, const std::string& option) {
  if (group.empty()) return ok_status();
  if (group != "identity" && group != "ldap") {
    return invalid_config("Group " + group +
                          " is not supported for domain specific "
                          "configurations");
  }
  if (!option.empty() && !is_whitelisted(group, option) && !is_sensitive(group, option)) {
    return invalid_config("Option " + option + " in group " + group +
                          " is not supported for domain specific configurations");
  }
  return ok_status();
}

Status check_config(const json::object& config) {
  if (config.empty()) return invalid_config("No options specified");
  for (const auto& g : config) {
    std::string group(g.key());
    if (!g.value().is_object() || g.value().as_object().empty()) {
      return invalid_config("The value of group " + group +
                            " specified in the config should be a dictionary of options");
    }
    ONESTACK_TRY(check_group_option(group, ""));
    for (const auto& o : g.value().as_object()) {
      ONESTACK_TRY(check_group_option(group, std::string(o.key())));
    }
  }
  return ok_status();
}

// The visible part of a stored configuration, narrowed to `group`/`option`:
// {"group": {...}} or, for one option, {"option": value}.
json::object visible_config(const json::object& stored, const std::string& group,
                            const std::string& option) {
  json::object out;
  for (const auto& g : stored) {
    if (!group.empty() && g.key() != group) continue;
    if (!g.value().is_object()) continue;
    json::object opts;
    for (const auto& o : g.value().as_object()) {
      if (!option.empty() && o.key() != option) continue;
      if (is_sensitive(g.key(), o.key())) continue;
      if (!option.empty()) return json::object{{o.key(), o.value()}};
      opts[o.key()] = o.value();
    }
    if (!opts.empty()) out[g.key()] = std::move(opts);
  }
  return out;
}

// Reads a domain's stored configuration ({} when it has none).
Result<json::object> read_config(store::IdentityStore& st, const std::string& domain_id) {
  auto rec = st.get(Kind::kDomainConfig, domain_id);
  if (!rec.ok()) {
    if (rec.error().code == ErrorCode::kNotFound) return json::object();
    return std::move(rec).error();
  }
  return record_doc(*rec);
}

Status write_config(store::IdentityStore& st, const std::string& domain_id,
                    const json::object& config) {
  store::Record rec;
  rec.id = domain_id;
  rec.doc = json::serialize(config);
  if (config.empty()) {
    Status s = st.remove(Kind::kDomainConfig, domain_id);
    return s.ok() || s.error().code == ErrorCode::kNotFound ? ok_status() : s;
  }
  Status s = st.update(Kind::kDomainConfig, rec);
  if (!s.ok() && s.error().code == ErrorCode::kNotFound) return st.create(Kind::kDomainConfig, rec);
  return s;
}

// The path's group and option ("" when the route has none).
std::string path_group(const Request& req) {
  return req.path_params.size() > 1 ? req.param(1) : std::string();
}
std::string path_option(const Request& req) {
  return req.path_params.size() > 2 ? req.param(2) : std::string();
}

// Authorizes `rule`, then checks the domain in the path exists (after the
// policy, so callers who may not ask learn nothing about domains).
awaitable<Status> authorized_domain(Env& env, Request& req, std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  Status allowed = authorize(env, **who, rule, {});
  if (!allowed.ok()) co_return allowed;
  auto domain = co_await fetch(env, Kind::kDomain, req.param(0));
  if (!domain.ok()) co_return std::move(domain).error();
  co_return ok_status();
}

awaitable<Response> put_domain_config(Env& env, Request& req) {
  ONESTACK_API_TRY(co_await authorized_domain(env, req, "identity:create_domain_config"));
  auto body = body_entity(req, "config");
  ONESTACK_API_TRY(body);
  json::object config = std::move(body).value();
  ONESTACK_API_TRY(check_config(config));
  const std::string& domain_id = req.param(0);
  bool existed = false;
  ONESTACK_API_TRY(co_await env.pool.run([&env, &domain_id, &config, &existed]() -> Status {
    auto& st = env.svc.store();
    auto old = read_config(st, domain_id);
    if (!old.ok()) return std::move(old).error();
    existed = !old->empty();
    return write_config(st, domain_id, config);
  }));
  json::object out;
  out["config"] = visible_config(config, "", "");
  co_return json_response(existed ? bh::status::ok : bh::status::created, out);
}

awaitable<Response> get_domain_config(Env& env, Request& req) {
  ONESTACK_API_TRY(co_await authorized_domain(env, req, "identity:get_domain_config"));
  std::string group = path_group(req);
  std::string option = path_option(req);
  ONESTACK_API_TRY(check_group_option(group, option));
  const std::string& domain_id = req.param(0);
  auto stored =
      co_await env.pool.run([&env, &domain_id] { return read_config(env.svc.store(), domain_id); });
  ONESTACK_API_TRY(stored);
  json::object config = visible_config(*stored, group, option);
  if (config.empty()) co_return error_response(config_not_found(domain_id, what_of(group, option)));
  json::object out;
  out["config"] = std::move(config);
  co_return json_response(bh::status::ok, out);
}

// Checks a partial update names exactly the group (and option) of its path.
Status check_partial_update(const json::object& update, const std::string& group,
                            const std::string& option) {
  if (group.empty()) return ok_status();
  const json::value* g = update.if_contains(group);
  bool one_group = update.size() == 1;
  bool one_option = g != nullptr && g->is_object() && g->as_object().size() == 1;
  if (!one_group || (!option.empty() && !one_option)) {
    if (!option.empty()) {
      return invalid_config("Trying to update option " + option + " in group " + group +
                            ", so that, and only that, option must be specified  in the config");
    }
    return invalid_config("Trying to update group " + group +
                          ", so that, and only that, group must be specified in the config");
  }
  if (g == nullptr) {
    return invalid_config("request to update group " + group +
                          ", but config provided contains group " +
                          std::string(update.begin()->key()) + " instead");
  }
  if (!option.empty() && !g->as_object().contains(option)) {
    return invalid_config("Trying to update option " + option + " in group " + group +
                          ", but config provided contains option " +
                          std::string(g->as_object().begin()->key()) + " instead");
  }
  return ok_status();
}

bool has_entry(const json::object& stored, const std::string& group, const std::string& option) {
  const json::value* g = stored.if_contains(group);
  if (g == nullptr || !g->is_object() || g->as_object().empty()) return false;
  return option.empty() || g->as_object().contains(option);
}

awaitable<Response> patch_domain_config(Env& env, Request& req) {
  ONESTACK_API_TRY(co_await authorized_domain(env, req, "identity:update_domain_config"));
  auto body = body_entity(req, "config");
  ONESTACK_API_TRY(body);
  std::string group = path_group(req);
  std::string option = path_option(req);
  // For one option the body is {"option": value}: read it as its group.
  json::object update = std::move(body).value();
  if (!option.empty()) update = json::object{{group, std::move(update)}};
  ONESTACK_API_TRY(check_config(update));
  ONESTACK_API_TRY(check_group_option(group, option));
  ONESTACK_API_TRY(check_partial_update(update, group, option));
  const std::string& domain_id = req.param(0);
  json::object merged;
  ONESTACK_API_TRY(
      co_await env.pool.run([&env, &domain_id, &update, &group, &option, &merged]() -> Status {
        auto& st = env.svc.store();
        auto stored = read_config(st, domain_id);
        if (!stored.ok()) return std::move(stored).error();
        if (!group.empty() && !has_entry(*stored, group, option)) {
          return config_not_found(domain_id, what_of(group, option));
        }
        merged = std::move(stored).value();
        for (const auto& g : update) {
          json::value& slot = merged[g.key()];
          if (!slot.is_object()) slot = json::object();
          for (const auto& o : g.value().as_object()) slot.as_object()[o.key()] = o.value();
        }
        return write_config(st, domain_id, merged);
      }));
  json::object config = visible_config(merged, "", "");
  if (config.empty()) co_return error_response(config_not_found(domain_id, what_of("", "")));
  json::object out;
  out["config"] = std::move(config);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_domain_config(Env& env, Request& req) {
  ONESTACK_API_TRY(co_await authorized_domain(env, req, "identity:delete_domain_config"));
  std::string group = path_group(req);
  std::string option = path_option(req);
  ONESTACK_API_TRY(check_group_option(group, option));
  const std::string& domain_id = req.param(0);
  ONESTACK_API_TRY(co_await env.pool.run([&env, &domain_id, &group, &option]() -> Status {
    auto& st = env.svc.store();
    auto stored = read_config(st, domain_id);
    if (!stored.ok()) return std::move(stored).error();
    json::object config = std::move(stored).value();
    if (group.empty()) return write_config(st, domain_id, {});
    if (!has_entry(config, group, option)) {
      return config_not_found(domain_id, what_of(group, option));
    }
    if (option.empty()) {
      config.erase(group);
    } else {
      json::object& opts = config[group].as_object();
      opts.erase(option);
      if (opts.empty()) config.erase(group);
    }
    return write_config(st, domain_id, config);
  }));
  co_return Response::empty(bh::status::no_content);
}

// GET /v3/domains/config[/{group}[/{option}]]/default: Keystone's defaults
// of the options a domain may override (sensitive ones excluded).
awaitable<Response> get_default_config(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  ONESTACK_API_TRY(authorize(env, **who, "identity:get_domain_config_default", {}));
  std::string group = !req.path_params.empty() ? req.param(0) : std::string();
  std::string option = req.path_params.size() > 1 ? req.param(1) : std::string();
  ONESTACK_API_TRY(check_group_option(group, option));
  if (!option.empty() && !is_whitelisted(group, option)) {
    co_return error_response(invalid_config("Reading the default for option " + option +
                                            " in group " + group + " is not supported"));
  }
  json::object config;
  for (const ConfigOption& o : kConfigOptions) {
    if (!group.empty() && group != o.group) continue;
    if (!option.empty() && option != o.option) continue;
    auto value = parse_json(o.default_json);
    json::value v = value.ok() ? std::move(value).value() : json::value(nullptr);
    if (!option.empty()) {
      config[o.option] = std::move(v);
    } else {
      json::value& slot = config[o.group];
      if (!slot.is_object()) slot = json::object();
      slot.as_object()[o.option] = std::move(v);
    }
  }
  json::object out;
  out["config"] = std::move(config);
  co_return json_response(bh::status::ok, out);
}

}  // namespace

void register_extension_routes(http::Router& r, Env& env) {
  using V = bh::verb;

  for (V v : {V::get, V::put, V::delete_}) {
    add_route(r, env, v, "/v3/OS-EP-FILTER/{rest+}", ep_filter_not_implemented);
  }

  add_route(r, env, V::post, "/v3/OS-OAUTH1/request_token", oauth1_not_implemented);
  add_route(r, env, V::post, "/v3/OS-OAUTH1/access_token", oauth1_not_implemented);
  add_route(r, env, V::put, "/v3/OS-OAUTH1/authorize/{request_token_id}", oauth1_not_implemented);
  for (V v : {V::get, V::delete_}) {
    add_route(r, env, v, "/v3/users/{user_id}/OS-OAUTH1/{rest+}", oauth1_not_implemented);
  }

  // Literal segments before parameters, as build_router() orders routes.
  add_route(r, env, V::get, "/v3/domains/config/default", get_default_config);
  add_route(r, env, V::get, "/v3/domains/config/{group}/default", get_default_config);
  add_route(r, env, V::get, "/v3/domains/config/{group}/{option}/default", get_default_config);
  add_route(r, env, V::put, "/v3/domains/{domain_id}/config", put_domain_config);
  for (const char* p : {"/v3/domains/{domain_id}/config", "/v3/domains/{domain_id}/config/{group}",
                        "/v3/domains/{domain_id}/config/{group}/{option}"}) {
    add_route(r, env, V::get, p, get_domain_config);
    add_route(r, env, V::patch, p, patch_domain_config);
    add_route(r, env, V::delete_, p, delete_domain_config);
  }
}

}  // namespace onestack::identity::api
