#include "resource/routes.h"

#include <boost/json/serialize.hpp>

#include <algorithm>

#include "core/json.h"
#include "store/sql/quota.h"

namespace onestack::resource {

namespace json = boost::json;
namespace bh = http::beast_http;
using boost::asio::awaitable;
using http::Request;
using http::Response;
using store::sql::Params;

namespace {

// The same three pointers every handler takes; they outlive the router.
struct Ctx {
  const Env* env;
  const Api* api;
  const ApiStyle* style;
};

Response json_response(bh::status status, const json::object& body) {
  return Response::json(status, json::serialize(body));
}

Result<const auth::AuthContext*> caller(const Request& req) {
  if (req.auth) return &*req.auth;
  if (req.auth_error) return *req.auth_error;
  return make_error(ErrorCode::kUnauthenticated, "Authentication required");
}

bool is_admin(const Ctx& c, const auth::AuthContext& who) {
  const auto creds = policy::credentials_of(who);
  if (c.env->policy.has_rule("context_is_admin")) {
    return c.env->policy.enforce("context_is_admin", creds, {});
  }
  return who.has_role("admin");
}

Status authorize(const Ctx& c, const auth::AuthContext& who, std::string_view verb,
                 const json::object* item) {
  policy::Target target;
  if (item != nullptr) {
    if (const json::value* p = item->if_contains("project_id"); p != nullptr && p->is_string()) {
      target["project_id"] = std::string(p->as_string());
      target["tenant_id"] = std::string(p->as_string());
    }
  }
  const std::string rule = c.style->rule(*c.api->def, verb);
  if (c.env->policy.enforce(rule, policy::credentials_of(who), target)) return ok_status();
  return make_error(ErrorCode::kForbidden, "(" + rule + ") is disallowed by policy");
}

// What a caller may see: every item for an admin, its project's otherwise.
struct Scope {
  std::string sql;
  Params params;
};
Scope scope_of(const Ctx& c, const auth::AuthContext& who) {
  Scope s;
  if (!c.api->project_owned || is_admin(c, who)) return s;
  s.sql = "project_id = $1";
  s.params.add(who.project_id);
  return s;
}

// The request body's {"<member>": {...}}.
Result<json::object> member_body(const Ctx& c, const Request& req) {
  auto body = parse_json_object(req.body);
  if (!body.ok()) return make_error(ErrorCode::kInvalidArgument, body.error().message);
  const json::value* m = body->if_contains(c.api->def->member);
  if (m == nullptr || !m->is_object()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Unable to find '" + std::string(c.api->def->member) + "' in request body");
  }
  return m->as_object();
}

std::string point(const Ctx& c, std::string_view verb) {
  return std::string(c.api->def->member) + "." + std::string(verb);
}

// The item as the API shows it: its visible attributes (or `fields`), and
// what the style adds.
json::object shown(const Ctx& c, const json::object& item,
                   const std::vector<std::string>& fields = {}, bool created = false) {
  json::object out = render(*c.api->def, item, fields);
  if (c.style->decorate) {
    const std::string url =
        c.env->base_url + c.api->path + "/" + std::string(item.at("id").as_string());
    c.style->decorate(*c.api->def, out, url);
  }
  if (c.api->hooks.show) c.api->hooks.show(item, out, created);
  return out;
}

json::object wrap(const Ctx& c, json::object rendered) {
  json::object out;
  out[c.api->def->member] = std::move(rendered);
  return out;
}

// Neutron's If-Match: "revision_number=N" (neutron/db/standard_attr.py).
Result<std::optional<int64_t>> if_match_revision(const Request& req) {
  std::string_view v = req.header("If-Match");
  if (v.empty()) return std::optional<int64_t>();
  constexpr std::string_view kPrefix = "revision_number=";
  if (v.substr(0, kPrefix.size()) != kPrefix) {
    return make_error(ErrorCode::kInvalidArgument, "If-Match must be revision_number=<number>");
  }
  int64_t n = 0;
  for (char ch : v.substr(kPrefix.size())) {
    if (ch < '0' || ch > '9') {
      return make_error(ErrorCode::kInvalidArgument, "If-Match must be revision_number=<number>");
    }
    n = n * 10 + (ch - '0');
  }
  return std::optional<int64_t>(n);
}

#define ONESTACK_ROUTE_TRY(expr)                                                      \
  do {                                                                                \
    auto&& onestack_route_r_ = (expr);                                                \
    if (!onestack_route_r_.ok()) co_return c.style->error(onestack_route_r_.error()); \
  } while (0)

awaitable<Response> create_item(Ctx c, Request& req) {
  auto who = caller(req);
  ONESTACK_ROUTE_TRY(who);
  auto body = member_body(c, req);
  ONESTACK_ROUTE_TRY(body);
  auto attrs = check_create(*c.api->def, *body);
  ONESTACK_ROUTE_TRY(attrs);
  if (c.api->project_owned) {
    json::value& p = (*attrs)["project_id"];
    if (!p.is_string() || p.as_string().empty()) p = (*who)->project_id;
  }
  ONESTACK_ROUTE_TRY(authorize(c, **who, "create", &*attrs));
  json::object made;
  const auth::AuthContext& caller_ctx = **who;
  Status st = co_await c.env->pool.run([&c, &caller_ctx, &attrs, &made] {
    return c.env->db.write(point(c, "create"), [&](Tx& tx) -> Status {
      json::object checked = *attrs;
      if (c.api->hooks.before_create) {
        ONESTACK_TRY(c.api->hooks.before_create(tx, caller_ctx, checked));
      }
      auto item = insert(tx, *c.api->def, std::move(checked), c.env->clock);
      if (!item.ok()) return std::move(item).error();
      if (c.api->quota) {
        const std::string project(item->at("project_id").as_string());
        ONESTACK_TRY(
            store::sql::claim_quota(tx, {c.api->quota->service, project, c.api->quota->resource, 1},
                                    c.api->quota->limit(project)));
      }
      made = std::move(*item);
      return ok_status();
    });
  });
  ONESTACK_ROUTE_TRY(st);
  co_return json_response(bh::status::created, wrap(c, shown(c, made, {}, /*created=*/true)));
}

// The item with the path's id, if the caller may see it.
awaitable<Result<json::object>> visible_item(Ctx c, const auth::AuthContext& who,
                                             const std::string& id) {
  Scope scope = scope_of(c, who);
  json::object found;
  Status st = co_await c.env->pool.run([&c, &scope, &id, &found] {
    return c.env->db.read(point(c, "get"), [&](Tx& tx) -> Status {
      auto item = fetch(tx, *c.api->def, id, scope.sql, scope.params);
      if (!item.ok()) return std::move(item).error();
      found = std::move(*item);
      return ok_status();
    });
  });
  if (!st.ok()) {
    Error e = std::move(st).error();
    if (e.code == ErrorCode::kNotFound && c.style->not_found) {
      e.message = c.style->not_found(*c.api->def, id);
    }
    co_return e;
  }
  co_return found;
}

awaitable<Response> show_item(Ctx c, Request& req) {
  auto who = caller(req);
  ONESTACK_ROUTE_TRY(who);
  auto item = co_await visible_item(c, **who, req.param(0));
  ONESTACK_ROUTE_TRY(item);
  ONESTACK_ROUTE_TRY(authorize(c, **who, "get", &*item));
  ListOptions lenient;
  lenient.strict = false;
  auto q = parse_list_query(*c.api->def, req.query, lenient);
  std::vector<std::string> fields = q.ok() ? q->fields : std::vector<std::string>{};
  co_return json_response(bh::status::ok, wrap(c, shown(c, *item, fields)));
}

awaitable<Response> list_items(Ctx c, Request& req) {
  auto who = caller(req);
  ONESTACK_ROUTE_TRY(who);
  if (c.style->list_rule) {
    const std::string rule = c.style->list_rule(*c.api->def);
    if (!c.env->policy.enforce(rule, policy::credentials_of(**who), {})) {
      co_return c.style->error(
          make_error(ErrorCode::kForbidden, "(" + rule + ") is disallowed by policy"));
    }
  }
  auto q = parse_list_query(*c.api->def, req.query, c.style->list);
  ONESTACK_ROUTE_TRY(q);
  Scope scope = scope_of(c, **who);
  Page page;
  Status st = co_await c.env->pool.run([&c, &scope, &q, &page] {
    return c.env->db.read(point(c, "list"), [&](Tx& tx) -> Status {
      auto p = list(tx, *c.api->def, *q, scope.sql, scope.params);
      if (!p.ok()) return std::move(p).error();
      page = std::move(*p);
      return ok_status();
    });
  });
  ONESTACK_ROUTE_TRY(st);
  // As Neutron's list: the get rule is checked item by item, and an item
  // it refuses is left out (neutron/api/v2/base.py _items).
  json::array items;
  for (const auto& item : page.items) {
    if (!c.style->list_rule && !authorize(c, **who, "get", &item).ok()) continue;
    items.push_back(shown(c, item, q->fields));
  }
  co_return json_response(bh::status::ok,
                          c.style->page(*c.api->def, std::move(items), page.next_marker, req,
                                        c.env->base_url + c.api->path));
}

awaitable<Response> update_item(Ctx c, Request& req) {
  auto who = caller(req);
  ONESTACK_ROUTE_TRY(who);
  auto current = co_await visible_item(c, **who, req.param(0));
  ONESTACK_ROUTE_TRY(current);
  ONESTACK_ROUTE_TRY(authorize(c, **who, "update", &*current));
  auto body = member_body(c, req);
  ONESTACK_ROUTE_TRY(body);
  if (c.style->update_needs_change && body->empty()) {
    co_return c.style->error(make_error(
        ErrorCode::kInvalidArgument, "Invalid input for field '" + std::string(c.api->def->member) +
                                         "': {} does not have enough properties"));
  }
  auto changes = check_update(*c.api->def, *body);
  ONESTACK_ROUTE_TRY(changes);
  auto revision = if_match_revision(req);
  ONESTACK_ROUTE_TRY(revision);
  const std::string& id = req.param(0);
  json::object updated;
  Status st = co_await c.env->pool.run([&c, &id, &changes, &revision, &updated] {
    return c.env->db.write(point(c, "update"), [&](Tx& tx) -> Status {
      json::object checked = *changes;
      if (c.api->hooks.before_update) {
        auto item = fetch(tx, *c.api->def, id);
        if (!item.ok()) return std::move(item).error();
        ONESTACK_TRY(c.api->hooks.before_update(tx, *item, checked));
      }
      auto item = update(tx, *c.api->def, id, checked, *revision, c.env->clock);
      if (!item.ok()) return std::move(item).error();
      updated = std::move(*item);
      return ok_status();
    });
  });
  ONESTACK_ROUTE_TRY(st);
  co_return json_response(bh::status::ok, wrap(c, shown(c, updated)));
}

awaitable<Response> delete_item(Ctx c, Request& req) {
  auto who = caller(req);
  ONESTACK_ROUTE_TRY(who);
  auto current = co_await visible_item(c, **who, req.param(0));
  ONESTACK_ROUTE_TRY(current);
  ONESTACK_ROUTE_TRY(authorize(c, **who, "delete", &*current));
  const std::string& id = req.param(0);
  Status st = co_await c.env->pool.run([&c, &id] {
    return c.env->db.write(point(c, "delete"), [&](Tx& tx) -> Status {
      auto item = fetch(tx, *c.api->def, id);
      if (!item.ok()) return std::move(item).error();
      if (c.api->hooks.before_delete) ONESTACK_TRY(c.api->hooks.before_delete(tx, *item));
      ONESTACK_TRY(remove(tx, *c.api->def, id));
      if (c.api->quota) {
        const std::string project(item->at("project_id").as_string());
        ONESTACK_TRY(store::sql::release_quota(
            tx, {c.api->quota->service, project, c.api->quota->resource, 1}));
      }
      return ok_status();
    });
  });
  ONESTACK_ROUTE_TRY(st);
  co_return Response::empty(bh::status::no_content);
}

// ---- tags (Neutron's tag extension: neutron/extensions/tagging.py) ----

json::object tags_body(const std::vector<std::string>& tags) {
  json::array arr;
  for (const auto& t : tags) arr.emplace_back(t);
  json::object out;
  out["tags"] = std::move(arr);
  return out;
}

// Runs `fn` in a write transaction on the item of the path, once the caller
// may update it.
awaitable<Status> with_taggable(Ctx c, Request& req,
                                std::function<Status(Tx&, const std::string&)> fn) {
  auto who = caller(req);
  if (!who.ok()) co_return std::move(who).error();
  auto current = co_await visible_item(c, **who, req.param(0));
  if (!current.ok()) co_return std::move(current).error();
  Status allowed = authorize(c, **who, "update", &*current);
  if (!allowed.ok()) co_return allowed;
  const std::string& id = req.param(0);
  co_return co_await c.env->pool.run([&c, &id, &fn] {
    return c.env->db.write(point(c, "tags"), [&](Tx& tx) { return fn(tx, id); });
  });
}

awaitable<Response> get_tags(Ctx c, Request& req) {
  auto who = caller(req);
  ONESTACK_ROUTE_TRY(who);
  auto item = co_await visible_item(c, **who, req.param(0));
  ONESTACK_ROUTE_TRY(item);
  ONESTACK_ROUTE_TRY(authorize(c, **who, "get", &*item));
  std::vector<std::string> tags;
  for (const auto& t : item->at("tags").as_array()) tags.emplace_back(t.as_string());
  if (req.path_params.size() > 1) {
    if (std::find(tags.begin(), tags.end(), req.param(1)) == tags.end()) {
      co_return c.style->error(
          make_error(ErrorCode::kNotFound, "Tag " + req.param(1) + " could not be found."));
    }
    co_return Response::empty(bh::status::no_content);
  }
  co_return json_response(bh::status::ok, tags_body(tags));
}

awaitable<Response> put_tags(Ctx c, Request& req) {
  auto body = parse_json_object(req.body);
  ONESTACK_ROUTE_TRY(body);
  const json::value* list = body->if_contains("tags");
  if (list == nullptr || !list->is_array()) {
    co_return c.style->error(make_error(ErrorCode::kInvalidArgument, "Invalid tags body"));
  }
  std::vector<std::string> tags;
  for (const auto& t : list->as_array()) {
    if (!t.is_string()) {
      co_return c.style->error(make_error(ErrorCode::kInvalidArgument, "Invalid tags body"));
    }
    tags.emplace_back(t.as_string());
  }
  Status st = co_await with_taggable(c, req, [&c, &tags](Tx& tx, const std::string& id) {
    return set_tags(tx, *c.api->def, id, tags, c.env->clock);
  });
  ONESTACK_ROUTE_TRY(st);
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  co_return json_response(bh::status::ok, tags_body(tags));
}

awaitable<Response> put_tag(Ctx c, Request& req) {
  const std::string tag = req.param(1);
  Status st = co_await with_taggable(c, req, [&c, &tag](Tx& tx, const std::string& id) {
    return add_tag(tx, *c.api->def, id, tag, c.env->clock);
  });
  ONESTACK_ROUTE_TRY(st);
  co_return Response::empty(bh::status::created);
}

awaitable<Response> delete_tags(Ctx c, Request& req) {
  Status st = co_await with_taggable(c, req, [&c](Tx& tx, const std::string& id) {
    return set_tags(tx, *c.api->def, id, {}, c.env->clock);
  });
  ONESTACK_ROUTE_TRY(st);
  co_return Response::empty(bh::status::no_content);
}

awaitable<Response> delete_tag(Ctx c, Request& req) {
  const std::string tag = req.param(1);
  Status st = co_await with_taggable(c, req, [&c, &tag](Tx& tx, const std::string& id) {
    return remove_tag(tx, *c.api->def, id, tag, c.env->clock);
  });
  ONESTACK_ROUTE_TRY(st);
  co_return Response::empty(bh::status::no_content);
}

using HandlerFn = awaitable<Response> (*)(Ctx, Request&);

void add(http::Router& router, bh::verb method, std::string pattern, Ctx c, HandlerFn fn) {
  // Not a coroutine itself: it hands the request to the named one.
  router.add(method, std::move(pattern), [c, fn](Request& req) { return fn(c, req); });
}

// Neutron's NeutronError document (neutron/api/v2/resource.py): type,
// message, detail.
Response neutron_error(const Error& e) {
  bh::status status = bh::status::internal_server_error;
  std::string type = "HTTPInternalServerError";
  switch (e.code) {
    case ErrorCode::kNotFound:
      status = bh::status::not_found;
      type = "HTTPNotFound";
      break;
    case ErrorCode::kConflict:
      status = bh::status::conflict;
      type = "Conflict";
      break;
    case ErrorCode::kUnauthenticated:
      status = bh::status::unauthorized;
      type = "HTTPUnauthorized";
      break;
    case ErrorCode::kForbidden:
      status = bh::status::forbidden;
      type = "PolicyNotAuthorized";
      break;
    case ErrorCode::kInvalidArgument:
      status = bh::status::bad_request;
      type = "HTTPBadRequest";
      break;
    case ErrorCode::kPreconditionFailed:
      status = bh::status::precondition_failed;
      type = "RevisionNumberConstraintFailed";
      break;
    case ErrorCode::kOverQuota:
      status = bh::status::conflict;
      type = "OverQuota";
      break;
    case ErrorCode::kUnavailable:
      status = bh::status::service_unavailable;
      type = "ServiceUnavailable";
      break;
    case ErrorCode::kTooLarge:
      status = bh::status::payload_too_large;
      type = "HTTPRequestEntityTooLarge";
      break;
    case ErrorCode::kNotImplemented:
      status = bh::status::not_implemented;
      type = "HTTPNotImplemented";
      break;
    case ErrorCode::kMethodNotAllowed:
      status = bh::status::method_not_allowed;
      type = "HTTPMethodNotAllowed";
      break;
    default: break;
  }
  json::object err;
  err["type"] = type;
  err["message"] =
      status == bh::status::internal_server_error
          ? std::string("Request Failed: internal server error while processing your request.")
          : e.message;
  err["detail"] = "";
  json::object body;
  body["NeutronError"] = std::move(err);
  return Response::json(status, json::serialize(body));
}

json::object neutron_page(const Def& def, json::array items, const std::string& next_marker,
                          const Request& req, const std::string& url) {
  json::object body;
  body[def.collection] = std::move(items);
  if (!next_marker.empty()) {
    std::string query;
    for (const auto& item : req.query.items()) {
      if (item.key == "marker") continue;
      query += (query.empty() ? "?" : "&") + item.key + "=" + item.value;
    }
    query += (query.empty() ? "?" : "&") + std::string("marker=") + next_marker;
    json::object next;
    next["rel"] = "next";
    next["href"] = url + query;
    json::array links;
    links.push_back(std::move(next));
    body[std::string(def.collection) + "_links"] = std::move(links);
  }
  return body;
}

}  // namespace

const ApiStyle& neutron_style() {
  static const ApiStyle style = [] {
    ApiStyle st;
    st.rule = [](const Def& def, std::string_view verb) {
      return std::string(verb) + "_" + std::string(def.member);
    };
    st.error = neutron_error;
    st.page = neutron_page;
    return st;
  }();
  return style;
}

void register_crud(http::Router& router, const Env& env, const Api& api, const ApiStyle& style) {
  const Ctx c{&env, &api, &style};
  // "{network_id}": the path parameter's name is the member's id.
  const std::string one = api.path + "/{" + std::string(api.def->member) + "_id}";
  add(router, bh::verb::post, api.path, c, create_item);
  add(router, bh::verb::get, api.path, c, list_items);
  add(router, bh::verb::get, one, c, show_item);
  add(router, style.update_method, one, c, update_item);
  add(router, bh::verb::delete_, one, c, delete_item);
  if (api.def->tags) {
    add(router, bh::verb::get, one + "/tags", c, get_tags);
    add(router, bh::verb::put, one + "/tags", c, put_tags);
    add(router, bh::verb::delete_, one + "/tags", c, delete_tags);
    add(router, bh::verb::get, one + "/tags/{tag}", c, get_tags);
    add(router, bh::verb::put, one + "/tags/{tag}", c, put_tag);
    add(router, bh::verb::delete_, one + "/tags/{tag}", c, delete_tag);
  }
}

}  // namespace onestack::resource
