// Object versioning (swift/common/middleware/versioned_writes/
// object_versioning.py): a container with X-Versions-Enabled keeps every
// version of every object in a hidden container, "\x00versions\x00<name>",
// as rows named "\x00<object>\x00<inverted timestamp>" (newest first). Its
// NUL-prefixed names are unreachable from the API: check_names refuses NUL
// and account listings skip them.
//
// Swift makes the visible object a static symlink to its newest version.
// Here the visible row holds the data itself, sharing its blob with its
// version row, and carries the version id as "x-object-version-id" (served
// as the X-Object-Version-Id header); a row without it is the "null"
// version written while versioning was off.
#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "core/json.h"
#include "object/api/features.h"
#include "object/api/listing.h"
#include "object/api/middleware.h"
#include "object/api/py_format.h"
#include "object/api/range.h"
#include "object/api/versioning_names.h"
#include "object/api/versioning_rows.h"
#include "object/service/blob_io.h"

namespace onestack::object::api {

namespace versioning {

bool ov_configured(const store::ContainerRecord& c) {
  // Swift's "versions-container" sysmeta: set the first time versioning is
  // turned on, kept when it is turned off. A container created with
  // X-Versions-Enabled: false never has one.
  if (c.meta.count(std::string(kVersionsContainerSysmeta))) return true;
  auto it = c.meta.find("x-versions-enabled");
  return it != c.meta.end() && truthy(it->second);
}

namespace {

constexpr const char* kVersionKey = "x-object-version-id";

bool ov_enabled(const store::ContainerRecord& c) {
  auto it = c.meta.find("x-versions-enabled");
  return it != c.meta.end() && truthy(it->second);
}

Error no_versions_container() {
  return make_plain_error(ErrorCode::kInternal,
                          "The versions container does not exist. You may want to re-enable object "
                          "versioning.");
}

// ?version-id=: "null" or a Swift timestamp. Absent (or empty, which Swift
// ignores): nullopt.
struct VersionParam {
  bool null = false;
  int64_t us = 0;
  std::string id;
};

Result<std::optional<VersionParam>> version_param(const Request& req,
                                                  const store::ContainerRecord& c) {
  auto v = req.query.get("version-id");
  if (!v || v->empty()) return std::optional<VersionParam>{};
  VersionParam p;
  if (*v == "null") {
    p.null = true;
    p.id = "null";
    return std::optional<VersionParam>(p);
  }
  if (!ov_configured(c)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "version-aware operations require that the container is versioned");
  }
  auto us = parse_swift_timestamp(*v);
  if (!us) return make_error(ErrorCode::kInvalidArgument, "Invalid version parameter");
  p.us = *us;
  p.id = swift_timestamp(*us);
  return std::optional<VersionParam>(p);
}

// ?symlink=get of a versioned object: Swift's visible object is a static
// link to its version, shown as the link (no body, the target's etag and
// bytes, the target named by its version-id).
void show_version_link(store::ObjectRecord& o, const Target& t) {
  for (const char* k : {"x-static-large-object", "x-object-manifest", "x-symlink-target-account"}) {
    o.meta.erase(k);
  }
  o.meta["x-symlink-target"] = t.container + "/" + t.object;
  o.meta[std::string(kVersionsLinkSysmeta)] = o.meta[kVersionKey];
  o.meta["x-symlink-target-etag"] = o.etag;
  o.meta["x-symlink-target-bytes"] = std::to_string(o.size);
  o.etag = md5_hex("");
  o.size = 0;
  o.blob_id.clear();
}

// The version id a visible row carries, "null" when none.
std::string version_of(const store::ObjectRecord& o) {
  auto it = o.meta.find(kVersionKey);
  return it == o.meta.end() ? "null" : it->second;
}

// Writes (or refreshes) the version row of `cur`, the visible row of `t`:
// a null version becomes a version named by its X-Timestamp and written now
// (Swift copies it into the versions container as a new object); a
// versioned row refreshes its version row with metadata a POST may have
// changed since.
awaitable<Status> keep_current(Env env, Target t, store::ObjectRecord cur) {
  store::ObjectRecord v = cur;
  int64_t us = shown_timestamp_us(cur);
  if (auto it = cur.meta.find(kVersionKey); it != cur.meta.end()) {
    if (auto p = parse_swift_timestamp(it->second)) us = *p;
  } else {
    v.timestamp_us = env.svc->clock().now_us();
    v.meta.erase(kMetaTimestampSysmeta);
    v.meta.erase(kDataTimestampSysmeta);
  }
  v.container = versions_container_name(t.container);
  v.name = version_object_name(t.object, us);
  v.delete_at = 0;
  v.meta[kVersionKey] = swift_timestamp(us);
  auto st = co_await put_row(env, v, true);
  if (st.ok()) co_return Status{};
  // The blob lost its last row meanwhile (a concurrent delete).
  if (st.error().code == ErrorCode::kConflict && !cur.blob_id.empty()) co_return Status{};
  if (st.error().code == ErrorCode::kNotFound) co_return no_versions_container();
  co_return st;
}

// PUT ?version-id=: the version becomes the visible object again.
awaitable<Status> put_version(Env env, Target t, store::ContainerRecord c,
                              std::optional<store::ObjectRecord> current, VersionParam p,
                              store::ObjectRecord* incoming, store::PutConditions* cond) {
  if (p.null) {
    co_return make_error(ErrorCode::kInvalidArgument, "Invalid version parameter");
  }
  if (incoming->size != 0) {
    co_return make_plain_error(ErrorCode::kInvalidArgument,
                               "PUT version-id requests require a zero byte body");
  }
  std::string hidden = versions_container_name(t.container);
  // Arguments of a co_await call are named first: g++ 12 destroys a
  // temporary of a co_await expression twice.
  std::string name = version_object_name(t.object, p.us);
  auto row = co_await get_row(env, t.account, hidden, name);
  if (!row.ok()) co_return row.error();
  if (!*row || (*row)->content_type == kDeleteMarkerType) {
    auto job = [&]() { return env.svc->store().get_container(t.account, hidden); };
    auto hc = co_await env.svc->pool().run(job);
    if (!hc.ok() && hc.error().code == ErrorCode::kNotFound) co_return no_versions_container();
    co_return make_plain_error(ErrorCode::kNotFound, "The specified version does not exist");
  }
  if (current && live(*current, env.svc->clock().now_unix()) && version_of(*current) != p.id &&
      (ov_enabled(c) || current->meta.count(kVersionKey))) {
    auto st = co_await keep_current(env, t, *current);
    if (!st.ok()) co_return st;
  }
  store::ObjectRecord o = std::move(**row);
  o.container = t.container;
  o.name = t.object;
  o.meta[kDataTimestampSysmeta] = std::to_string(shown_timestamp_us(o));
  o.timestamp_us = env.svc->clock().now_us();
  o.delete_at = 0;
  o.meta[kVersionKey] = p.id;
  *incoming = std::move(o);
  cond->blob_shared = !incoming->blob_id.empty();
  co_return Status{};
}

Response with_versions(Response r, std::string_view version, std::optional<std::string> current) {
  r.headers.set("X-Object-Version-Id", version);
  if (current) r.headers.set("X-Object-Current-Version-Id", *current);
  return r;
}

// DELETE ?version-id=<id>: removes that version only; when it is the
// visible one, the visible object goes too (no delete marker is written).
awaitable<Response> delete_version(Env env, Request& req, Target t, VersionParam p) {
  auto cur = co_await get_row(env, t.account, t.container, t.object);
  if (!cur.ok()) co_return error_for(req, cur.error());
  std::string current = *cur ? version_of(**cur) : "null";
  if (*cur && current == p.id) {
    auto del = co_await delete_row(env, t.account, t.container, t.object);
    if (!del.ok()) co_return error_for(req, del.error());
    current = "null";
  }
  std::string hidden = versions_container_name(t.container);
  std::string name = version_object_name(t.object, p.us);
  auto del = co_await delete_row(env, t.account, hidden, name);
  if (!del.ok()) co_return error_for(req, del.error());
  Response r = *del ? empty_response(req, bhttp::status::no_content)
                    : error_for(req, make_error(ErrorCode::kNotFound, ""));
  co_return with_versions(std::move(r), p.id, current);
}

}  // namespace

awaitable<Status> ov_before_overwrite(Env env, Request& req, Target t,
                                      store::ContainerRecord container,
                                      std::optional<store::ObjectRecord> current,
                                      store::ObjectRecord* incoming, store::PutConditions* cond) {
  incoming->meta.erase(kVersionKey);
  auto vp = version_param(req, container);
  if (!vp.ok()) co_return vp.error();
  if (*vp) {
    co_return co_await put_version(env, t, std::move(container), std::move(current), **vp, incoming,
                                   cond);
  }
  if (!ov_enabled(container)) co_return Status{};
  if (current && live(*current, env.svc->clock().now_unix())) {
    auto st = co_await keep_current(env, t, *current);
    if (!st.ok()) co_return st;
  }
  // The new data is a version of its own, written first (as Swift writes
  // the version before the link to it).
  incoming->timestamp_us -= incoming->timestamp_us % 10;
  std::string id = swift_timestamp(incoming->timestamp_us);
  store::ObjectRecord v = *incoming;
  v.container = versions_container_name(t.container);
  v.name = version_object_name(t.object, incoming->timestamp_us);
  v.delete_at = 0;
  v.meta[kVersionKey] = id;
  auto st = co_await put_row(env, v, cond->blob_shared);
  if (!st.ok()) {
    if (st.error().code == ErrorCode::kNotFound) co_return no_versions_container();
    // A copy whose source vanished between its read and this write.
    if (st.error().code == ErrorCode::kConflict) co_return make_error(ErrorCode::kNotFound, "");
    co_return st;
  }
  incoming->meta[kVersionKey] = id;
  cond->blob_shared = !incoming->blob_id.empty();
  co_return Status{};
}

awaitable<std::optional<Response>> ov_delete(Env env, Request& req, Target t,
                                             store::ContainerRecord container) {
  auto vp = version_param(req, container);
  if (!vp.ok()) co_return error_for(req, vp.error());
  if (*vp) {
    // version-id=null goes straight to the visible object (Swift lets the
    // request through unchanged).
    if ((*vp)->null) co_return std::nullopt;
    co_return co_await delete_version(env, req, t, **vp);
  }
  if (!ov_enabled(container)) co_return std::nullopt;
  auto cur = co_await get_row(env, t.account, t.container, t.object);
  if (!cur.ok()) co_return error_for(req, cur.error());
  bool existed = *cur && live(**cur, env.svc->clock().now_unix());
  if (existed) {
    auto st = co_await keep_current(env, t, **cur);
    if (!st.ok()) co_return error_for(req, st.error());
  }
  int64_t ts = env.svc->clock().now_us();
  ts -= ts % 10;
  store::ObjectRecord marker;
  marker.account = t.account;
  marker.container = versions_container_name(t.container);
  marker.name = version_object_name(t.object, ts);
  marker.timestamp_us = ts;
  marker.etag = md5_hex("");
  marker.content_type = std::string(kDeleteMarkerType);
  marker.meta[kVersionKey] = swift_timestamp(ts);
  auto put = co_await put_row(env, marker, false);
  if (!put.ok()) {
    co_return error_for(req, put.error().code == ErrorCode::kNotFound
                                 ? make_error(ErrorCode::kPreconditionFailed, "")
                                 : put.error());
  }
  if (*cur) {
    auto del = co_await delete_row(env, t.account, t.container, t.object);
    if (!del.ok()) co_return error_for(req, del.error());
  }
  Response r = existed ? empty_response(req, bhttp::status::no_content)
                       : error_for(req, make_error(ErrorCode::kNotFound, ""));
  co_return with_versions(std::move(r), swift_timestamp(ts), std::nullopt);
}

}  // namespace versioning

