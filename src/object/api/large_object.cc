// Large objects, the read side: GET and HEAD of an SLO or a DLO (the
// segments concatenated, ranges across segments), the SLO manifest itself
// for ?multipart-manifest=get, and the parts a COPY of a large object is
// made of. Writing and deleting SLO manifests is slo_write.cc; the manifest
// format is slo_manifest.cc.
//
// Every lookup a response needs (the manifest, each segment's row, nested
// manifests, access to segment containers) happens in one hop to the worker
// pool before the headers go out, so a missing or changed segment is a 409
// rather than a truncated body.
#include "object/api/large_object.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

#include "object/api/features.h"
#include "object/api/object_helpers.h"
#include "object/api/range.h"

namespace onestack::object::api {

namespace {

// Nested manifests multiply segments, so what one read may expand into is
// capped; parsed sub-manifests are kept for reuse, a few at a time (Swift
// keeps 20).
constexpr size_t kMaxLeaves = 100000;
constexpr size_t kManifestCacheSize = 20;
// Segment rows already read for this request: a manifest may name one
// segment many times, and nesting multiplies that, so each distinct segment
// is looked up once (up to this many; the cache restarts when full).
constexpr size_t kRowCacheSize = 10000;
// A COPY of a DLO lists every page of its segments.
constexpr size_t kMaxDloCopyPages = 10;

// One piece of a large object's bytes: inline data, or a range of a blob.
struct Leaf {
  std::string text;
  std::string blob_id;
  uint64_t offset = 0;
  uint64_t length = 0;
};

Error conflict(std::string why) { return make_error(ErrorCode::kConflict, std::move(why)); }

bool is_slo(const store::ObjectRecord& o) { return o.meta.count("x-static-large-object") > 0; }

// Turns segment rows into the entries of a manifest, as a DLO sees them.
std::vector<StoredSegment> entries_of(const std::vector<store::ObjectRecord>& rows) {
  std::vector<StoredSegment> segs;
  segs.reserve(rows.size());
  for (const auto& r : rows) {
    StoredSegment s;
    s.name = "/" + r.container + "/" + r.name;
    s.bytes = r.size;
    s.hash = r.etag;
    s.sub_slo = is_slo(r);
    segs.push_back(std::move(s));
  }
  return segs;
}

// Resolves manifests into leaves on a worker thread, for one request: the
// segments' rows, nested manifests and the caller's access to the segment
// containers (cached per container). Not thread-safe; blocking.
class SegmentReader {
 public:
  SegmentReader(const Env& env, const Request& req, std::string account)
      : env_(env), account_(account), access_(env, req, std::move(account)) {}

  // Appends the leaves for [begin, end) of the concatenation of `segs`, a
  // manifest nested `depth` deep (the object's own is 1). `rows`, when
  // given, are the segments' rows already read (a DLO listing page).
  Status add(const std::vector<StoredSegment>& segs, const std::vector<store::ObjectRecord>* rows,
             uint64_t begin, uint64_t end, size_t depth, std::vector<Leaf>* out) {
    for (const SegmentSlice& sl : slice_segments(segs, begin, end)) {
      const StoredSegment& s = segs[sl.index];
      if (out->size() >= kMaxLeaves)
        return conflict("more than " + std::to_string(kMaxLeaves) + " segments");
      if (s.is_data) {
        out->push_back(Leaf{s.data.substr(sl.offset, sl.length), "", 0, sl.length});
        continue;
      }
      store::ObjectRecord row;
      if (rows) {
        row = (*rows)[sl.index];
      } else {
        auto r = row_of(s);
        if (!r.ok()) return r.error();
        row = std::move(r).value();
      }
      if (is_slo(row)) {
        if (depth >= env_.svc->limits().max_nested_manifest_depth) {
          return conflict("max recursion depth exceeded at " + s.name);
        }
        auto sub = manifest_of(s.name, row);
        if (!sub.ok()) return sub.error();
        // `sub` keeps the manifest alive while the cache may drop it.
        std::shared_ptr<const std::vector<StoredSegment>> keep = *sub;
        ONESTACK_TRY(add(*keep, nullptr, sl.offset, sl.offset + sl.length, depth + 1, out));
        continue;
      }
      if (sl.offset + sl.length > row.size)
        return conflict(s.name + " is shorter than its manifest says");
      out->push_back(Leaf{"", row.blob_id, sl.offset, sl.length});
    }
    return {};
  }

