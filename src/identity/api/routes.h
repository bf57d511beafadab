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

void build_router(http::Router& router, Env& env);

}  // namespace onestack::identity::api
