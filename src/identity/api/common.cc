#include "identity/api/common.h"

#include <spdlog/spdlog.h>

namespace onestack::identity::api {

namespace bh = boost::beast::http;

namespace {

awaitable<Response> call_route(Env* env, RouteFn fn, Request& req) {
  co_return co_await fn(*env, req);
}

std::pair<bh::status, const char*> status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return {bh::status::not_found, "Not Found"};
    case ErrorCode::kConflict: return {bh::status::conflict, "Conflict"};
    case ErrorCode::kUnauthenticated: return {bh::status::unauthorized, "Unauthorized"};
    case ErrorCode::kForbidden: return {bh::status::forbidden, "Forbidden"};
    case ErrorCode::kInvalidArgument: return {bh::status::bad_request, "Bad Request"};
    case ErrorCode::kPreconditionFailed:
      return {bh::status::precondition_failed, "Precondition Failed"};
    case ErrorCode::kRangeNotSatisfiable:
      return {bh::status::range_not_satisfiable, "Range Not Satisfiable"};
    case ErrorCode::kTooLarge: return {bh::status::payload_too_large, "Request Entity Too Large"};
    case ErrorCode::kInsufficientStorage:
      return {bh::status::insufficient_storage, "Insufficient Storage"};
    case ErrorCode::kUnavailable: return {bh::status::service_unavailable, "Service Unavailable"};
    case ErrorCode::kMethodNotAllowed:
      return {bh::status::method_not_allowed, "Method Not Allowed"};
    case ErrorCode::kNotImplemented: return {bh::status::not_implemented, "Not Implemented"};
    case ErrorCode::kNotAcceptable: return {bh::status::not_acceptable, "Not Acceptable"};
    case ErrorCode::kLengthRequired: return {bh::status::length_required, "Length Required"};
    case ErrorCode::kUnprocessable:
      return {bh::status::unprocessable_entity, "Unprocessable Entity"};
    // Keystone keeps no quotas; a limit passed reads as what it forbids.
    case ErrorCode::kOverQuota: return {bh::status::forbidden, "Forbidden"};
    case ErrorCode::kInternal: break;
  }
  return {bh::status::internal_server_error, "Internal Server Error"};
}

}  // namespace

void add_route(http::Router& router, Env& env, bh::verb method, std::string pattern, RouteFn fn) {
  router.add(method, std::move(pattern),
             [e = &env, fn](Request& req) { return call_route(e, fn, req); });
}

Response error_response(const Error& e) {
  auto [status, title] = status_of(e.code);
  json::object err;
  err["code"] = static_cast<int>(status);
  err["title"] = title;
  // A server-side failure's message names databases, files and system
  // errors: the operator's business, never the client's. Keystone answers
  // these with UnexpectedError's text (keystone/exception.py).
  if (e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable ||
      e.code == ErrorCode::kInsufficientStorage) {
    spdlog::warn("identity: {} {}: {}", static_cast<int>(status), title, e.message);
    err["message"] = "An unexpected error prevented the server from fulfilling your request.";
  } else {
    err["message"] = e.message;
  }
  json::object body;
  body["error"] = std::move(err);
  Response r = Response::json(status, json::serialize(body));
  if (status == bh::status::unauthorized) {
    r.headers.set(bh::field::www_authenticate, "Keystone uri=\"\"");
  }
  return r;
}

Response json_response(bh::status status, const json::value& body) {
  return Response::json(status, json::serialize(body));
}

Error bad_request(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

Error invalid_field(std::string_view field, std::string_view why) {
  return bad_request("Invalid input for field '" + std::string(field) + "': " + std::string(why) +
                     ".");
}

Error expecting(std::string_view attr, std::string_view target) {
  return bad_request("Expecting to find " + std::string(attr) + " in " + std::string(target) +
                     ". The server could not comply with the request since it is either "
                     "malformed or otherwise incorrect. The client is assumed to be in error.");
}

Result<const auth::AuthContext*> caller(const Request& req) {
  if (req.auth) return &*req.auth;
  return make_error(ErrorCode::kUnauthenticated,
                    "The request you have made requires authentication.");
}

Status authorize(Env& env, const auth::AuthContext& who, std::string_view rule,
                 const policy::Target& target) {
  if (env.svc.allowed(rule, who, target)) return ok_status();
  if (!env.svc.policy().has_rule(rule)) {
    spdlog::error("policy rule {} is not defined: denying", rule);
  }
  return make_error(ErrorCode::kForbidden,
                    "You are not authorized to perform the requested "
                    "action: " +
                        std::string(rule) + ".");
}

Result<json::object> body_entity(const Request& req, std::string_view key) {
  auto body = parse_json_object(req.body);
  if (!body.ok()) return std::move(body).error();
  auto it = body->find(key);
  if (it == body->end() || !it->value().is_object()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Invalid input for field '" + std::string(key) +
                          "': the request body must contain an object '" + std::string(key) + "'.");
  }
  return std::move(it->value().as_object());
}