  // Whether the caller may perform `op` on `container` of the account.
  Status may(const std::string& container, Op op) { return access_.may(container, op); }

 private:
  // The row of an SLO segment, still as the manifest recorded it.
  Result<store::ObjectRecord> row_of(const StoredSegment& s) {
    std::string c, o;
    if (!split_segment_name(s.name, &c, &o)) return conflict("bad segment name " + s.name);
    if (auto st = may(c, Op::kObjectRead); !st.ok()) return conflict(s.name + ": access denied");
    auto it = rows_.find(s.name);
    if (it == rows_.end()) {
      auto r = env_.svc->store().get_object(account_, c, o);
      if (!r.ok()) {
        if (r.error().code == ErrorCode::kNotFound) return conflict(s.name + " not found");
        return r.error();
      }
      if (rows_.size() >= kRowCacheSize) rows_.clear();
      it = rows_.emplace(s.name, std::move(r).value()).first;
    }
    const store::ObjectRecord& row = it->second;
    if (expired(row, env_.svc->clock().now_unix())) return conflict(s.name + " not found");
    if (row.etag != s.hash || row.size != s.bytes) {
      return conflict("Object segment no longer valid: " + s.name + " etag: " + row.etag +
                      " != " + s.hash + " or " + std::to_string(row.size) +
                      " != " + std::to_string(s.bytes));
    }
    return row;
  }

  Result<std::shared_ptr<const std::vector<StoredSegment>>> manifest_of(
      const std::string& key, const store::ObjectRecord& row) {
    if (auto it = manifests_.find(key); it != manifests_.end() && it->second.first == row.blob_id) {
      return it->second.second;
    }
    auto m = load_manifest(*env_.svc, row);
    if (!m.ok()) return conflict("submanifest " + key + ": " + m.error().message);
    if (manifests_.size() >= kManifestCacheSize) manifests_.clear();
    auto p = std::make_shared<const std::vector<StoredSegment>>(std::move(m).value());
    manifests_[key] = {row.blob_id, p};
    return p;
  }

