// Large objects, the write side: PUT ?multipart-manifest=put (an SLO
// manifest checked against its segments, then stored) and DELETE
// ?multipart-manifest=delete (the segments, nested manifests' segments, and
// the manifest), answering as Swift's slo and bulk middlewares do.
#include <deque>
#include <map>

#include "object/api/features.h"
#include "object/api/large_object.h"
#include "object/api/listing.h"
#include "object/api/object_helpers.h"
#include "object/api/object_request.h"

namespace onestack::object::api {

namespace {

bool is_slo(const store::ObjectRecord& o) { return o.meta.count("x-static-large-object") > 0; }

// Swift's status line for an error, as bulk responses list them.
std::string status_line(ErrorCode c) {
  switch (c) {
    case ErrorCode::kNotFound: return "404 Not Found";
    case ErrorCode::kUnauthenticated: return "401 Unauthorized";
    case ErrorCode::kForbidden: return "403 Forbidden";
    case ErrorCode::kConflict: return "409 Conflict";
    case ErrorCode::kPreconditionFailed: return "412 Precondition Failed";
    case ErrorCode::kInvalidArgument: return "400 Bad Request";
    case ErrorCode::kUnavailable: return "503 Service Unavailable";
    default: return "500 Internal Error";
  }
}

// The response format a bulk-style answer takes: swob's Accept.best_match
// over bulk's ACCEPTABLE_FORMATS, text/plain when the header is absent,
// malformed or matches none (Swift's slo falls back the same way).
std::string accept_format(const Request& req) {
  static const char* kFormats[] = {"text/plain", "application/json", "application/xml", "text/xml"};
  std::string_view h = req.header("Accept");
  struct Entry {
    std::string type, sub;
    double q;
  };
  std::vector<Entry> entries;
  while (!h.empty()) {
    size_t comma = h.find(',');
    std::string item(h.substr(0, comma));
    h = comma == std::string_view::npos ? std::string_view() : h.substr(comma + 1);
    for (auto& c : item) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string media = item.substr(0, item.find(';'));
    media.erase(0, media.find_first_not_of(" \t"));
    media.erase(media.find_last_not_of(" \t") + 1);
    if (media.empty()) continue;
    size_t slash = media.find('/');
    if (slash == std::string::npos) return "text/plain";
    double q = 1.0;
    if (size_t p = item.find("q="); p != std::string::npos) q = std::atof(item.c_str() + p + 2);
    if (q <= 0) continue;
    entries.push_back({media.substr(0, slash), media.substr(slash + 1), q});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    auto rank = [](const Entry& e) { return (e.type == "*" ? 2 : 0) + (e.sub == "*" ? 1 : 0); };
    return a.q != b.q ? a.q > b.q : rank(a) < rank(b);
  });
  for (const auto& e : entries) {
    for (const char* f : kFormats) {
      std::string_view fv(f);
      size_t slash = fv.find('/');
      if ((e.type == "*" || e.type == fv.substr(0, slash)) &&
          (e.sub == "*" || e.sub == fv.substr(slash + 1))) {
        return f;
      }
    }
  }
  return "text/plain";
}

// One "key: value" of a bulk answer; numbers are unquoted in JSON.
struct BulkField {
  std::string key;
  std::string value;
  bool number = false;
};

// bulk.get_response_body: JSON in insertion order, XML and text with the
// keys sorted, then the errors as (name, status) pairs.
std::string bulk_body(const std::string& fmt, std::vector<BulkField> fields,
                      const std::vector<SegmentProblem>& errors, std::string_view root) {
  if (fmt == "application/json") {
    std::string out = "{";
    for (const auto& f : fields) {
      out += py_json_string(f.key) + ": " + (f.number ? f.value : py_json_string(f.value)) + ", ";
    }
    out += "\"Errors\": [";
    for (size_t i = 0; i < errors.size(); ++i) {
      if (i) out += ", ";
      out += "[" + py_json_string(errors[i].name) + ", " + py_json_string(errors[i].reason) + "]";
    }
    return out + "]}";
  }
  std::sort(fields.begin(), fields.end(),
            [](const BulkField& a, const BulkField& b) { return a.key < b.key; });
  if (fmt == "application/xml" || fmt == "text/xml") {
    std::string out = "<" + std::string(root) + ">\n";
    for (const auto& f : fields) {
      std::string tag;
      for (char c : f.key) tag.push_back(c == ' ' ? '_' : static_cast<char>(std::tolower(c)));
      out += "<" + tag + ">" + xml_escape(f.value) + "</" + tag + ">\n";
    }
    out += "<errors>\n";
    for (const auto& e : errors) {
      out += "<object><name>" + xml_escape(e.name) + "</name><status>" + xml_escape(e.reason) +
             "</status></object>\n";
    }
    return out + "</errors>\n</" + std::string(root) + ">\n";
  }
  std::string out;
  for (const auto& f : fields) out += f.key + ": " + f.value + "\n";
  out += "Errors:\n";
  for (const auto& e : errors) out += e.name + ", " + e.reason + "\n";
  return out;
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

Response text_error(const Request& req, bhttp::status status, std::string body,
                    std::string_view type = "text/plain") {
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
      h.status = status_line(st.error().code);
      continue;
    }
    auto row = env.svc->store().get_object(account, s.container, s.object);
    if (!row.ok() || expired(*row)) {
      h.status = status_line(row.ok() ? ErrorCode::kNotFound : row.error().code);
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

struct DeleteOutcome {
  uint64_t deleted = 0;
  uint64_t not_found = 0;
  std::vector<SegmentProblem> failed;
  std::string status = "200 OK";
  std::string body;
};

// Deletes the segments of the manifest `name` ("/c/o"), recursively, then
// the manifest, as slo.py's get_segments_to_delete_iter feeds bulk's
// handle_delete_iter. Blocking.
DeleteOutcome delete_manifest_tree(const Env& env, const Request& req, const std::string& account,
                                   const std::string& name) {
  const Limits& limits = env.svc->limits();
  struct Item {
    std::string name;
    bool sub_slo = false;
    std::optional<Error> error;  // why its manifest could not be read
  };
  DeleteOutcome out;
  std::string failed_status = "400 Bad Request";
  AccessCache access(env, req, account);
  std::vector<std::string> freed;
  std::deque<Item> queue{{name, true, std::nullopt}};
  while (!queue.empty()) {
    if (queue.size() > limits.max_manifest_segments * 10) {
      out.status = "400 Bad Request";
      out.body = "Too many buffered slo segments to delete.";
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
      } else if (auto row = env.svc->store().get_object(account, c, o); !row.ok() || expired(*row)) {
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
        ++out.not_found;
      } else {
        out.failed.push_back({quoted, item.error->message});
      }
    } else if (!named) {
      out.failed.push_back({quoted, "400 Bad Request"});
    } else if (auto st = access.may(c, Op::kObjectWrite); !st.ok()) {
      out.failed.push_back({quoted, status_line(st.error().code)});
      if (st.error().code == ErrorCode::kUnauthenticated) failed_status = "401 Unauthorized";
    } else {
      auto r = env.svc->store().delete_object(account, c, o, std::nullopt);
      if (r.ok()) {
        freed.insert(freed.end(), r->freed_blobs.begin(), r->freed_blobs.end());
        if (expired(r->previous)) {
          ++out.not_found;
        } else {
          ++out.deleted;
        }
      } else if (r.error().code == ErrorCode::kNotFound) {
        ++out.not_found;
      } else {
        out.failed.push_back({quoted, status_line(r.error().code)});
        failed_status = "502 Bad Gateway";
      }
    }
    if (out.failed.size() >= limits.max_failed_deletes) {
      out.status = "400 Bad Request";
      out.body = "Max delete failures exceeded";
      break;
    }
  }
  env.svc->free_blobs(freed);
  if (out.body.empty()) {
    if (!out.failed.empty()) {
      out.status = failed_status;
    } else if (out.deleted == 0 && out.not_found == 0) {
      out.status = "400 Bad Request";
      out.body = "Invalid bulk delete.";
    }
  }
  return out;
}

}  // namespace

awaitable<Response> slo_put(Env env, Request& req, Target t, Rows rows) {
  const Limits& limits = env.svc->limits();
  std::optional<uint64_t> cl = req.body_reader ? req.body_reader->content_length()
                                               : std::optional<uint64_t>(req.body.size());
  bool chunked = req.header("Transfer-Encoding").find("chunked") != std::string_view::npos;
  if (!cl && !chunked) {
    co_return text_error(req, bhttp::status::length_required,
                         "<html><h1>Length Required</h1><p>Length Required</p></html>",
                         "text/html; charset=UTF-8");
  }
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
  auto specs = parse_manifest_put(*body, t.container, t.object);
  if (!specs.ok()) co_return text_error(req, bhttp::status::bad_request, specs.error().message);
  size_t object_segments = 0;
  for (const auto& s : *specs) object_segments += s.is_data ? 0 : 1;
  if (object_segments > limits.max_manifest_segments) {
    co_return text_error(req, bhttp::status::payload_too_large,
                         "Number of object-backed segments must be <= " +
                             std::to_string(limits.max_manifest_segments));
  }
  std::string fmt = accept_format(req);
  auto parsed = parse_manifest_put(limits, req, t);
  ONESTACK_SWIFT_TRY(req, parsed);
  const ObjectWrite& w = *parsed;
  bool live = rows.object && !expired(*rows.object);
  if (w.if_none_match && live) co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, ""));

  auto job = [&]() { return head_segments(env, req, t.account, *specs); };
  auto heads = co_await env.svc->pool().run(job);
  std::vector<StoredSegment> segs;
  std::vector<SegmentProblem> problems;
  for (size_t i = 0; i < specs->size(); ++i) {
    const SegmentSpec& spec = (*specs)[i];
    if (spec.is_data) {
      StoredSegment s;
      s.is_data = true;
      s.data = spec.data;
      segs.push_back(std::move(s));
      continue;
    }
    const SegmentHead& head = heads.at(spec.container + "/" + spec.object);
    auto s = check_segment(spec, head, i + 1 == specs->size(), limits.min_segment_size, &problems);
    if (s) segs.push_back(std::move(*s));
  }
  if (!problems.empty()) {
    co_return text_error(req, bhttp::status::bad_request, bulk_body(fmt, {}, problems, "upload"), fmt);
  }
  std::string etag = slo_etag(segs);
  if (w.etag) {
    if (*w.etag != etag) {
      co_return text_error(req, bhttp::status::unprocessable_entity,
                           "<html><h1>Unprocessable Entity</h1><p>Unable to process the contained "
                           "instructions</p></html>",
                           "text/html; charset=UTF-8");
    }
  }
  std::string manifest = serialize_manifest(segs);
  uint64_t total = slo_size(segs);

  store::ObjectRecord o;
  o.account = t.account;
  o.container = t.container;
  o.name = t.object;
  o.delete_at = w.delete_at.value_or(0);
  set_object_meta(o.meta, w.meta, w.removed);
  ONESTACK_SWIFT_TRY(req, check_metadata_limits(limits, o.meta, "x-object-meta-"));
  o.content_type = *w.content_type;
  o.meta["x-static-large-object"] = "True";
  o.meta[kSloEtagMeta] = etag;
  o.meta[kSloSizeMeta] = std::to_string(total);
  o.meta[kSloManifestEtagMeta] = md5_hex(manifest);
  o.meta[kSloManifestSizeMeta] = std::to_string(manifest.size());
  // Quotas see the manifest's own bytes, as Swift's see the manifest PUT.
  ONESTACK_SWIFT_TRY(req, check_quotas(rows, manifest.size()));
  auto stored = co_await store_bytes(*env.svc, manifest);
  ONESTACK_SWIFT_TRY(req, stored);
  o.blob_id = stored->blob_id;
  // The row lists the large object's size and ETag, as Swift's container
  // listing does for a manifest.
  o.size = total;
  o.etag = etag;
  o.timestamp_us = now_us();
  store::PutConditions cond;
  cond.if_none_match = w.if_none_match;
  // Named first: g++ 12 destroys a temporary of a co_await expression twice.
  std::optional<store::ObjectRecord> current = live ? rows.object : std::nullopt;
  auto versioned = co_await version_before_overwrite(env, req, t, *rows.container, current, &o,
                                                     &cond);
  if (!versioned.ok()) {
    auto drop = [&]() -> bool {
      if (!o.blob_id.empty()) (void)env.svc->blobs().remove(o.blob_id);
      return true;
    };
    co_await env.svc->pool().run(drop);
    co_return error_for(req, versioned.error());
  }
  auto put = co_await commit_row(env, o, cond);
  ONESTACK_SWIFT_TRY(req, put);
  Response res = empty_response(req, bhttp::status::created);
  res.headers.set(bhttp::field::etag, "\"" + etag + "\"");
  res.headers.set(bhttp::field::last_modified, http_date(last_modified_seconds(o.timestamp_us)));
  co_return res;
}

awaitable<Response> slo_delete(Env env, Request& req, Target t, store::ObjectRecord o) {
  (void)o;  // re-read inside the job, with the segments
  std::string fmt = accept_format(req);
  std::string name = "/" + t.container + "/" + t.object;
  auto job = [&]() { return delete_manifest_tree(env, req, t.account, name); };
  DeleteOutcome r = co_await env.svc->pool().run(job);
  std::vector<BulkField> fields = {
      {"Response Status", r.status, false},
      {"Response Body", r.body, false},
      {"Number Deleted", std::to_string(r.deleted), true},
      {"Number Not Found", std::to_string(r.not_found), true},
  };
  Response res;
  res.status = bhttp::status::ok;
  res.body = bulk_body(fmt, std::move(fields), r.failed, "delete");
  res.headers.set(bhttp::field::content_type, fmt);
  add_trans_id(req, res);
  co_return res;
}

}  // namespace onestack::object::api