using versioning::get_row;
using versioning::live;
using versioning::ov_configured;

awaitable<std::optional<Response>> version_read(Env env, Request& req, Target t, Rows* rows) {
  if (!rows->container) co_return std::nullopt;
  auto vp = versioning::version_param(req, *rows->container);
  if (!vp.ok()) co_return error_for(req, vp.error());
  auto& cur = rows->object;
  const char* key = versioning::kVersionKey;
  if (!*vp) {
    // object_versioning's plain GET/HEAD: every answer names a version, the
    // null one unless the current object is a version, which is then also
    // named by Content-Location.
    if (!ov_configured(*rows->container)) co_return std::nullopt;
    if (!cur || !live(*cur, env.svc->clock().now_unix())) {
      if (if_match_any(req)) co_return std::nullopt;
      Response r = error_for(req, make_error(ErrorCode::kNotFound, ""));
      r.headers.set("X-Object-Version-Id", "null");
      co_return r;
    }
    if (!cur->meta.count(key)) {
      cur->meta[key] = "null";
    } else if (req.query.get("symlink") == "get") {
      versioning::show_version_link(*cur, t);
    } else {
      cur->meta["content-location"] =
          py_quote("/v1/" + t.account + "/" + t.container + "/" + t.object) +
          "?version-id=" + cur->meta[key];
    }
    co_return std::nullopt;
  }
  const versioning::VersionParam& p = **vp;
  if (!p.null) {
    // Swift reads a version by id from the hidden container, which has no
    // ACLs: the caller must be allowed there without them.
    Target hidden{t.account, versions_container_name(t.container), t.object};
    auto access = authorize(env, req, hidden, Op::kObjectRead,
                            rows->account ? &rows->account->meta : nullptr, nullptr);
    if (!access.ok()) co_return error_for(req, access.error());
  }
  if (p.null) {
    // Asked for the null version: the visible row, unless it is a version.
    if (cur && cur->meta.count(key)) {
      cur.reset();
    } else if (cur) {
      cur->meta[key] = "null";
    }
    co_return std::nullopt;
  }
  if (cur && versioning::version_of(*cur) == p.id) co_return std::nullopt;
  std::string hidden = versions_container_name(t.container);
  std::string name = version_object_name(t.object, p.us);
  auto row = co_await get_row(env, t.account, hidden, name);
  if (!row.ok()) co_return error_for(req, row.error());
  if (*row && (*row)->content_type == kDeleteMarkerType) {
    Response r = error_for(req, make_error(ErrorCode::kNotFound, ""));
    r.headers.set("X-Object-Version-Id", p.id);
    r.headers.set(bhttp::field::content_type, kDeleteMarkerType);
    co_return r;
  }
  cur = std::move(*row);
  co_return std::nullopt;
}

