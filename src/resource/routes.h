// The routes of a declared resource (resource.h): create, show, list,
// update, delete and, for resources with tags, Neutron's tag routes, each
// running the same phases — the caller from the AuthContext, the policy
// rule for the verb, validation from the declaration, one named
// transaction on the worker pool (with the service's domain hooks and
// quota claim inside it), the JSON. What differs between APIs (rule names,
// error body, page shape) is an ApiStyle; what differs between resources
// is an Api.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/auth/auth_context.h"
#include "core/clock.h"
#include "core/http/router.h"
#include "core/worker_pool.h"
#include "policy/policy.h"
#include "resource/list_query.h"
#include "resource/resource.h"
#include "resource/store.h"
#include "store/sql/db.h"

namespace onestack::resource {

// What the routes of one service share. Borrowed: all must outlive the
// router.
struct Env {
  store::sql::Db& db;
  WorkerPool& pool;
  const policy::PolicyEngine& policy;
  const Clock& clock = SystemClock::instance();
  std::string base_url;  // "http://127.0.0.1:9696", for links
};

// One API's dialect.
struct ApiStyle {
  // The policy rule for `verb` ("create", "get", "update", "delete") on
  // `def`: Neutron's "create_network", Keystone's "identity:create_region".
  std::function<std::string(const Def& def, std::string_view verb)> rule;
  // A refusal as the API words it (status, body, content type).
  std::function<http::Response(const Error&)> error;
  // A list's body: the items under def.collection, and the links that lead
  // to the next page when `next_marker` is set.
  std::function<boost::json::object(const Def& def, boost::json::array items,
                                    const std::string& next_marker, const http::Request& req,
                                    const std::string& collection_url)>
      page;
  ListOptions list;
  // An update is PUT (Neutron, Nova, Cinder) or PATCH (Keystone).
  http::beast_http::verb update_method = http::beast_http::verb::put;
  // An update must change something (Keystone's minProperties: 1).
  bool update_needs_change = false;
  // The rule a list is checked against as a whole (Keystone's
  // "identity:list_policies"). Empty: each item is checked with the get
  // rule and left out when refused (Neutron).
  std::function<std::string(const Def& def)> list_rule;
  // Words for an id that names no item the caller may see (empty: the
  // kit's).
  std::function<std::string(const Def& def, std::string_view id)> not_found;
  // Adds what a shown item carries beyond its attributes (Keystone's
  // links.self). May be empty.
  std::function<void(const Def& def, boost::json::object& shown, const std::string& item_url)>
      decorate;
};

// Neutron's dialect: rules "<verb>_<member>", {"NeutronError": {...}}
// errors, "<collection>_links" with rel "next".
const ApiStyle& neutron_style();

// Domain rules a service adds, each run inside the write transaction of
// the verb, so a refusal leaves nothing changed. Any may be empty.
struct Hooks {
  // Before the insert: may change the checked attributes, or refuse.
  std::function<Status(Tx& tx, const auth::AuthContext& caller, boost::json::object& attrs)>
      before_create;
  // Before the update: `item` as stored, `changes` as checked.
  std::function<Status(Tx& tx, const boost::json::object& item, boost::json::object& changes)>
      before_update;
  // Before the delete (Neutron's NetworkInUse, say).
  std::function<Status(Tx& tx, const boost::json::object& item)> before_delete;
  // Last word on what a response shows of `item`; `created` for the
  // create's own answer (a secret shown only then, say).
  std::function<void(const boost::json::object& item, boost::json::object& shown, bool created)>
      show;
};

// A project's usage of one resource, counted by the kit on create and
// delete (store/sql/quota.h) against what `limit` says (-1: unlimited).
struct Quota {
  std::string service;   // "network"
  std::string resource;  // "networks"
  std::function<int64_t(std::string_view project_id)> limit;
};

struct Api {
  const Def* def;
  std::string path;  // the collection's path, "/v2.0/networks"
  // Items carry a "project_id" attribute: a caller who is not an admin
  // (policy rule "context_is_admin") sees and names only its project's
  // items, and creates in its own project unless the policy lets it name
  // another; an admin sees every project's.
  bool project_owned = true;
  Hooks hooks;
  std::optional<Quota> quota;
};

// Registers the routes of `api` on `router` in `style`: `api.path` and
// `api.path`/{<member>_id} ("/v2.0/networks/{network_id}"), with /tags
// under it for resources with tags. `env`, `api` and
// `style` are borrowed and must outlive the router.
void register_crud(http::Router& router, const Env& env, const Api& api, const ApiStyle& style);

}  // namespace onestack::resource
