// Legacy versioned writes (swift/common/middleware/versioned_writes/
// legacy.py): a container with X-Versions-Location (stack mode) or
// X-History-Location (history mode) keeps each overwritten object in
// another container under "%03x<name>/<timestamp>". A snapshot is one more
// row sharing the object's blob: no byte is copied. Also the dispatch of the
// versioning hooks and the row helpers both flavours use.
#include <ctime>

#include "object/api/features.h"
#include "object/api/versioning_names.h"
#include "object/api/versioning_rows.h"
#include "object/service/blob_io.h"

namespace onestack::object::api {

namespace versioning {

bool live(const store::ObjectRecord& o, int64_t now_unix) {
  return o.delete_at <= 0 || o.delete_at > now_unix;
}

awaitable<Result<std::optional<store::ObjectRecord>>> get_row(Env env, std::string account,
                                                              std::string container,
                                                              std::string name) {
  auto job = [&]() -> Result<std::optional<store::ObjectRecord>> {
    auto r = env.svc->store().get_object(account, container, name);
    if (r.ok()) return std::optional<store::ObjectRecord>(std::move(r).value());
    if (r.error().code == ErrorCode::kNotFound) return std::optional<store::ObjectRecord>{};
    return r.error();
  };
  co_return co_await env.svc->pool().run(job);
}

awaitable<Status> put_row(Env env, store::ObjectRecord o, bool shared) {
  o.held_bytes = held_bytes_of(o);
  store::PutConditions cond;
  cond.blob_shared = shared && !o.blob_id.empty();
  auto job = [&]() -> Status {
    auto r = env.svc->store().put_object(o, cond);
    if (!r.ok()) return r.error();
    env.svc->free_blobs(r->freed_blobs);
    return {};
  };
  co_return co_await env.svc->pool().run(job);
}

awaitable<Result<bool>> delete_row(Env env, std::string account, std::string container,
                                   std::string name) {
  auto job = [&]() -> Result<bool> {
    auto r = env.svc->store().delete_object(account, container, name, std::nullopt);
    if (r.ok()) {
      env.svc->free_blobs(r->freed_blobs);
      return true;
    }
    if (r.error().code == ErrorCode::kNotFound) return false;
    return r.error();
  };
  co_return co_await env.svc->pool().run(job);
}

awaitable<Result<std::vector<store::ObjectListEntry>>> list_rows(Env env, std::string account,
                                                                 std::string container,
                                                                 store::ListQuery q) {
  auto job = [&]() { return env.svc->store().list_objects(account, container, q); };
  co_return co_await env.svc->pool().run(job);
}

}  // namespace versioning

namespace {

using versioning::delete_row;
using versioning::get_row;
using versioning::list_rows;
using versioning::live;
using versioning::put_row;

enum class Mode { kNone, kStack, kHistory };

struct Legacy {
  Mode mode = Mode::kNone;
  std::string container;  // the versions (archive) container, decoded
};

Legacy legacy_of(const store::ContainerRecord& c) {
  Legacy l;
  for (auto [key, mode] : {std::pair{"x-versions-location", Mode::kStack},
                           std::pair{"x-history-location", Mode::kHistory}}) {
    auto it = c.meta.find(key);
    if (it == c.meta.end() || it->second.empty()) continue;
    std::string decoded;
    if (!http::percent_decode(it->second, &decoded)) decoded = it->second;
    // Swift keeps only the part before a slash (legacy.py object_request).
    l.container = decoded.substr(0, decoded.find('/'));
    l.mode = mode;
    return l;
  }
  return l;
}

// The caller must be allowed to write into the versions container (by its
// own write ACL), as legacy.py checks before touching it.
awaitable<Status> authorize_versions(Env env, Request& req, Target vt) {
  auto rows = co_await load_rows(
      env, vt, static_cast<int>(Want::kAccount) | static_cast<int>(Want::kContainer));
  if (!rows.ok()) co_return rows.error();
  auto access =
      authorize(env, req, vt, Op::kObjectWrite, rows->account ? &rows->account->meta : nullptr,
                rows->container ? &rows->container->meta : nullptr);
  if (!access.ok()) co_return access.error();
  co_return Status{};
}

// Client errors while versioning become 412, as legacy.py's
// _check_response_error answers (a missing versions container included).
Error versioning_failed(const Error& e) {
  if (e.code == ErrorCode::kNotFound || e.code == ErrorCode::kConflict ||
      e.code == ErrorCode::kInvalidArgument) {
    return make_error(ErrorCode::kPreconditionFailed, "");
  }
  // The client sees Swift's generic 503 body; the cause goes to the log.
  return make_error(ErrorCode::kUnavailable, "versioning failed: " + e.message);
}

// Copies `current` (a row of `t`) into the versions container as
// "%03x<name>/<its timestamp>", sharing its blob.
awaitable<Status> snapshot(Env env, Target t, std::string versions, store::ObjectRecord current) {
  store::ObjectRecord v = current;
  v.container = versions;
  v.name = legacy_version_name(t.object, current.timestamp_us);
  v.timestamp_us = env.svc->clock().now_us();
  auto st = co_await put_row(env, v, true);
  // kConflict: the blob lost its last row meanwhile (the object was
  // deleted): nothing is left to keep.
  if (!st.ok() && st.error().code == ErrorCode::kConflict && !current.blob_id.empty()) {
    co_return Status{};
  }
  if (!st.ok()) co_return versioning_failed(st.error());
  co_return Status{};
}

awaitable<Status> legacy_before_overwrite(Env env, Request& req, Target t, Legacy l,
                                          std::optional<store::ObjectRecord> current) {
  // Arguments of a co_await call are named first: g++ 12 destroys a
  // temporary of a co_await expression twice.
  Target vt{t.account, l.container, ""};
  auto auth = co_await authorize_versions(env, req, vt);
  if (!auth.ok()) co_return auth.error();
  if (!current || !live(*current, env.svc->clock().now_unix())) co_return Status{};
  co_return co_await snapshot(env, t, l.container, *current);
}

// Puts version row `v` back in the object's place (sharing its blob).
// false when the version vanished meanwhile.
awaitable<Result<bool>> restore(Env env, Target t, store::ObjectRecord v) {
  auto row = co_await get_row(env, v.account, v.container, v.name);
  if (!row.ok()) co_return versioning_failed(row.error());
  if (!*row) co_return false;
  store::ObjectRecord o = std::move(**row);
  o.container = t.container;
  o.name = t.object;
  o.timestamp_us = env.svc->clock().now_us();
  auto st = co_await put_row(env, o, true);
  if (!st.ok() && st.error().code == ErrorCode::kConflict) co_return false;
  if (!st.ok()) co_return versioning_failed(st.error());
  co_return true;
}

Response deleted(const Request& req, bool existed) {
  if (!existed) return error_for(req, make_error(ErrorCode::kNotFound, ""));
  return empty_response(req, bhttp::status::no_content);
}

// Stack mode (legacy.py handle_obj_versions_delete_pop): the newest version
// takes the object's place and leaves the versions container; with no
// version the object is simply deleted.
awaitable<std::optional<Response>> delete_pop(Env env, Request& req, Target t, Legacy l) {
  store::ListQuery q;
  q.prefix = legacy_version_prefix(t.object);
  q.reverse = true;
  q.limit = 100;
  auto listed = co_await list_rows(env, t.account, l.container, q);
  if (!listed.ok()) {
    if (listed.error().code == ErrorCode::kNotFound) co_return std::nullopt;
    co_return error_for(req, versioning_failed(listed.error()));
  }
  std::vector<store::ObjectRecord> versions;
  for (auto& e : *listed) {
    if (e.subdir.empty()) versions.push_back(std::move(e.object));
  }
  if (versions.empty()) co_return std::nullopt;
  Target vt{t.account, l.container, ""};
  auto auth = co_await authorize_versions(env, req, vt);
  if (!auth.ok()) co_return error_for(req, auth.error());

  for (size_t i = 0; i < versions.size(); ++i) {
    const store::ObjectRecord& prev = versions[i];
    if (prev.content_type == kDeleteMarkerType) {
      // History-mode leftovers: a delete marker on top.
      auto cur = co_await get_row(env, t.account, t.container, t.object);
      if (!cur.ok()) co_return error_for(req, cur.error());
      // The object exists again: delete it and keep the marker.
      if (*cur && live(**cur, env.svc->clock().now_unix())) co_return std::nullopt;
      for (size_t j = i + 1; j < versions.size(); ++j) {
        if (versions[j].content_type == kDeleteMarkerType) break;
        auto ok = co_await restore(env, t, versions[j]);
        if (!ok.ok()) co_return error_for(req, ok.error());
        if (!*ok) continue;
        auto del = co_await delete_row(env, t.account, l.container, versions[j].name);
        if (!del.ok()) co_return error_for(req, versioning_failed(del.error()));
        break;
      }
      // The DELETE lands on the marker.
      auto del = co_await delete_row(env, t.account, l.container, prev.name);
      if (!del.ok()) co_return error_for(req, del.error());
      co_return deleted(req, *del);
    }
    auto ok = co_await restore(env, t, prev);
    if (!ok.ok()) co_return error_for(req, ok.error());
    if (!*ok) continue;
    // The original DELETE is redirected to the version just reinstated.
    auto del = co_await delete_row(env, t.account, l.container, prev.name);
    if (!del.ok()) co_return error_for(req, del.error());
    co_return deleted(req, *del);
  }
  co_return std::nullopt;
}

// History mode (legacy.py handle_obj_versions_delete_push): the current
// object goes to the archive, followed by a delete marker, then it is deleted.
awaitable<std::optional<Response>> delete_push(Env env, Request& req, Target t, Legacy l) {
  auto cur = co_await get_row(env, t.account, t.container, t.object);
  if (!cur.ok()) co_return error_for(req, cur.error());
  auto st = co_await legacy_before_overwrite(env, req, t, l, *cur);
  if (!st.ok()) co_return error_for(req, st.error());
  store::ObjectRecord marker;
  marker.account = t.account;
  marker.container = l.container;
  marker.timestamp_us = env.svc->clock().now_us();
  marker.name = legacy_version_name(t.object, marker.timestamp_us);
  marker.etag = md5_hex("");
  marker.content_type = std::string(kDeleteMarkerType);
  auto put = co_await put_row(env, marker, false);
  if (!put.ok()) co_return error_for(req, versioning_failed(put.error()));
  auto del = co_await delete_row(env, t.account, t.container, t.object);
  if (!del.ok()) co_return error_for(req, del.error());
  co_return deleted(req, *del && live(**cur, env.svc->clock().now_unix()));
}

// Whether object versioning (rather than legacy versioning) handles the
// request: the container has it, or a version is named.
bool object_versioning(const Request& req, const store::ContainerRecord& c) {
  auto v = req.query.get("version-id");
  return (v && !v->empty()) || versioning::ov_configured(c);
}

}  // namespace

bool versions_objects(const Request& req, const store::ContainerRecord& container) {
  return object_versioning(req, container) || legacy_of(container).mode != Mode::kNone;
}

awaitable<Status> version_before_overwrite(Env env, Request& req, Target t,
                                           store::ContainerRecord container,
                                           std::optional<store::ObjectRecord> current,
                                           store::ObjectRecord* incoming,
                                           store::PutConditions* cond) {
  if (object_versioning(req, container)) {
    co_return co_await versioning::ov_before_overwrite(env, req, t, std::move(container),
                                                       std::move(current), incoming, cond);
  }
  incoming->meta.erase("x-object-version-id");
  Legacy l = legacy_of(container);
  if (l.mode == Mode::kNone) co_return Status{};
  co_return co_await legacy_before_overwrite(env, req, t, l, std::move(current));
}

awaitable<std::optional<Response>> version_delete(Env env, Request& req, Target t,
                                                  store::ContainerRecord container) {
  if (object_versioning(req, container)) {
    co_return co_await versioning::ov_delete(env, req, t, std::move(container));
  }
  Legacy l = legacy_of(container);
  if (l.mode == Mode::kStack) co_return co_await delete_pop(env, req, t, l);
  if (l.mode == Mode::kHistory) co_return co_await delete_push(env, req, t, l);
  co_return std::nullopt;
}

}  // namespace onestack::object::api
