// Large objects, the write side: PUT ?multipart-manifest=put (an SLO
// manifest checked against its segments, then stored) and DELETE
// ?multipart-manifest=delete (the segments, nested manifests' segments, and
// the manifest), answering as Swift's slo and bulk middlewares do.
#include <deque>
#include <map>

#include "object/api/bulk_reply.h"
#include "object/api/features.h"
#include "object/api/large_object.h"
#include "object/api/listing.h"
#include "object/api/middleware.h"
#include "object/api/object_helpers.h"
#include "object/api/object_request.h"

namespace onestack::object::api {

namespace {

bool is_slo(const store::ObjectRecord& o) { return o.meta.count("x-static-large-object") > 0; }

// Swift's status line for an error, as bulk responses list them.
std::string error_status_line(ErrorCode c) {
  return status_line(static_cast<unsigned>(swift_status(c)));
}

// The whole request body, at most `max` bytes (kTooLarge past that).
awaitable<Result<std::string>> read_body(Request& req, size_t max) {
  if (!req.body_reader) {
    if (req.body.size() > max) co_return make_error(ErrorCode::kTooLarge, "");
    co_return req.body;
  }
  std::string out, buf(64 * 1024, '\0');
  for (;;) {
    auto n = co_await req.body_reader->read(buf.data(), buf.size());
    if (!n.ok()) co_return n.error();
    if (*n == 0) break;
    if (out.size() + *n > max) co_return make_error(ErrorCode::kTooLarge, "");
    out.append(buf.data(), *n);
  }
  co_return out;
}

// swob's answer to an HTTPException raised with a body and no type.
Response text_error(const Request& req, bhttp::status status, std::string body,
                    std::string_view type = "text/html; charset=UTF-8") {
  Response r = error_for(req, make_error(ErrorCode::kInvalidArgument, ""));
  r.status = status;
  r.body = std::move(body);
  r.headers.set(bhttp::field::content_type, type);
  return r;
}

// HEADs the distinct segments of a manifest PUT (keyed "container/object").
std::map<std::string, SegmentHead> head_segments(const Env& env, const Request& req,
                                                 const std::string& account,
                                                 const std::vector<SegmentSpec>& specs) {
  std::map<std::string, SegmentHead> heads;
  AccessCache access(env, req, account);
  for (const auto& s : specs) {
    if (s.is_data) continue;
    std::string key = s.container + "/" + s.object;
    if (heads.count(key)) continue;
    SegmentHead& h = heads[key];
    if (auto st = access.may(s.container, Op::kObjectRead); !st.ok()) {
      h.status = error_status_line(st.error().code);
      continue;
    }
    auto row = env.svc->store().get_object(account, s.container, s.object);
    if (!row.ok() || expired(*row, env.svc->clock().now_unix())) {
      h.status = error_status_line(row.ok() ? ErrorCode::kNotFound : row.error().code);
      continue;
    }
    h.size = row->size;
    h.etag = row->etag;
    h.content_type = row->content_type;
    h.timestamp_us = row->timestamp_us;
    h.slo = is_slo(*row);
  }
  return heads;
}

// Deletes the segments of the manifest `name` ("/c/o"), recursively, then
// the manifest, as slo.py's get_segments_to_delete_iter feeds bulk's
// handle_delete_iter. Blocking.
BulkOutcome delete_manifest_tree(const Env& env, const Request& req, const std::string& account,
                                 const std::string& name) {
  const Limits& limits = env.svc->limits();
  struct Item {
    std::string name;
    bool sub_slo = false;
    std::optional<Error> error;  // why its manifest could not be read
  };
  BulkOutcome out = delete_outcome();
  uint64_t& deleted = out.count("Number Deleted");
  uint64_t& not_found = out.count("Number Not Found");
  unsigned failed_status = 400;
  AccessCache access(env, req, account);
  std::vector<std::string> freed;
  std::deque<Item> queue{{name, true, std::nullopt}};
  while (!queue.empty()) {
    if (queue.size() > limits.max_manifest_segments * 10) {
      out.set_status(400, "Too many buffered slo segments to delete.");
      break;
    }
    Item item = std::move(queue.front());
    queue.pop_front();
    std::string c, o;
    bool named = split_segment_name(item.name, &c, &o);
    if (item.sub_slo) {
      // Read the nested manifest, queue its segments, and the manifest
      // itself after them.
      Result<std::vector<StoredSegment>> segs = make_error(ErrorCode::kInternal, "");
      if (!named) {
        segs = make_error(ErrorCode::kInvalidArgument, "Not an SLO manifest");
      } else if (auto st = access.may(c, Op::kObjectRead); !st.ok()) {
        segs = st.error().code == ErrorCode::kUnauthenticated
                   ? make_error(ErrorCode::kUnauthenticated, "401 Unauthorized")
                   : make_error(ErrorCode::kInternal, "Unable to load SLO manifest or segment.");
      } else if (auto row = env.svc->store().get_object(account, c, o);
                 !row.ok() || expired(*row, env.svc->clock().now_unix())) {
        segs = !row.ok() && row.error().code != ErrorCode::kNotFound
                   ? make_error(ErrorCode::kInternal, "Unable to load SLO manifest or segment.")
                   : make_error(ErrorCode::kNotFound, "SLO manifest not found");
      } else if (!is_slo(*row)) {
        segs = make_error(ErrorCode::kInvalidArgument, "Not an SLO manifest");
      } else {
        segs = load_manifest(*env.svc, *row);
      }
      if (segs.ok()) {
        for (const auto& s : *segs) {
          if (!s.is_data) queue.push_back({s.name, s.sub_slo, std::nullopt});
        }
      } else {
        item.error = segs.error();
      }
      item.sub_slo = false;
      queue.push_back(std::move(item));
      continue;
    }
    std::string quoted = py_quote(item.name);
    if (item.error) {
      if (item.error->code == ErrorCode::kNotFound) {
        ++not_found;
      } else {
        out.failed.emplace_back(quoted, item.error->message);
      }
    } else if (!named) {
      out.failed.emplace_back(quoted, status_line(400));
    } else if (auto st = access.may(c, Op::kObjectWrite); !st.ok()) {
      out.failed.emplace_back(quoted, error_status_line(st.error().code));
    } else {
      auto r = env.svc->store().delete_object(account, c, o, std::nullopt);
      if (r.ok()) {
        freed.insert(freed.end(), r->freed_blobs.begin(), r->freed_blobs.end());
        if (expired(r->previous, env.svc->clock().now_unix())) {
          ++not_found;
        } else {
          ++deleted;
        }
      } else if (r.error().code == ErrorCode::kNotFound) {
        ++not_found;
      } else {
        out.failed.emplace_back(quoted, error_status_line(r.error().code));
        failed_status = 502;
      }
    }
    if (out.failed.size() >= limits.max_failed_deletes) {
      out.set_status(400, "Max delete failures exceeded");
      break;
    }
  }
  env.svc->free_blobs(freed);
  if (out.fields[1].text.empty()) {
    if (!out.failed.empty()) {
      out.set_status(failed_status, "");
    } else if (deleted == 0 && not_found == 0) {
      out.set_status(400, "Invalid bulk delete.");
    }
  }
  return out;
}

// What storing a checked manifest came to: the answer a PUT without
// heartbeat gives, and the segments that failed their checks (400).
struct StoreOutcome {
  Response response;
  std::vector<std::pair<std::string, std::string>> problems;
};

// slo.py's resp_iter after the body is parsed: HEAD the segments, check
// them, and store the manifest. With heartbeat=on this runs while the
// client hears heartbeats, so it owns its request.
awaitable<StoreOutcome> store_manifest(Env env, Request req, Target t, Rows rows, ObjectWrite w,
                                       std::vector<SegmentSpec> specs, std::string fmt) {
  const Limits& limits = env.svc->limits();
  StoreOutcome out;
  auto heads =
      co_await env.svc->pool().run([&]() { return head_segments(env, req, t.account, specs); });
  std::vector<StoredSegment> segs;
  std::vector<SegmentProblem> problems;
  for (size_t i = 0; i < specs.size(); ++i) {
    const SegmentSpec& spec = specs[i];
    if (spec.is_data) {
      StoredSegment s;
      s.is_data = true;
      s.data = spec.data;
      segs.push_back(std::move(s));
      continue;
    }
    const SegmentHead& head = heads.at(spec.container + "/" + spec.object);
    auto s = check_segment(spec, head, i + 1 == specs.size(), limits.min_segment_size, &problems);
    if (s) segs.push_back(std::move(*s));
  }
  if (!problems.empty()) {
    // HTTPBadRequest(content_type=fmt).
    BulkOutcome listed;
    for (auto& p : problems) out.problems.emplace_back(std::move(p.name), std::move(p.reason));
    listed.failed = out.problems;
    out.response =
        text_error(req, bhttp::status::bad_request, render_outcome(fmt, listed, "upload"), fmt);
    co_return out;
  }
  std::string etag = slo_etag(segs);
  if (w.etag && *w.etag != etag) {
    out.response = error_for(req, make_error(ErrorCode::kUnprocessable, ""));
    co_return out;
  }
  bool live = rows.object && !expired(*rows.object, env.svc->clock().now_unix());
  if (w.if_none_match && live) {
    out.response = error_for(req, make_error(ErrorCode::kPreconditionFailed, ""));
    co_return out;
  }
  std::string manifest = serialize_manifest(segs);
  uint64_t total = slo_size(segs);

  store::ObjectRecord o;
  o.account = t.account;
  o.container = t.container;
  o.name = t.object;
  o.delete_at = w.delete_at.value_or(0);
  set_object_meta(o.meta, w.meta, w.removed);
  if (auto st = check_metadata_limits(limits, o.meta, "x-object-meta-"); !st.ok()) {
    out.response = error_for(req, st.error());
    co_return out;
  }
  o.content_type = *w.content_type;
  o.meta["x-static-large-object"] = "True";
  o.meta[kSloEtagMeta] = etag;
  o.meta[kSloSizeMeta] = std::to_string(total);
  o.meta[kSloManifestEtagMeta] = md5_hex(manifest);
  o.meta[kSloManifestSizeMeta] = std::to_string(manifest.size());
  auto stored = co_await store_bytes(*env.svc, manifest);
  if (!stored.ok()) {
    out.response = error_for(req, stored.error());
    co_return out;
  }
  o.blob_id = stored->blob_id;
  // The row lists the large object's size and ETag, as Swift's container
  // listing does for a manifest.
  o.size = total;
  o.etag = etag;
  o.timestamp_us = env.svc->clock().now_us();
  store::PutConditions cond;
  cond.if_none_match = w.if_none_match;
  // Named first: g++ 12 destroys a temporary of a co_await expression twice.
  std::optional<store::ObjectRecord> current = live ? rows.object : std::nullopt;
  auto versioned =
      co_await version_before_overwrite(env, req, t, *rows.container, current, &o, &cond);
  if (!versioned.ok()) {
    auto drop = [&]() -> bool {
      if (!o.blob_id.empty()) (void)env.svc->blobs().remove(o.blob_id);
      return true;
    };
    co_await env.svc->pool().run(drop);
    out.response = error_for(req, versioned.error());
    co_return out;
  }
  auto put = co_await commit_row(env, o, cond);
  if (!put.ok()) {
    out.response = error_for(req, put.error());
    co_return out;
  }
  out.response = empty_response(req, bhttp::status::created);
  out.response.headers.set(bhttp::field::etag, "\"" + etag + "\"");
  out.response.headers.set(bhttp::field::last_modified,
                           http_date(last_modified_seconds(o.timestamp_us)));
  if (auto it = o.meta.find("x-object-version-id"); it != o.meta.end()) {
    out.response.headers.set("X-Object-Version-Id", it->second);
  }
  co_return out;
}

// The body of a heartbeat PUT: the dictionary slo.py yields after its
// heartbeats, from the answer a plain PUT would have had.
std::string heartbeat_result(const std::string& fmt, StoreOutcome out) {
  unsigned code = static_cast<unsigned>(out.response.status);
  BulkOutcome r;
  r.fields.push_back({"Response Status", status_line(code), std::nullopt});
  if (code / 100 == 2) {
    r.fields.push_back(
        {"Etag", std::string(out.response.headers[bhttp::field::etag]), std::nullopt});
    r.fields.push_back({"Last Modified",
                        std::string(out.response.headers[bhttp::field::last_modified]),
                        std::nullopt});
    r.fields.push_back({"Response Body", "", std::nullopt});
  } else if (!out.problems.empty() || code == 422) {
    // The exception carried no body: swob's title and explanation stand in.
    auto reason = swob_reason(code);
    r.fields.push_back(
        {"Response Body",
         reason ? std::string(reason->title) + "\n" + std::string(reason->explanation) : "",
         std::nullopt});
    r.failed = std::move(out.problems);
  } else {
    r.fields.push_back({"Response Body", out.response.body, std::nullopt});
  }
  return render_outcome(fmt, std::move(r), "upload");
}

}  // namespace

awaitable<Response> slo_put(Env env, Request& req, Target t, Rows rows) {
  const Limits& limits = env.svc->limits();
  std::optional<uint64_t> cl = req.body_reader ? req.body_reader->content_length()
                                               : std::optional<uint64_t>(req.body.size());
  bool chunked = req.header("Transfer-Encoding").find("chunked") != std::string_view::npos;
  // The quota middlewares sit before slo in Swift's pipeline: they see the
  // manifest PUT as sent (its length; a chunked one once it is read).
  ONESTACK_SWIFT_TRY(req, check_quotas(rows, cl.value_or(0)));
  if (!cl && !chunked) co_return error_for(req, make_error(ErrorCode::kLengthRequired, ""));
  std::string too_large = "Manifest File > " + std::to_string(limits.max_manifest_size) + " bytes";
  if (cl && *cl > limits.max_manifest_size) {
    co_return text_error(req, bhttp::status::payload_too_large, too_large);
  }
  auto body = co_await read_body(req, limits.max_manifest_size);
  if (!body.ok()) {
    if (body.error().code == ErrorCode::kTooLarge) {
      co_return text_error(req, bhttp::status::payload_too_large, too_large);
    }
    co_return error_for(req, body.error());
  }
  if (!cl) ONESTACK_SWIFT_TRY(req, check_quotas(rows, body->size()));
  auto specs = parse_manifest_put(*body, t.container, t.object);
  // Entry checks answer in text/plain, a body that is no JSON list in html.
  if (!specs.ok()) {
    co_return text_error(
        req, bhttp::status::bad_request, specs.error().message,
        specs.error().media_type.empty() ? "text/html; charset=UTF-8" : specs.error().media_type);
  }
  size_t object_segments = 0;
  for (const auto& s : *specs) object_segments += s.is_data ? 0 : 1;
  if (object_segments > limits.max_manifest_segments) {
    co_return text_error(req, bhttp::status::payload_too_large,
                         "Number of object-backed segments must be <= " +
                             std::to_string(limits.max_manifest_segments));
  }
  // slo.py answers a malformed or unmatched Accept in text.
  std::string fmt = bulk_format(req.header("Accept"));
  if (fmt.empty()) fmt = "text/plain";
  auto parsed = parse_manifest_put(limits, req, t, env.svc->clock());
  ONESTACK_SWIFT_TRY(req, parsed);
  Request owned = detached(req);
  if (!truthy(req.query.get("heartbeat").value_or(""))) {
    StoreOutcome out =
        co_await store_manifest(env, std::move(owned), t, std::move(rows),
                                std::move(parsed).value(), std::move(specs).value(), fmt);
    co_return std::move(out.response);
  }
  // 202 at once, heartbeats while the segments are checked, then the
  // outcome of the PUT in the body.
  Job job = [env, owned = std::move(owned), t, rows = std::move(rows),
             w = std::move(parsed).value(), specs = std::move(specs).value(),
             fmt]() -> awaitable<std::string> {
    co_return heartbeat_result(fmt, co_await store_manifest(env, owned, t, rows, w, specs, fmt));
  };
  HeartbeatOptions beats;
  beats.first_at_once = true;
  co_return bulk_response(req, fmt, heartbeat_body(std::move(job), beats), bhttp::status::accepted);
}

awaitable<Response> slo_delete(Env env, Request& req, Target t) {
  std::string fmt = bulk_format(req.header("Accept"));
  if (fmt.empty()) {
    BulkOutcome out = delete_outcome();
    out.set_status(406, "");
    co_return bulk_response(req, fmt, finished_body(render_outcome(fmt, out, "delete")));
  }
  Job job = [env, owned = detached(req), account = t.account,
             name = "/" + t.container + "/" + t.object, fmt]() -> awaitable<std::string> {
    BulkOutcome out = co_await env.svc->pool().run(
        [&]() { return delete_manifest_tree(env, owned, account, name); });
    co_return render_outcome(fmt, std::move(out), "delete");
  };
  co_return bulk_response(req, fmt, heartbeat_body(std::move(job), bulk_heartbeat(fmt)));
}

}  // namespace onestack::object::api