  const Env& env_;
  const std::string account_;
  AccessCache access_;
  std::unordered_map<std::string, store::ObjectRecord> rows_;
  std::map<std::string, std::pair<std::string, std::shared_ptr<const std::vector<StoredSegment>>>>
      manifests_;
};

std::vector<Part> parts_of(std::vector<Leaf> leaves) {
  std::vector<Part> parts;
  parts.reserve(leaves.size());
  for (auto& l : leaves) {
    if (!l.blob_id.empty()) {
      parts.push_back(Part{"", std::move(l.blob_id), l.offset, l.length, nullptr});
    } else if (!l.text.empty()) {
      parts.push_back(Part{std::move(l.text), "", 0, 0, nullptr});
    }
  }
  return parts;
}

// Sets the status, range headers and body of `res` from the leaves of each
// selected range (one list for the whole object). For HEAD only the length
// of each list matters.
void frame(Env env, const Request& req, Response& res, const std::string& content_type,
           uint64_t total, const RangeResult& range, std::vector<std::vector<Leaf>> leaves) {
  bool head = req.method == bhttp::verb::head;
  std::vector<Part> parts;
  uint64_t size = 0;
  auto add_leaves = [&](std::vector<Leaf>& ls) {
    for (const auto& l : ls) size += l.length;
    if (head) return;
    auto p = parts_of(std::move(ls));
    parts.insert(parts.end(), std::make_move_iterator(p.begin()), std::make_move_iterator(p.end()));
  };
  auto add_text = [&](std::string s) {
    size += s.size();
    if (!head) parts.push_back(Part{std::move(s), "", 0, 0, nullptr});
  };
  auto content_range = [&](const ByteRange& r) {
    return "bytes " + std::to_string(r.begin) + "-" + std::to_string(r.end - 1) + "/" +
           std::to_string(total);
  };
  if (range.decision == RangeDecision::kWhole) {
    res.status = bhttp::status::ok;
    add_leaves(leaves[0]);
  } else if (range.ranges.size() == 1) {
    res.status = bhttp::status::partial_content;
    res.headers.set(bhttp::field::content_range, content_range(range.ranges[0]));
    add_leaves(leaves[0]);
  } else {
    res.status = bhttp::status::partial_content;
    std::string boundary = md5_hex(req.request_id).substr(0, 24);
    res.headers.set(bhttp::field::content_type, "multipart/byteranges;boundary=" + boundary);
    for (size_t i = 0; i < range.ranges.size(); ++i) {
      add_text((i == 0 ? "--" : "\r\n--") + boundary + "\r\nContent-Type: " + content_type +
               "\r\nContent-Range: " + content_range(range.ranges[i]) + "\r\n\r\n");
      add_leaves(leaves[i]);
    }
    add_text("\r\n--" + boundary + "--");
  }
  if (head || size == 0) {
    res.headers.set(bhttp::field::content_length, std::to_string(size));
    return;
  }
  res.stream = std::make_shared<PartsBody>(*env.svc, std::move(parts));
}

// The byte span of each selected range ([0, total) for the whole object).
std::vector<ByteRange> spans(const RangeResult& range, uint64_t total) {
  if (range.decision == RangeDecision::kWhole) return {ByteRange{0, total}};
  return range.ranges;
}

// Leaves that stand for `spans` on a HEAD, where no segment is read.
std::vector<std::vector<Leaf>> lengths_only(const std::vector<ByteRange>& spans) {
  std::vector<std::vector<Leaf>> out;
  for (const auto& s : spans) out.push_back({Leaf{"", "", 0, s.end - s.begin}});
  return out;
}

Response range_not_satisfiable(const Request& req, std::optional<uint64_t> total) {
  Response r = error_for(req, make_error(ErrorCode::kRangeNotSatisfiable, ""));
  r.body =
      "<html><h1>Requested Range Not Satisfiable</h1><p>The Range requested is not "
      "available.</p></html>";
  r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
  r.headers.set(bhttp::field::accept_ranges, "bytes");
  if (total) r.headers.set(bhttp::field::content_range, "bytes */" + std::to_string(*total));
  return r;
}

// Swift answers a large object whose segments went missing or changed
// with its standard 409 (proxy logs say which segment).
Response segment_error(const Request& req, const Target& t, const Error& e) {
  if (e.code != ErrorCode::kConflict) return error_for(req, e);
  spdlog::warn("object: large object /{}/{}/{}: {}", t.account, t.container, t.object, e.message);
  Response r = error_for(req, make_error(ErrorCode::kConflict, ""));
  r.body =
      "<html><h1>Conflict</h1><p>There was a conflict when trying to complete your "
      "request.</p></html>";
  r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
  return r;
}

// ---- SLO ----

awaitable<Response> slo_read(Env env, Request& req, Target t, store::ObjectRecord o) {
  Response res;
  object_headers(res, o);
  if (auto it = o.meta.find(kSloManifestEtagMeta); it != o.meta.end()) {
    res.headers.set("X-Manifest-Etag", it->second);
  }
  uint64_t total = o.size;
  RangeResult range = req.has_header("Range")
                          ? parse_range(req.header("Range"), total, env.svc->limits().max_ranges)
                          : RangeResult{};
  if (range.decision == RangeDecision::kUnsatisfiable) co_return range_not_satisfiable(req, total);
  // A HEAD answers the whole object to a range it can satisfy (swob).
  if (req.method == bhttp::verb::head) range = RangeResult{};
  std::vector<ByteRange> want = spans(range, total);
  std::vector<std::vector<Leaf>> leaves(want.size());
  if (req.method == bhttp::verb::head) {
    leaves = lengths_only(want);
  } else {
    auto job = [&]() -> Status {
      auto segs = load_manifest(*env.svc, o);
      if (!segs.ok()) return segs.error();
      SegmentReader reader(env, req, t.account);
      for (size_t i = 0; i < want.size(); ++i) {
        ONESTACK_TRY(reader.add(*segs, nullptr, want[i].begin, want[i].end, 1, &leaves[i]));
      }
      return {};
    };
    Status st = co_await env.svc->pool().run(job);
    if (!st.ok()) co_return segment_error(req, t, st.error());
  }
  frame(env, req, res, o.content_type, total, range, std::move(leaves));
  co_return res;
}

// ---- DLO ----

struct DloSource {
  std::string container;
  std::string prefix;
};

// X-Object-Manifest "container/prefix", percent-decoded as Swift unquotes
// it. nullopt when malformed (a POST can set any value).
std::optional<DloSource> dlo_source(const store::ObjectRecord& o) {
  auto it = o.meta.find("x-object-manifest");
  if (it == o.meta.end()) return std::nullopt;
  std::string_view v = it->second;
  size_t slash = v.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  DloSource s;
  if (!http::percent_decode(v.substr(0, slash), &s.container) ||
      !http::percent_decode(v.substr(slash + 1), &s.prefix)) {
    return std::nullopt;
  }
  return s;
}

// One page of a DLO's segments: the live rows, and where the next page
// starts.
struct DloPage {
  std::vector<store::ObjectRecord> rows;
  bool last = true;
  std::string marker;
};

Result<DloPage> list_dlo_page(ObjectService& svc, const std::string& account, const DloSource& src,
                              const std::string& marker) {
  store::ListQuery q;
  q.prefix = src.prefix;
  q.marker = marker;
  q.limit = svc.limits().container_listing_limit;
  auto r = svc.store().list_objects(account, src.container, q);
  if (!r.ok()) return r.error();
  DloPage page;
  page.last = r->size() < q.limit;
  for (auto& e : *r) {
    if (!e.subdir.empty()) continue;
    page.marker = e.object.name;
    if (expired(e.object, svc.clock().now_unix())) continue;
    page.rows.push_back(std::move(e.object));
  }
  return page;
}

// The body of a DLO whose segments fill more than one listing page: Swift
// then sends no Content-Length and no ETag, and reads the listing on as it
// goes. One pool hop per page.
class DloBody final : public http::BodySource {
 public:
  // `req` is the connection's request, alive until the response is sent.
  DloBody(Env env, const Request& req, std::string account, DloSource src, std::string marker,
          std::vector<Leaf> first)
      : env_(env),
        req_(req),
        account_(std::move(account)),
        src_(std::move(src)),
        marker_(std::move(marker)),
        current_(std::make_unique<PartsBody>(*env.svc, parts_of(std::move(first)))) {}

