// The Swift features layered on the core object routes — the parts Swift
// itself builds as proxy middleware: large objects (SLO, DLO), symlinks,
// versioning, TempURL, FormPost, bulk, StaticWeb, CORS. The core routes
// call these hooks at fixed points; each feature lives in its own file.
#pragma once

#include <optional>

#include "object/api/common.h"
#include "object/api/routes.h"
#include "object/service/blob_io.h"

namespace onestack::object::api {

// ---- large objects (large_object.cc) ----
// PUT ?multipart-manifest=put: validates the SLO manifest in the body
// against its segments and stores it. `rows` holds account and container.
awaitable<Response> slo_put(Env env, Request& req, Target t, Rows rows);
// GET/HEAD of a manifest object (SLO or DLO) unless ?multipart-manifest=get
// asks for the manifest itself: the concatenated segments, ranges across
// segments. nullopt when `o` is not a manifest or the manifest was asked for.
awaitable<std::optional<Response>> large_object_get(Env env, Request& req, Target t,
                                                    store::ObjectRecord o);
// The manifest itself for ?multipart-manifest=get on an SLO (Swift's JSON
// list of {name, hash, bytes, ...}; with &format=raw the PUT form); nullopt
// when `o` is not an SLO (a DLO's manifest is the object itself).
awaitable<std::optional<Response>> slo_manifest_get(Env env, Request& req, store::ObjectRecord o);
// DELETE ?multipart-manifest=delete (slo.py takes it before any check):
// deletes an SLO's segments, nested manifests' segments, then the manifest,
// each as the caller may; a bulk-delete answer, streamed with heartbeats.
awaitable<Response> slo_delete(Env env, Request& req, Target t);
// The parts making up the whole content of a manifest object, for COPY of a
// large object (a copy is a plain object holding the concatenation).
// kNotFound etc. as for GET.
awaitable<Result<std::vector<Part>>> large_object_parts(Env env, Request& req, Target t,
                                                        store::ObjectRecord o, uint64_t* size);

// ---- symlinks (symlink.cc) ----
// Resolves a symlink row to its target (following at most Swift's
// symloop_max links), checking read access on each target. Returns the
// target's row and target; `o` unchanged when it is not a symlink or
// ?symlink=get was given. kNotFound for a dangling link, kConflict past
// symloop_max or when a static link's target no longer has its etag.
struct Resolved {
  Target target;
  store::ObjectRecord object;
};
// `last_hop`, when given, is set to each target as it is read: after an
// error it names the path that caused it (symlink.py's Content-Location).
awaitable<Result<Resolved>> resolve_symlink(Env env, Request& req, Target t, store::ObjectRecord o,
                                            Target* last_hop = nullptr);
// The answer to a failed symlink walk: the error, with Content-Location
// naming the path that caused it once a link was followed (not for
// symloop_max, which symlink.py answers on its own).
Response symlink_error(const Request& req, const Error& e, const Target& reached);
// Reads a symlink PUT's X-Symlink-Target(-Account) into `o`: the target
// must be "<container>/<object>" (412) and the request without a body
// (400); a link sent
// without a Content-Type gets application/symlink.
Status symlink_put_headers(const Request& req, bool has_body, store::ObjectRecord* o);
// Validates a symlink PUT to `t` (`o` already carries x-symlink-target):
// a link to itself is 400; with X-Symlink-Target-Etag (a static link) the
// target must exist with that etag (409 otherwise), and `o` records the
// target's etag and size and, when the request named none, its content type.
// A 409 about the target sets `failed_at` to it (its Content-Location).
awaitable<Status> symlink_put_check(Env env, Request& req, Target t, store::ObjectRecord* o,
                                    Target* failed_at);
// Checks a POST before anything is applied: 400 for X-Symlink-Target (only
// a PUT makes a link) or ?version-id (versions are read-only).
std::optional<Response> object_post_precheck(const Request& req);
// After a POST applied to link `o` at `t`: Swift's 307 naming the target.
// nullopt when `o` is not a link.
std::optional<Response> symlink_post_redirect(const Request& req, const Target& t,
                                              const store::ObjectRecord& o);
// "/v1/<account>/<container>/<object>", percent-encoded: the Content-Location
// of an object reached through a link.
std::string symlink_location(const Target& t);

// ---- versioning (versioning.cc, object_versioning.cc) ----
// Whether a write to `container` involves versioning (legacy or object
// versioning, or a request naming a version): version_before_overwrite has
// work to do.
bool versions_objects(const Request& req, const store::ContainerRecord& container);

// Called before a PUT (or COPY) writes `incoming` over `current` in
// `container`. Legacy versioned writes (X-Versions-Location /
// X-History-Location) snapshot `current` into the versions container (412
// when it is missing). Object versioning (X-Versions-Enabled) snapshots
// `current` and `incoming` into the hidden versions container and marks
// `incoming` with its version id; PUT ?version-id= makes `incoming` a copy of
// that version. May set `cond->blob_shared` (the blob then has another row).
awaitable<Status> version_before_overwrite(Env env, Request& req, Target t,
                                           store::ContainerRecord container,
                                           std::optional<store::ObjectRecord> current,
                                           store::ObjectRecord* incoming,
                                           store::PutConditions* cond);
// DELETE in a versioned container: Swift's stack mode restores the previous
// version; history mode archives the current one; object versioning writes
// a delete marker, and DELETE ?version-id= removes one version. nullopt when
// none applies (the caller deletes normally).
awaitable<std::optional<Response>> version_delete(Env env, Request& req, Target t,
                                                  store::ContainerRecord container);
// GET/HEAD of an object: with ?version-id= points rows->object at that
// version (nullopt when there is none); in a container that has object
// versioning, marks the row with its X-Object-Version-Id. An error response
// to send instead: 400 for a bad version-id, 404 for a delete marker.
awaitable<std::optional<Response>> version_read(Env env, Request& req, Target t, Rows* rows);
// GET ?versions on container `c`: the JSON listing of every version
// (version_id, is_latest), paged with marker / version_marker / limit.
awaitable<Result<std::string>> versions_listing(Env env, Request& req, Target t,
                                                store::ContainerRecord c);
// Container PUT/POST: normalizes X-Versions-Enabled in `updates` (creating
// the hidden versions container when it turns on; 400 on a container with
// legacy versioning) and keeps one legacy location at a time.
awaitable<Status> versioning_container_update(Env env, Request& req, Target t,
                                              std::optional<store::ContainerRecord> current,
                                              store::Metadata* updates);
// Container DELETE: 409 while the hidden versions container holds versions;
// otherwise removes it.
awaitable<Status> versioning_container_delete(Env env, Request& req, Target t);
// Account listings never show reserved (NUL-prefixed) container names.
void hide_reserved_names(store::ListQuery& q);

// ---- TempURL, FormPost, StaticWeb, bulk, CORS (middleware.cc) ----
// When the request carries temp_url_sig/temp_url_expires, validates it
// against the account's and container's Temp-URL keys: the access it grants
// (only for the signed method and path), or kUnauthenticated. nullopt when
// the request is not a TempURL request.
std::optional<Result<Access>> tempurl_authorize(const Env& env, const Request& req, const Target& t,
                                                const store::Metadata* account_meta,
                                                const store::Metadata* container_meta);
// Response headers a TempURL GET adds (Content-Disposition for
// filename= / inline).
void tempurl_decorate(const Env& env, const Request& req, const Target& t, Response& res);
// Whether the request carries TempURL parameters (temp_url_sig or
// temp_url_expires): tempurl.py takes it, and refuses it on anything but
// an object.
bool has_tempurl_params(const Request& req);
// tempurl.py's _invalid: 401 "Temp URL invalid" (no body for a HEAD).
Response tempurl_invalid(const Request& req);
// POST of a multipart/form-data body to a container (or prefix) path
// signed with the account's Temp-URL key.
awaitable<Response> formpost(Env env, Request& req);
bool is_formpost(const Request& req);
// PUT ?extract-archive=tar|tar.gz|tar.bz2 on an account or container path.
awaitable<Response> bulk_extract(Env env, Request& req);
// POST/DELETE ?bulk-delete on the account.
awaitable<Response> bulk_delete(Env env, Request& req);
// StaticWeb: the GET/HEAD routes of containers and objects. A request
// without a token, or with X-Web-Mode: true, is served as the container's
// web site (index, listing, error pages, directory redirects); any other
// goes to the ordinary API handler.
awaitable<Response> staticweb_container(Env env, Request& req);
awaitable<Response> staticweb_object(Env env, Request& req);
// CORS: adds Access-Control-* headers to a response to a request with an
// Origin, from the container's X-Container-Meta-Access-Control-* settings.
void cors_decorate(const Request& req, const store::ContainerRecord* c, Response& res);

}  // namespace onestack::object::api
