// Shared pieces of the Keystone v3 HTTP adapter: the error body, JSON
// responses, the caller's context, the policy check, request bodies, links
// and filters. Handlers are plain coroutines `(Env&, Request&) -> Response`
// that validate, authorise, hand blocking work to the pool, and render.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "core/http/request.h"
#include "core/http/response.h"
#include "core/http/router.h"
#include "core/json.h"
#include "core/worker_pool.h"
#include "identity/service/identity_service.h"
#include "store/sql/db.h"

namespace onestack::identity::api {

namespace json = boost::json;
using boost::asio::awaitable;
using http::Request;
using http::Response;
using beast_http = boost::beast::http::status;

struct DeclaredResources;  // declared_routes.cc

struct Env {
  IdentityService& svc;
  WorkerPool& pool;
  // The identity database, for the resources declared on the resource kit
  // (declared_routes.cc); the same one the identity store uses.
  store::sql::Db* db = nullptr;
  // What build_router() makes for those routes; lives as long as the Env.
  std::shared_ptr<DeclaredResources> declared = nullptr;
};

using RouteFn = awaitable<Response> (*)(Env&, Request&);

// Registers `fn` for (method, pattern) on `router`, bound to `env`.
void add_route(http::Router& router, Env& env, boost::beast::http::verb method, std::string pattern,
               RouteFn fn);

// The one place ErrorCode becomes HTTP for Keystone:
// {"error": {"code": N, "title": "...", "message": "..."}}.
Response error_response(const Error& e);
Response json_response(boost::beast::http::status status, const json::value& body);

// Keystone's 400 wordings: a plain message, "Invalid input for field 'f':
// why.", and ValidationError's "Expecting to find attr in target. ...".
Error bad_request(std::string message);
Error invalid_field(std::string_view field, std::string_view why);
Error expecting(std::string_view attr, std::string_view target);

// The caller's context, or kUnauthenticated when no valid token came.
Result<const auth::AuthContext*> caller(const Request& req);
// kForbidden unless `rule` allows the caller on `target`.
Status authorize(Env& env, const auth::AuthContext& who, std::string_view rule,
                 const policy::Target& target);

// Parses the body and returns the object under `key` ({"project": {...}}).
// kInvalidArgument if the body is not JSON or `key` is missing/not an object.
Result<json::object> body_entity(const Request& req, std::string_view key);

// Stored document of a record as a JSON object (an empty object if corrupt).
json::object record_doc(const store::Record& rec);

// "{public_url}/v3/{path}".
std::string v3_url(const Env& env, std::string_view path);
// {"self": url-of-this-request, "previous": null, "next": null}.
json::object collection_links(const Env& env, const Request& req);
// 200 {"<key>": items, "links": collection_links(...)}: every list answer.
Response collection_response(const Env& env, const Request& req, std::string_view key,
                             json::array items);
// A project from the identity snapshot, rendered as the projects API does.
json::object render_project_info(const Env& env, const ProjectInfo& p);
// Sets entity["links"] = {"self": v3_url(collection/id)}.
void add_self_link(const Env& env, json::object& entity, std::string_view collection);

// True if entity[key] equals the query parameter `key` (when given). Booleans
// compare as Keystone does ("true"/"false"/"1"/"0"; anything else is true).
bool matches_filter(const json::object& entity, const Request& req, std::string_view key);

// Validates an optional string attribute of a request entity: must be a
// string of at most `max` characters. `required` makes absence an error.
Status check_string(const json::object& o, std::string_view key, size_t max, bool required);
// kInvalidArgument ("Cannot change ID", as Keystone's _require_matching_id)
// when an update body names an id other than the path's.
Status check_same_id(const json::object& o, const std::string& id);
// Validates an optional boolean attribute.
Status check_bool(const json::object& o, std::string_view key);

// Returns `rec` with a PATCH body applied: "name" updates the indexed name,
// the server-owned attributes (id, links, domain_id, parent_id, is_domain)
// are ignored, everything else replaces the attribute in the document.
store::Record apply_patch(const store::Record& rec, const json::object& patch);

// Policy target of an entity: "target.<kind>.<attr>" for each string or bool
// attribute of `doc`, plus the path parameters under their names.
void add_target(policy::Target& target, std::string_view kind, const json::object& doc);

// Fetches a record on the pool; kNotFound carries Keystone's message
// ("Could not find project: <id>.").
awaitable<Result<store::Record>> fetch(Env& env, store::Kind kind, const std::string& id);

// Runs the write `f` (a callable returning Status) on the pool and, if it
// succeeded, refreshes the identity snapshot before the caller answers.
//
// Lambdas written inline in a co_await expression must capture by reference
// only: g++ 12 destroys a temporary lambda's by-value captures twice when
// the full expression spans a suspension (a double free). The referenced
// locals live in the coroutine frame, which outlives the await. The same bug
// hits any temporary bound to a reference parameter of an awaited coroutine
// (a string literal passed as `const std::string&`): such parameters are
// std::string_view or by value, and computed arguments are named first.
template <typename F>
awaitable<Status> write(Env& env, F f) {
  co_return co_await env.pool.run([&env, &f]() -> Status {
    Status s = f();
    if (!s.ok()) return s;
    return env.svc.refresh();
  });
}

// Shorthand: return the error as a response.
#define ONESTACK_API_TRY(expr)                                                    \
  do {                                                                            \
    auto onestack_api_r_ = (expr);                                                \
    if (!onestack_api_r_.ok()) co_return error_response(onestack_api_r_.error()); \
  } while (0)

}  // namespace onestack::identity::api
