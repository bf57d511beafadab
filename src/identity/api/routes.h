// Route tables of the Keystone v3 API, one function per resource family.
// build_router() registers them all in an order where literal paths come
// before parameters that could shadow them.
#pragma once

#include "core/http/router.h"
#include "identity/api/common.h"

namespace onestack::identity::api {

void register_version_routes(http::Router& router, Env& env);     // /, /v3
void register_auth_routes(http::Router& router, Env& env);        // /v3/auth/*
void register_resource_routes(http::Router& router, Env& env);    // domains, projects, tags
void register_user_routes(http::Router& router, Env& env);        // users, groups
void register_role_routes(http::Router& router, Env& env);        // roles, grants, assignments
void register_catalog_routes(http::Router& router, Env& env);     // regions, services, endpoints
void register_credential_routes(http::Router& router, Env& env);  // credentials, app creds
// policies, OS-EP-FILTER endpoint groups, OS-OAUTH1 consumers, domain config
void register_extension_routes(http::Router& router, Env& env);
// OS-EC2 credentials, ec2tokens, access rules
void register_ec2_routes(http::Router& router, Env& env);
// Resources declared on the resource kit: stored policies.
void register_declared_routes(http::Router& router, Env& env);
// unified limits: registered_limits, limits, limits/model
void register_limit_routes(http::Router& router, Env& env);

// Access rules of application credentials (ec2_routes.cc).

// Validates the "access_rules" of an application credential request: a list
// of {"service", "path", "method"} and/or {"id"} objects, as Keystone's
// schema. kInvalidArgument otherwise.
Status check_access_rules(const json::value& rules);
// Resolves validated access rules for a new application credential of
// `user_id`: a rule naming the id of one of the user's rules, or identical to
// one, reuses it; others are stored as new rules. Returns the list to keep in
// the application credential, [{"id","path","method","service"}], or
// kNotFound for an id that names none of the user's rules. Blocking: call on
// the worker pool.
Result<json::array> store_access_rules(store::IdentityStore& store, const std::string& user_id,
                                       const json::array& rules);

// Keystone API families not built yet: 501 naming the feature.
void register_unimplemented_routes(http::Router& router, Env& env);

void build_router(http::Router& router, Env& env);

}  // namespace onestack::identity::api
