// EC2-style credentials of a user (/v3/users/{user_id}/credentials/OS-EC2):
// an access key and secret scoped to a project. They are stored as
// credentials of type "ec2" (so /v3/credentials lists them too, as Keystone
// does): owner = the user, parent = the project, id = sha256 hex of the
// access key, and the document {"type": "ec2", "blob": "<JSON string>"}.
// Signing requests with them (/v3/ec2tokens) is not implemented.
//
// Work handed to the pool captures by reference only, and co_await
// expressions name locals rather than build temporaries: the awaiting
// coroutine's frame outlives them, and g++ 12 destroys non-trivial
// temporaries of a co_await expression twice.
#include <openssl/evp.h>

#include "core/ids.h"
#include "identity/api/routes.h"

namespace onestack::identity::api {

namespace bh = boost::beast::http;
using store::Kind;

namespace {

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

std::string string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

json::value or_null(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? *v : json::value(nullptr);
}

bool is_ec2(const store::Record& rec) { return string_at(record_doc(rec), "type") == "ec2"; }

json::object blob_of(const store::Record& rec) {
  json::object doc = record_doc(rec);
  if (auto v = parse_json(string_at(doc, "blob")); v.ok() && v->is_object()) {
    return std::move(v->as_object());
  }
  return {};
}

// Keystone's EC2 view of a credential.
json::object render_ec2(const Env& env, const store::Record& rec) {
  json::object blob = blob_of(rec);
  json::object c;
  c["user_id"] = rec.owner_id;
  c["tenant_id"] = rec.parent_id.empty() ? json::value(nullptr) : json::value(rec.parent_id);
  c["access"] = or_null(blob, "access");
  c["secret"] = or_null(blob, "secret");
  c["trust_id"] = or_null(blob, "trust_id");
  json::object links;
  links["self"] =
      v3_url(env, "users/" + rec.owner_id + "/credentials/OS-EC2/" + string_at(blob, "access"));
  c["links"] = std::move(links);
  return c;
}

// The target of the per-credential rules: the credential's owner, project and
// type under target.credential.*, and the path's user as "user_id".
policy::Target credential_target(const store::Record& rec, const std::string& path_user) {
  policy::Target t{{"user_id", path_user}};
  t["target.credential.id"] = rec.id;
  t["target.credential.user_id"] = rec.owner_id;
  t["target.credential.project_id"] =
      rec.parent_id.empty() ? std::string(policy::kNoneValue) : rec.parent_id;
  t["target.credential.type"] = string_at(record_doc(rec), "type");
  return t;
}

awaitable<Status> user_exists(Env& env, const std::string& user_id) {
  auto user = co_await fetch(env, Kind::kUser, user_id);
  if (!user.ok()) co_return std::move(user).error();
  co_return ok_status();
}

awaitable<Response> list_ec2(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  const std::string& user_id = req.param(0);
  ONESTACK_API_TRY(authorize(env, **who, "identity:ec2_list_credentials", {{"user_id", user_id}}));
  ONESTACK_API_TRY(co_await user_exists(env, user_id));
  store::RecordQuery q;
  q.owner_id = user_id;
  auto recs =
      co_await env.pool.run([&env, &q] { return env.svc.store().list(Kind::kCredential, q); });
  ONESTACK_API_TRY(recs);
  json::array out;
  for (const auto& rec : *recs) {
    if (is_ec2(rec)) out.push_back(render_ec2(env, rec));
  }
  json::object body;
  body["credentials"] = std::move(out);
  body["links"] = collection_links(env, req);
  co_return json_response(bh::status::ok, body);
}

awaitable<Response> create_ec2(Env& env, Request& req) {
  auto who = caller(req);
  ONESTACK_API_TRY(who);
  const std::string& user_id = req.param(0);
  policy::Target t{{"user_id", user_id}, {"target.credential.user_id", user_id}};
  ONESTACK_API_TRY(authorize(env, **who, "identity:ec2_create_credential", t));
  ONESTACK_API_TRY(co_await user_exists(env, user_id));
  auto body = parse_json_object(req.body);
  ONESTACK_API_TRY(body);
  // Keystone looks the project up whatever was sent: a missing tenant_id is
  // the project "None".
  std::string project_id = string_at(*body, "tenant_id");
  std::string project_key = project_id.empty() ? "None" : project_id;
  auto project = co_await fetch(env, Kind::kProject, project_key);
  ONESTACK_API_TRY(project);

  json::object blob;
  blob["access"] = new_hex_id();
  blob["secret"] = new_hex_id();
  blob["trust_id"] = nullptr;  // onestack issues no trust-scoped tokens
  if (!(*who)->app_cred_id.empty()) {
    // Keys made with an application credential stay as limited as it is.
    blob["app_cred_id"] = (*who)->app_cred_id;
  }
  store::Record rec;
  rec.id = sha256_hex(std::string_view(blob["access"].as_string()));
  rec.owner_id = user_id;
  rec.parent_id = project_id;
  json::object doc;
  doc["type"] = "ec2";
  doc["blob"] = json::serialize(blob);
  rec.doc = json::serialize(doc);
  ONESTACK_API_TRY(co_await write(
      env, [&env, &rec] { return env.svc.store().create(Kind::kCredential, rec); }));
  json::object out;
  out["credential"] = render_ec2(env, rec);
  co_return json_response(bh::status::created, out);
}

// Finds the credential of the access key in the path and checks `rule`
// against it (Keystone looks the credential up first: an unknown key is 404
// whoever asks). A credential that is not an EC2 one is refused as Keystone
// does; one of another user is not found.
awaitable<Result<store::Record>> authorized_ec2(Env& env, Request& req, std::string_view rule) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  const std::string& user_id = req.param(0);
  std::string id = sha256_hex(req.param(1));
  auto rec = co_await fetch(env, Kind::kCredential, id);
  if (!rec.ok()) co_return std::move(rec).error();
  Status allowed = authorize(env, **who, rule, credential_target(*rec, user_id));
  if (!allowed.ok()) co_return std::move(allowed).error();
  Status user = co_await user_exists(env, user_id);
  if (!user.ok()) co_return std::move(user).error();
  if (!is_ec2(*rec)) {
    co_return make_error(ErrorCode::kUnauthenticated, "EC2 access key not found.");
  }
  if (rec->owner_id != user_id) {
    co_return make_error(ErrorCode::kNotFound, "Could not find credential: " + rec->id + ".");
  }
  co_return rec;
}

awaitable<Response> get_ec2(Env& env, Request& req) {
  auto rec = co_await authorized_ec2(env, req, "identity:ec2_get_credential");
  ONESTACK_API_TRY(rec);
  json::object out;
  out["credential"] = render_ec2(env, *rec);
  co_return json_response(bh::status::ok, out);
}

awaitable<Response> delete_ec2(Env& env, Request& req) {
  auto rec = co_await authorized_ec2(env, req, "identity:ec2_delete_credential");
  ONESTACK_API_TRY(rec);
  const std::string& id = rec->id;
  ONESTACK_API_TRY(co_await write(
      env, [&env, &id] { return env.svc.store().remove(Kind::kCredential, id); }));
  co_return Response::empty(bh::status::no_content);
}

awaitable<Response> ec2_tokens_not_implemented(Env&, Request&) {
  co_return error_response(make_error(
      ErrorCode::kNotImplemented,
      "Authenticating with EC2 signatures (/v3/ec2tokens) is not implemented; EC2 "
      "credentials can be created, listed and deleted."));
}

}  // namespace

void register_ec2_routes(http::Router& r, Env& env) {
  using V = bh::verb;
  add_route(r, env, V::get, "/v3/users/{user_id}/credentials/OS-EC2", list_ec2);
  add_route(r, env, V::post, "/v3/users/{user_id}/credentials/OS-EC2", create_ec2);
  add_route(r, env, V::get, "/v3/users/{user_id}/credentials/OS-EC2/{credential_id}", get_ec2);
  add_route(r, env, V::delete_, "/v3/users/{user_id}/credentials/OS-EC2/{credential_id}",
            delete_ec2);
  add_route(r, env, V::post, "/v3/ec2tokens", ec2_tokens_not_implemented);
}

}  // namespace onestack::identity::api