  std::optional<uint64_t> size() const override { return std::nullopt; }

  awaitable<Result<Piece>> next() override {
    for (;;) {
      if (current_) {
        auto p = co_await current_->next();
        if (!p.ok() || !p->end) co_return p;
        current_.reset();
      }
      if (done_) {
        Piece end;
        end.end = true;
        co_return end;
      }
      auto job = [this]() -> Result<std::vector<Leaf>> {
        auto page = list_dlo_page(*env_.svc, account_, src_, marker_);
        if (!page.ok()) return page.error();
        done_ = page->last || page->marker.empty();
        marker_ = page->marker;
        std::vector<Leaf> leaves;
        SegmentReader reader(env_, req_, account_);
        auto segs = entries_of(page->rows);
        ONESTACK_TRY(reader.add(segs, &page->rows, 0, UINT64_MAX, 1, &leaves));
        return leaves;
      };
      auto leaves = co_await env_.svc->pool().run(job);
      if (!leaves.ok()) co_return leaves.error();
      current_ = std::make_unique<PartsBody>(*env_.svc, parts_of(std::move(leaves).value()));
    }
  }

 private:
  Env env_;
  const Request& req_;
  const std::string account_;
  const DloSource src_;
  std::string marker_;  // last name listed
  bool done_ = false;   // the last page has been listed
  std::unique_ptr<PartsBody> current_;
};

// What a DLO GET or HEAD found in its one pool hop.
struct DloPlan {
  DloPage page;                      // the first page
  std::string etag;                  // quoted; empty when the listing is incomplete
  uint64_t total = 0;                // bytes of the first page
  std::optional<RangeResult> range;  // the range honoured, if any
  bool unsatisfiable = false;
  Condition condition = Condition::kProceed;
  std::vector<Leaf> leaves;  // GET: the bytes to send from the first page
};

// One past the last byte of a "bytes=M-N" range; nullopt for a suffix or
// open-ended range (whose end depends on the whole length).
std::optional<uint64_t> bounded_range_end(std::string_view header) {
  size_t eq = header.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::string_view spec = header.substr(eq + 1);
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
  while (!b.empty() && b.back() == ' ') b.remove_suffix(1);
  uint64_t first = 0, last = 0;
  if (a.empty() || b.empty()) return std::nullopt;
  if (std::from_chars(a.data(), a.data() + a.size(), first).ec != std::errc() ||
      std::from_chars(b.data(), b.data() + b.size(), last).ec != std::errc()) {
    return std::nullopt;
  }
  return last + 1;
}

Result<DloPlan> plan_dlo(const Env& env, const Request& req, const Target& t,
                         const store::ObjectRecord& o, const DloSource& src, bool head) {
  SegmentReader reader(env, req, t.account);
  // Listing the segments needs what a container GET needs.
  ONESTACK_TRY(reader.may(src.container, Op::kContainerRead));
  auto c = env.svc->store().get_container(t.account, src.container);
  if (!c.ok()) return c.error();
  auto page = list_dlo_page(*env.svc, t.account, src, "");
  if (!page.ok()) return page.error();
  DloPlan plan;
  plan.page = std::move(page).value();
  std::string concat;
  for (const auto& r : plan.page.rows) {
    plan.total += r.size;
    concat += strip_quotes(r.etag);
  }
  bool complete = plan.page.last;
  if (complete) plan.etag = "\"" + md5_hex(concat) + "\"";
  plan.condition = check_conditions(req, complete ? md5_hex(concat) : o.etag,
                                    last_modified_seconds(shown_timestamp_us(o)), true);
  if (plan.condition != Condition::kProceed) return plan;

  // dlo.py honours a single range only, and when the listing is
  // incomplete only a bounded one that ends within the first page.
  // A HEAD ignores a range it can satisfy (swob), not one it cannot.
  std::string_view rh = req.header("Range");
  if (req.has_header("Range") && rh.find(',') == std::string_view::npos) {
    auto end = bounded_range_end(rh);
    if (complete || (end && *end < plan.total)) {
      RangeResult r = parse_range(rh, plan.total, env.svc->limits().max_ranges);
      if (r.decision == RangeDecision::kUnsatisfiable) {
        plan.unsatisfiable = true;
        return plan;
      }
      if (r.decision == RangeDecision::kPartial && !head) plan.range = std::move(r);
    }
  }
  if (head) return plan;
  ByteRange span = plan.range ? plan.range->ranges[0] : ByteRange{0, plan.total};
  auto segs = entries_of(plan.page.rows);
  ONESTACK_TRY(reader.add(segs, &plan.page.rows, span.begin, span.end, 1, &plan.leaves));
  return plan;
}

awaitable<Response> dlo_read(Env env, Request& req, Target t, store::ObjectRecord o,
                             DloSource src) {
  bool head = req.method == bhttp::verb::head;
  auto job = [&]() { return plan_dlo(env, req, t, o, src, head); };
  auto plan = co_await env.svc->pool().run(job);
  if (!plan.ok()) {
    if (plan.error().code == ErrorCode::kConflict) co_return segment_error(req, t, plan.error());
    Response r = error_for(req, plan.error());
    if (head) r.body.clear();
    co_return r;
  }
  Response res;
  object_headers(res, o);
  if (!plan->etag.empty()) res.headers.set(bhttp::field::etag, plan->etag);
  if (plan->condition != Condition::kProceed) {
    res.status = plan->condition == Condition::kNotModified ? bhttp::status::not_modified
                                                            : bhttp::status::precondition_failed;
    res.headers.set(bhttp::field::content_length, "0");
    co_return res;
  }
  bool complete = plan->page.last;
  if (plan->unsatisfiable) {
    co_return range_not_satisfiable(req,
                                    complete ? std::optional<uint64_t>(plan->total) : std::nullopt);
  }
  RangeResult range = plan->range ? *plan->range : RangeResult{};
  if (!complete && !plan->range) {
    // More segments than one listing page: streamed with no length.
    res.status = bhttp::status::ok;
    std::string marker = plan->page.marker;
    res.stream = std::make_shared<DloBody>(env, req, t.account, std::move(src), std::move(marker),
                                           std::move(plan->leaves));
    co_return res;
  }
  std::vector<std::vector<Leaf>> leaves;
  if (head) {
    leaves = lengths_only(spans(range, plan->total));
  } else {
    leaves.push_back(std::move(plan->leaves));
  }
  // An If-Match the manifest row itself does not match gives Swift's
  // backend a 412 for the manifest, whose headers dlo.py then serves the
  // segments with: swob's Content-Type and no Accept-Ranges.
  bool manifest_mismatch =
      req.has_header("If-Match") &&
      check_conditions(req, o.etag, last_modified_seconds(shown_timestamp_us(o)), true) ==
          Condition::kPreconditionFailed;
  frame(env, req, res, o.content_type, plan->total, range, std::move(leaves));
  if (manifest_mismatch) {
    res.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
    res.headers.erase(bhttp::field::accept_ranges);
  }
  co_return res;
}

}  // namespace

Result<std::vector<StoredSegment>> load_manifest(ObjectService& svc,
                                                 const store::ObjectRecord& row) {
  uint64_t limit = svc.limits().max_manifest_size * 4;
  if (auto it = row.meta.find(kSloManifestSizeMeta); it != row.meta.end()) {
    limit = std::strtoull(it->second.c_str(), nullptr, 10);
  }
  auto text = read_blob(svc.blobs(), row.blob_id, limit);
  if (!text.ok()) return make_error(ErrorCode::kInternal, "Unable to load SLO manifest");
  return parse_stored_manifest(*text);
}

awaitable<std::optional<Response>> large_object_get(Env env, Request& req, Target t,
                                                    store::ObjectRecord o) {
  if (is_slo(o)) co_return co_await slo_read(env, req, t, o);
  if (auto src = dlo_source(o)) co_return co_await dlo_read(env, req, t, o, *src);
  co_return std::nullopt;
}

awaitable<std::optional<Response>> slo_manifest_get(Env env, Request& req, store::ObjectRecord o) {
  if (!is_slo(o)) co_return std::nullopt;
  bool raw = req.query.get("format") == "raw";
  auto job = [&]() -> Result<std::string> {
    uint64_t limit = env.svc->limits().max_manifest_size * 4;
    if (auto it = o.meta.find(kSloManifestSizeMeta); it != o.meta.end()) {
      limit = std::strtoull(it->second.c_str(), nullptr, 10);
    }
    auto text = read_blob(env.svc->blobs(), o.blob_id, limit);
    if (!text.ok()) return make_error(ErrorCode::kInternal, "Unable to load SLO manifest");
    if (!raw) return text;
    auto segs = parse_stored_manifest(*text);
    if (!segs.ok()) return segs.error();
    return raw_manifest(*segs);
  };
  auto body = co_await env.svc->pool().run(job);
  if (!body.ok()) co_return error_for(req, body.error());
  Response res;
  object_headers(res, o);
  res.status = bhttp::status::ok;
  if (raw) {
    // Swift keeps the large object's Content-Type here, so that the raw
    // manifest can be PUT back as it is.
    res.headers.set(bhttp::field::etag, md5_hex(*body));
  } else {
    res.headers.set(bhttp::field::content_type, "application/json; charset=utf-8");
    auto it = o.meta.find(kSloManifestEtagMeta);
    res.headers.set(bhttp::field::etag, it != o.meta.end() ? it->second : md5_hex(*body));
  }
  res.headers.set(bhttp::field::content_length, std::to_string(body->size()));
  if (req.method != bhttp::verb::head) res.body = std::move(body).value();
  co_return res;
}

awaitable<Result<std::vector<Part>>> large_object_parts(Env env, Request& req, Target t,
                                                        store::ObjectRecord o, uint64_t* size) {
  auto job = [&]() -> Result<std::vector<Leaf>> {
    std::vector<Leaf> leaves;
    SegmentReader reader(env, req, t.account);
    if (is_slo(o)) {
      auto segs = load_manifest(*env.svc, o);
      if (!segs.ok()) return segs.error();
      ONESTACK_TRY(reader.add(*segs, nullptr, 0, UINT64_MAX, 1, &leaves));
      return leaves;
    }
    auto src = dlo_source(o);
    if (!src) return make_error(ErrorCode::kInvalidArgument, "not a large object");
    ONESTACK_TRY(reader.may(src->container, Op::kContainerRead));
    std::string marker;
    for (size_t pages = 0;; ++pages) {
      if (pages == kMaxDloCopyPages) {
        return make_error(ErrorCode::kTooLarge, "Too many segments to copy this object.");
      }
      auto page = list_dlo_page(*env.svc, t.account, *src, marker);
      if (!page.ok()) return page.error();
      auto segs = entries_of(page->rows);
      ONESTACK_TRY(reader.add(segs, &page->rows, 0, UINT64_MAX, 1, &leaves));
      if (page->last || page->marker.empty()) break;
      marker = page->marker;
    }
    return leaves;
  };
  auto leaves = co_await env.svc->pool().run(job);
  if (!leaves.ok()) {
    if (leaves.error().code == ErrorCode::kConflict) {
      spdlog::warn("object: copy of /{}/{}/{}: {}", t.account, t.container, t.object,
                   leaves.error().message);
    }
    co_return leaves.error();
  }
  uint64_t total = 0;
  for (const auto& l : *leaves) total += l.length;
  if (size) *size = total;
  co_return parts_of(std::move(leaves).value());
}

AccessCache::AccessCache(const Env& env, const Request& req, std::string account)
    : env_(env), req_(req), account_(std::move(account)), check_(!req.query.has("temp_url_sig")) {}

Status AccessCache::may(const std::string& container, Op op) {
  auto key = std::make_pair(static_cast<int>(op), container);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  if (!account_loaded_) {
    auto a = env_.svc->store().get_account(account_);
    if (a.ok()) {
      account_meta_ = a->meta;
    } else if (a.error().code != ErrorCode::kNotFound) {
      return a.error();
    }
    account_loaded_ = true;
  }
  auto c = env_.svc->store().get_container(account_, container);
  if (!c.ok() && c.error().code != ErrorCode::kNotFound) return c.error();
  const store::Metadata* am = account_meta_ ? &*account_meta_ : nullptr;
  const store::Metadata* cm = c.ok() ? &c->meta : nullptr;
  Target target{account_, container, ""};
  Result<Access> r = make_error(ErrorCode::kUnauthenticated, "");
  if (!check_) {
    // A TempURL request reaches other objects only within the scope of the
    // key that signed it: the whole account for an account key, the signed
    // container for a container key (tempurl_authorize picks the keys by
    // the target), and only to read (Swift's authorize_same_account /
    // authorize_same_container).
    auto tu = tempurl_authorize(env_, req_, target, am, cm);
    if (tu) r = std::move(*tu);
  } else {
    r = authorize(env_, req_, target, op, am, cm);
  }
  Status st = r.ok() ? Status{} : Status(r.error());
  cache_.emplace(key, st);
  return st;
}

}  // namespace onestack::object::api
