// Version discovery: GET / answers 300 Multiple Choices listing v3, and
// GET /v3 describes it, with the identity media type (Keystone's
// keystone/api/discovery.py behaviour).
#include "identity/api/routes.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;

namespace {

json::object v3_version(const Env& env) {
  json::object v;
  v["id"] = "v3.14";
  v["status"] = "stable";
  v["updated"] = "2020-04-07T00:00:00Z";
  json::object self;
  self["rel"] = "self";
  self["href"] = env.svc.settings().public_url + "/v3/";
  v["links"] = json::array{self};
  json::object media;
  media["base"] = "application/json";
  media["type"] = "application/vnd.openstack.identity-v3+json";
  v["media-types"] = json::array{media};
  return v;
}

awaitable<Response> list_versions(Env& env, Request&) {
  json::object body;
  json::object versions;
  versions["values"] = json::array{v3_version(env)};
  body["versions"] = std::move(versions);
  Response r = json_response(bh::status::multiple_choices, body);
  r.headers.set(bh::field::location, env.svc.settings().public_url + "/v3/");
  co_return r;
}

awaitable<Response> show_v3(Env& env, Request&) {
  json::object body;
  body["version"] = v3_version(env);
  co_return json_response(bh::status::ok, body);
}

// Keystone API families onestack does not serve yet. They answer 501
// naming the feature rather than a misleading 404.
struct Missing {
  const char* prefix;
  const char* feature;
};
constexpr Missing kMissing[] = {
    {"/v3/OS-TRUST", "Trusts (OS-TRUST)"},
    {"/v3/OS-FEDERATION", "Federation (OS-FEDERATION)"},
    {"/v3/auth/OS-FEDERATION", "Federated authentication (OS-FEDERATION)"},
    {"/v3/OS-REVOKE", "The revocation event list (OS-REVOKE)"},
    {"/v3/OS-SIMPLE-CERT", "PKI certificates (OS-SIMPLE-CERT)"},
};

awaitable<Response> not_implemented(Env&, Request& req) {
  for (const auto& m : kMissing) {
    if (req.path.rfind(m.prefix, 0) == 0) {
      co_return error_response(
          make_error(ErrorCode::kNotImplemented, std::string(m.feature) + " is not implemented."));
    }
  }
  co_return error_response(make_error(ErrorCode::kNotImplemented, "Not implemented."));
}

}  // namespace

void register_version_routes(http::Router& r, Env& env) {
  add_route(r, env, bh::verb::get, "/", list_versions);
  add_route(r, env, bh::verb::get, "/v3", show_v3);
}

void register_unimplemented_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  for (const auto& m : kMissing) {
    for (V v : {V::get, V::head, V::post, V::put, V::patch, V::delete_}) {
      add_route(r, env, v, m.prefix, not_implemented);
      add_route(r, env, v, std::string(m.prefix) + "/{rest+}", not_implemented);
    }
  }
}

void build_router(http::Router& r, Env& env) {
  register_version_routes(r, env);
  register_auth_routes(r, env);
  register_resource_routes(r, env);
  register_user_routes(r, env);
  register_role_routes(r, env);
  register_catalog_routes(r, env);
  register_credential_routes(r, env);
  register_unimplemented_routes(r, env);
  register_declared_routes(r, env);
  register_extension_routes(r, env);
  register_ec2_routes(r, env);
  register_limit_routes(r, env);
}

}  // namespace onestack::identity::api
