// The Swift v1 router: every route of the object-store listener.
#pragma once

#include "core/http/router.h"
#include "object/api/common.h"

namespace onestack::object::api {

// Builds the object-store router over `env` (which must outlive it).
http::Router build_router(const Env& env);
// The listener's answer to paths no route of `router` names, as Swift's
// proxy dispatches them (ListenerConfig::fallback); `router` must outlive it.
http::Handler build_fallback(const http::Router& router);

// Route handlers, one file per level (account_routes.cc, container_routes.cc,
// object_routes.cc, info_routes.cc).
awaitable<Response> account_head_get(Env env, Request& req);
awaitable<Response> account_post(Env env, Request& req);
awaitable<Response> container_put(Env env, Request& req);
awaitable<Response> container_head_get(Env env, Request& req);
awaitable<Response> container_post(Env env, Request& req);
awaitable<Response> container_delete(Env env, Request& req);
awaitable<Response> object_put(Env env, Request& req);
awaitable<Response> object_head_get(Env env, Request& req);
awaitable<Response> object_post(Env env, Request& req);
awaitable<Response> object_delete(Env env, Request& req);
awaitable<Response> object_copy(Env env, Request& req);
awaitable<Response> info_get(Env env, Request& req);
awaitable<Response> crossdomain_get(Env env, Request& req);
awaitable<Response> healthcheck_get(Env env, Request& req);
awaitable<Response> cors_preflight(Env env, Request& req);

// The account, container and object rows a request needs, read in one hop
// to the worker pool. Absent rows stay empty.
struct Rows {
  std::optional<store::AccountRecord> account;
  std::optional<store::ContainerRecord> container;
  std::optional<store::ObjectRecord> object;
  // With Want::kSmallBody: the bytes of a plain object of at most
  // kVerifiedReadLimit, read and MD5-checked in the same pool hop (a damaged
  // blob is quarantined and gives kNotFound). Unset when not applicable.
  std::optional<Result<std::string>> small_body;
  // The bytes of the container's versions, when it keeps them (object
  // versioning): Swift counts them as the container's, in its HEAD and in
  // its quotas. Not loaded with kSettingsOnly.
  uint64_t versions_bytes = 0;
};
// kSettingsOnly: the caller reads the account's and container's settings
// (metadata, policy) but not their counts, so a cached row whose counts an
// object write has outdated still serves (ReadCache::container_settings).
enum class Want { kAccount = 1, kContainer = 2, kObject = 4, kSmallBody = 8, kSettingsOnly = 16 };
// Whole objects up to this size are read and checked against their MD5
// before a byte is sent; larger ones go by sendfile after a size check.
constexpr uint64_t kVerifiedReadLimit = 1 << 20;
awaitable<Result<Rows>> load_rows(Env env, Target t, int want);

// The target of a routed request (path parameters, decoded).
Target target_of(const Request& req);

// Where keystoneauth keeps the domain of an account's project.
constexpr std::string_view kProjectDomainSysmeta = "x-account-sysmeta-project-domain-id";
// Set on an account when its first container is made: Swift's account
// server reports a policy's totals from then on (its policy_stat row), even
// at zero once the containers are gone.
constexpr std::string_view kPolicyStatSysmeta = "x-account-sysmeta-onestack-policy-stat";
// Set on a container when object versioning is first enabled on it (Swift's
// "versions-container" sysmeta): its objects' reads name versions from then
// on, whether versioning is on or off.
constexpr std::string_view kVersionsContainerSysmeta = "x-container-sysmeta-versions-container";
// Adds to `updates` of an account about to be created the domain of the
// caller's project, when the account is that project's.
void record_project_domain(const Request& req, const Target& t, store::Metadata& updates);

// Sets the account-level headers (counts, timestamps, metadata) on `res`;
// ACL headers only for `owner`. An account not created yet is stamped
// `now_us`.
void account_headers(Response& res, const std::string& name,
                     const std::optional<store::AccountRecord>& account, const ObjectConfig& cfg,
                     bool owner, int64_t now_us);

}  // namespace onestack::object::api