namespace {

// One item of a ?versions listing.
struct VersionItem {
  std::string key;  // name, or subdir
  bool subdir = false;
  store::ObjectRecord object;
  std::string version_id;
  bool is_latest = false;
};

boost::json::object render_version(const VersionItem& v) {
  if (v.subdir) return boost::json::object{{"subdir", v.key}};
  const auto& o = v.object;
  // The container server's record (bytes, hash, name, content_type,
  // last_modified, then symlink.py's symlink_path), then
  // object_versioning.py's is_latest and version_id.
  boost::json::object j{{"bytes", o.size},
                        {"hash", o.etag},
                        {"name", v.key},
                        {"content_type", listed_content_type(o.content_type)},
                        // The row's meta timestamp: a POST moves it.
                        {"last_modified", iso_timestamp(shown_timestamp_us(o))}};
  if (auto it = o.meta.find("x-symlink-target"); it != o.meta.end()) {
    std::string acct = o.account;
    if (auto a = o.meta.find("x-symlink-target-account"); a != o.meta.end()) acct = a->second;
    j["symlink_path"] = "/v1/" + acct + "/" + it->second;
  }
  j["is_latest"] = v.is_latest;
  j["version_id"] = v.version_id;
  return j;
}

}  // namespace

awaitable<Result<std::string>> versions_listing(Env env, Request& req, Target t,
                                                store::ContainerRecord c) {
  (void)c;
  auto q = listing_query(req, env.svc->limits().container_listing_limit);
  if (!q.ok()) co_return q.error();
  // Version ids are made of digits and dots: a delimiter may not be one.
  if (q->delimiter.find_first_of("0123456789.") != std::string::npos) {
    co_return make_error(ErrorCode::kInvalidArgument, "invalid delimiter param");
  }
  store::ListQuery hq;
  hq.prefix = std::string(1, '\0') + q->prefix;
  hq.delimiter = q->delimiter;
  hq.limit = q->limit;
  hq.reverse = q->reverse;
  // No end_marker for the versions (object_versioning.py: "no end_marker
  // support (yet)"); the visible rows' listing takes it.
  auto vm = req.query.get("version_marker");
  if (!q->marker.empty()) {
    if (!vm) {
      hq.marker = version_object_prefix(q->marker) + ":";  // past all of its versions
    } else if (*vm == "null") {
      // Swift passes the marker on unchanged: past every (reserved) version
      // name, or before all of them in reverse.
      hq.marker = q->marker;
    } else {
      auto us = parse_swift_timestamp(*vm);
      if (!us) co_return make_error(ErrorCode::kInvalidArgument, "invalid version_marker param");
      hq.marker = version_object_name(q->marker, *us);
    }
  } else if (vm) {
    co_return make_error(ErrorCode::kInvalidArgument, "version_marker param requires marker");
  }

  auto primary = co_await versioning::list_rows(env, t.account, t.container, *q);
  if (!primary.ok()) co_return primary.error();
  std::string hidden_name = versions_container_name(t.container);
  auto hidden = co_await versioning::list_rows(env, t.account, hidden_name, hq);
  if (!hidden.ok() && hidden.error().code != ErrorCode::kNotFound) co_return hidden.error();

  // Swift's order: null versions, versions, subdirs; a stable sort by name
  // then keeps, for each name, the null version first and the versions
  // newest first. As in Swift, only the visible rows of this page (after
  // the marker) mark a version the latest, and a visible row whose version
  // is not on the versions' page is not listed (object_versioning.py's
  // "broken" entries never match: it splits their path the wrong way).
  std::vector<VersionItem> nulls, versions, subdirs;
  std::set<std::string> subdir_seen, latest_seen;
  std::map<std::string, store::ObjectRecord> visible;  // name -> visible row
  for (const auto& e : *primary) {
    if (!e.subdir.empty()) {
      if (subdir_seen.insert(e.subdir).second) subdirs.push_back({e.subdir, true, {}, "", false});
      continue;
    }
    visible[e.object.name] = e.object;
    if (e.object.meta.count(versioning::kVersionKey)) continue;
    nulls.push_back({e.object.name, false, e.object, "null", true});
    latest_seen.insert(e.object.name);
  }
  std::vector<std::pair<std::string, int64_t>> names;  // of the version rows, in order
  if (hidden.ok()) {
    for (const auto& e : *hidden) {
      if (!e.subdir.empty()) continue;
      if (auto split = split_version_object_name(e.object.name)) names.push_back(*split);
    }
  }
  if (hidden.ok()) {
    size_t i = 0;
    for (auto& e : *hidden) {
      if (!e.subdir.empty()) {
        std::string s = e.subdir.substr(1);
        if (subdir_seen.insert(s).second) subdirs.push_back({s, true, {}, "", false});
        continue;
      }
      if (!split_version_object_name(e.object.name)) continue;
      const auto& [name, us] = names[i++];
      VersionItem v{name, false, std::move(e.object), swift_timestamp(us), false};
      auto vis = visible.find(v.key);
      if (vis != visible.end() && versioning::version_of(vis->second) == v.version_id) {
        // The visible row has the newest metadata of its version.
        v.object = vis->second;
        v.is_latest = true;
        latest_seen.insert(v.key);
      } else if (v.object.content_type == kDeleteMarkerType && !latest_seen.count(v.key)) {
        v.is_latest = true;
        latest_seen.insert(v.key);
      }
      versions.push_back(std::move(v));
    }
  }
  std::vector<VersionItem> all;
  for (auto* part : {&nulls, &versions, &subdirs}) {
    for (auto& v : *part) all.push_back(std::move(v));
  }
  bool reverse = q->reverse;
  std::stable_sort(all.begin(), all.end(), [reverse](const VersionItem& a, const VersionItem& b) {
    return reverse ? b.key < a.key : a.key < b.key;
  });
  if (all.size() > q->limit) all.resize(q->limit);
  boost::json::array arr;
  for (const auto& v : all) arr.push_back(render_version(v));
  co_return py_json(arr);
}