json::object record_doc(const store::Record& rec) {
  auto v = parse_json(rec.doc);
  if (v.ok() && v->is_object()) return std::move(v->as_object());
  return {};
}

std::string v3_url(const Env& env, std::string_view path) {
  return env.svc.settings().public_url + "/v3/" + std::string(path);
}

json::object collection_links(const Env& env, const Request& req) {
  json::object links;
  links["self"] = env.svc.settings().public_url + req.target;
  links["previous"] = nullptr;
  links["next"] = nullptr;
  return links;
}

Response collection_response(const Env& env, const Request& req, std::string_view key,
                             json::array items) {
  json::object body;
  body[key] = std::move(items);
  body["links"] = collection_links(env, req);
  return json_response(bh::status::ok, body);
}

json::object render_project_info(const Env& env, const ProjectInfo& p) {
  json::object o;
  o["id"] = p.id;
  o["name"] = p.name;
  o["domain_id"] = p.domain_id;
  o["enabled"] = p.enabled;
  o["is_domain"] = false;
  o["parent_id"] = p.parent_id.empty() ? p.domain_id : p.parent_id;
  o["description"] = "";
  add_self_link(env, o, "projects");
  return o;
}

void add_self_link(const Env& env, json::object& entity, std::string_view collection) {
  json::object links;
  auto id = entity.find("id");
  std::string sid = id != entity.end() && id->value().is_string()
                        ? std::string(id->value().as_string())
                        : std::string();
  links["self"] = v3_url(env, std::string(collection) + "/" + sid);
  entity["links"] = std::move(links);
}

bool matches_filter(const json::object& entity, const Request& req, std::string_view key) {
  auto want = req.query.get(key);
  if (!want) return true;
  auto it = entity.find(key);
  if (it == entity.end() || it->value().is_null()) return false;
  const json::value& v = it->value();
  if (v.is_bool()) {
    std::string w(*want);
    for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool truth = !(w == "false" || w == "0" || w == "no" || w == "off");
    return v.as_bool() == truth;
  }
  if (v.is_string()) return v.as_string() == *want;
  return json::serialize(v) == *want;
}

Status check_string(const json::object& o, std::string_view key, size_t max, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) {
      return make_error(ErrorCode::kInvalidArgument,
                        "Invalid input for field '" + std::string(key) + "': it is required.");
    }
    return ok_status();
  }
  if (!it->value().is_string()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Invalid input for field '" + std::string(key) + "': must be a string.");
  }
  auto& s = it->value().as_string();
  if (s.size() > max || (required && s.empty())) {
    return make_error(ErrorCode::kInvalidArgument, "Invalid input for field '" + std::string(key) +
                                                       "': length must be 1.." +
                                                       std::to_string(max) + ".");
  }
  return ok_status();
}

Status check_same_id(const json::object& o, const std::string& id) {
  auto it = o.find("id");
  if (it == o.end() || it->value().is_null() || it->value() == json::value(id)) {
    return ok_status();
  }
  return make_error(ErrorCode::kInvalidArgument, "Cannot change ID");
}

store::Record apply_patch(const store::Record& rec, const json::object& patch) {
  store::Record updated = rec;
  json::object d = record_doc(updated);
  for (const auto& kv : patch) {
    std::string_view k = kv.key();
    if (k == "id" || k == "links" || k == "domain_id" || k == "parent_id" || k == "is_domain") {
      continue;
    }
    if (k == "name" && kv.value().is_string()) {
      updated.name = std::string(kv.value().as_string());
    } else {
      d[k] = kv.value();
    }
  }
  updated.doc = json::serialize(d);
  return updated;
}

Status check_bool(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_bool()) return ok_status();
  return make_error(ErrorCode::kInvalidArgument,
                    "Invalid input for field '" + std::string(key) + "': must be a boolean.");
}

void add_target(policy::Target& target, std::string_view kind, const json::object& doc) {
  std::string prefix = "target." + std::string(kind) + ".";
  for (const auto& kv : doc) {
    const json::value& v = kv.value();
    std::string key = prefix + std::string(kv.key());
    if (v.is_string()) {
      target[key] = std::string(v.as_string());
    } else if (v.is_bool()) {
      target[key] = v.as_bool() ? "True" : "False";
    } else if (v.is_null()) {
      target[key] = std::string(policy::kNoneValue);
    }
  }
}

awaitable<Result<store::Record>> fetch(Env& env, store::Kind kind, const std::string& id) {
  auto rec = co_await env.pool.run([&] { return env.svc.store().get(kind, id); });
  if (!rec.ok() && rec.error().code == ErrorCode::kNotFound) {
    std::string k = store::kind_name(kind);
    co_return make_error(ErrorCode::kNotFound, "Could not find " + k + ": " + id + ".");
  }
  co_return rec;
}

}  // namespace onestack::identity::api
