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

}  // namespace

void register_version_routes(http::Router& r, Env& env) {
  add_route(r, env, bh::verb::get, "/", list_versions);
  add_route(r, env, bh::verb::get, "/v3", show_v3);
}

void build_router(http::Router& r, Env& env) {
  register_version_routes(r, env);
  register_auth_routes(r, env);
  register_resource_routes(r, env);
  register_user_routes(r, env);
  register_role_routes(r, env);
  register_catalog_routes(r, env);
  register_credential_routes(r, env);
  register_extension_routes(r, env);
  register_ec2_routes(r, env);
}

}  // namespace onestack::identity::api