awaitable<Status> versioning_container_update(Env env, Request& req, Target t,
                                              std::optional<store::ContainerRecord> current,
                                              store::Metadata* updates) {
  // Legacy versioning keeps one location: setting one mode clears the
  // other, and an empty value (or X-Remove-*) clears both (legacy.py).
  auto vl = updates->find("x-versions-location");
  auto hl = updates->find("x-history-location");
  bool v_set = vl != updates->end() && !vl->second.empty();
  bool h_set = hl != updates->end() && !hl->second.empty();
  if (v_set) {
    (*updates)["x-history-location"] = "";
  } else if (h_set) {
    (*updates)["x-versions-location"] = "";
  } else if (vl != updates->end() || hl != updates->end()) {
    (*updates)["x-versions-location"] = "";
    (*updates)["x-history-location"] = "";
  }

  auto it = updates->find("x-versions-enabled");
  if (it == updates->end()) co_return Status{};
  if (!req.has_header("X-Versions-Enabled")) {
    // X-Remove-Versions-Enabled: Swift has no such thing; once configured,
    // a container stays configured.
    updates->erase(it);
    co_return Status{};
  }
  bool on = truthy(it->second);
  it->second = on ? "True" : "False";
  if (!on) co_return Status{};
  store::Metadata merged = current ? current->meta : store::Metadata{};
  merge_metadata(merged, *updates);
  for (const char* k : {"x-versions-location", "x-history-location"}) {
    if (merged.count(k)) {
      co_return make_error(ErrorCode::kInvalidArgument,
                           "Cannot enable object versioning on a container that is already using "
                           "the legacy versioned writes feature.");
    }
  }
  if (merged.count("x-container-sync-to")) {
    co_return make_error(ErrorCode::kInvalidArgument,
                         "Cannot enable object versioning on a container configured as source of "
                         "container syncing.");
  }
  store::ContainerRecord h;
  h.account = t.account;
  h.name = versions_container_name(t.container);
  h.created_us = h.put_us = env.svc->clock().now_us();
  h.storage_policy = current ? current->storage_policy : env.svc->config().storage_policy;
  auto job = [&]() { return env.svc->store().create_container(h); };
  auto created = co_await env.svc->pool().run(job);
  if (!created.ok()) {
    co_return make_error(ErrorCode::kInternal, "Error enabling object versioning");
  }
  (*updates)[std::string(kVersionsContainerSysmeta)] = "1";
  co_return Status{};
}

awaitable<Status> versioning_container_delete(Env env, Request& req, Target t) {
  (void)req;
  std::string hidden = versions_container_name(t.container);
  auto job = [&]() -> Status {
    auto& st = env.svc->store();
    auto h = st.get_container(t.account, hidden);
    if (!h.ok()) return h.error().code == ErrorCode::kNotFound ? Status{} : Status(h.error());
    if (h->object_count > 0) {
      return make_error(ErrorCode::kConflict, "Delete all versions before deleting container.");
    }
    // Only when the container itself can go, so that a refused DELETE
    // leaves versioning working.
    auto c = st.get_container(t.account, t.container);
    if (c.ok() && c->object_count > 0) return {};
    auto d = st.delete_container(t.account, hidden);
    if (!d.ok() && d.error().code != ErrorCode::kNotFound) return d;
    return {};
  };
  co_return co_await env.svc->pool().run(job);
}

void hide_reserved_names(store::ListQuery& q) {
  // Every reserved name starts with NUL, and no other name does: listing
  // from just past "\x00\xff" skips them all.
  static const std::string kPastReserved("\x00\xff", 2);
  std::string& lower = q.reverse ? q.end_marker : q.marker;
  if (lower < kPastReserved) lower = kPastReserved;
}

}  // namespace onestack::object::api
