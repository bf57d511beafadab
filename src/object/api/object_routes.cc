// Object routes: PUT (streamed upload, copy, manifests, symlinks), GET/HEAD
// (ranges, conditionals, large objects), POST (metadata), DELETE, COPY.
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "object/api/features.h"
#include "object/api/middleware.h"
#include "object/api/object_helpers.h"
#include "object/api/object_request.h"
#include "object/api/py_format.h"
#include "object/api/range.h"
#include "object/api/slo_manifest.h"
#include "object/api/versioning_names.h"
#include "object/service/blob_io.h"

namespace onestack::object::api {

// From here to created(): shared with the features (object_helpers.h).

// Extension → media type, from /etc/mime.types (Debian's media-types), as
// Swift guesses with Python's mimetypes.
const std::unordered_map<std::string, std::string>& mime_types() {
  static const auto* table = [] {
    auto* m = new std::unordered_map<std::string, std::string>();
    std::ifstream in("/etc/mime.types");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      size_t i = line.find_first_of(" \t");
      if (i == std::string::npos) continue;
      std::string type = line.substr(0, i);
      while (i < line.size()) {
        size_t s = line.find_first_not_of(" \t", i);
        if (s == std::string::npos) break;
        size_t e = line.find_first_of(" \t", s);
        std::string ext = line.substr(s, e == std::string::npos ? std::string::npos : e - s);
        m->emplace(ext, type);
        i = e == std::string::npos ? line.size() : e;
      }
    }
    return m;
  }();
  return *table;
}

namespace {

// posixpath.splitext over the last path component: the extension starts at
// its last dot, unless only dots come before that dot.
std::pair<std::string_view, std::string_view> split_ext(std::string_view path) {
  size_t slash = path.rfind('/');
  size_t start = slash == std::string_view::npos ? 0 : slash + 1;
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || dot < start) return {path, {}};
  for (size_t i = start; i < dot; ++i) {
    if (path[i] != '.') return {path.substr(0, dot), path.substr(dot)};
  }
  return {path, {}};
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

// Python's mimetypes.guess_type, as Swift's proxy calls it on the path: a
// suffix alias (".tgz" is ".tar.gz") is expanded, a compression suffix
// (".gz", ".bz2", ...) is an encoding, not a type, and the type is looked
// up from the extension before it.
std::string guess_content_type(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kSuffixes[] = {
      {".svgz", ".svg.gz"}, {".tgz", ".tar.gz"},   {".taz", ".tar.gz"},
      {".tz", ".tar.gz"},   {".tbz2", ".tar.bz2"}, {".txz", ".tar.xz"},
  };
  static const std::string_view kEncodings[] = {".gz", ".Z", ".bz2", ".xz", ".br"};
  std::string path(name);
  auto [base, ext] = split_ext(path);
  for (bool again = true; again;) {
    again = false;
    for (const auto& [from, to] : kSuffixes) {
      if (lowered(ext) == from) {
        path = std::string(base) + std::string(to);
        std::tie(base, ext) = split_ext(path);
        again = true;
        break;
      }
    }
  }
  for (auto e : kEncodings) {
    if (ext == e) {
      std::tie(base, ext) = split_ext(base);
      break;
    }
  }
  if (ext.size() < 2) return "application/octet-stream";
  auto it = mime_types().find(lowered(ext.substr(1)));
  return it == mime_types().end() ? "application/octet-stream" : it->second;
}

// Applies a request's object metadata to `meta`: X-Object-Meta-* values are
// kept even when empty (Swift stores "X-Object-Meta-Flag:" as a value);
// other headers (Content-Disposition, ...) only when non-empty; `removed`
// names go. X-Delete-At lives in its own column.
void set_object_meta(store::Metadata& meta, const store::Metadata& updates,
                     const std::vector<std::string>& removed) {
  for (const auto& [k, v] : updates) {
    if (k == "x-delete-at") continue;
    if (v.empty() && k.rfind("x-object-meta-", 0) != 0) {
      meta.erase(k);
      continue;
    }
    meta[k] = v;
  }
  for (const auto& k : removed) meta.erase(k);
  meta.erase("x-delete-at");
}

bool truthy(std::string_view v) {
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "true" || s == "1" || s == "yes" || s == "on" || s == "t" || s == "y";
}

std::optional<uint64_t> held_bytes_of(const store::ObjectRecord& o) {
  if (o.container.rfind(std::string_view("\0versions\0", 10), 0) != 0 &&
      o.meta.count("x-object-version-id")) {
    return 0;  // a versioned object's data is its version row's
  }
  if (auto it = o.meta.find(kSloManifestSizeMeta);
      it != o.meta.end() && o.meta.count("x-static-large-object")) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    if (ec == std::errc() && p == it->second.data() + it->second.size()) return n;
  }
  return std::nullopt;
}

std::string strip_quotes(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

int64_t shown_timestamp_us(const store::ObjectRecord& o) {
  auto read = [&](const char* key) -> std::optional<int64_t> {
    auto it = o.meta.find(key);
    if (it == o.meta.end()) return std::nullopt;
    int64_t us = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), us);
    return ec == std::errc() ? std::optional<int64_t>(us) : std::nullopt;
  };
  int64_t data_us = read(kDataTimestampSysmeta).value_or(o.timestamp_us);
  return std::max(data_us, read(kMetaTimestampSysmeta).value_or(data_us));
}

bool expired(const store::ObjectRecord& o, int64_t now_unix) {
  return o.delete_at > 0 && o.delete_at <= now_unix;
}

std::string quote_path(std::string_view s) {
  // As Swift's quote(): "/" stays, sub-delimiters such as "&" are encoded.
  return py_quote(s);
}

void object_headers(Response& res, const store::ObjectRecord& o) {
  res.headers.set(bhttp::field::content_type, o.content_type);
  bool slo = o.meta.count("x-static-large-object") > 0;
  res.headers.set(bhttp::field::etag, slo ? "\"" + o.etag + "\"" : o.etag);
  const int64_t shown_us = shown_timestamp_us(o);
  res.headers.set(bhttp::field::last_modified, http_date(last_modified_seconds(shown_us)));
  res.headers.set("X-Timestamp", format_timestamp(shown_us));
  res.headers.set(bhttp::field::accept_ranges, "bytes");
  for (const auto& [k, v] : o.meta) {
    if (k.rfind("x-object-sysmeta-", 0) == 0 || k == "x-delete-at") continue;
    if (k == "x-static-large-object") {
      res.headers.set("X-Static-Large-Object", "True");
      continue;
    }
    if (k == "x-symlink-target") {
      // symlink.py shows the target quoted, as it keeps it.
      // Object versioning's link names its version after the path.
      auto version = o.meta.find(std::string(kVersionsLinkSysmeta));
      res.headers.set(
          "X-Symlink-Target",
          py_quote(v) + (version == o.meta.end() ? "" : "?version-id=" + version->second));
      continue;
    }
    res.headers.set(title_case(k), v);
  }
  // In Swift a versioned object's expiry is its link's: the version it
  // reads (and shows) has none.
  auto version = o.meta.find("x-object-version-id");
  bool versioned = version != o.meta.end() && version->second != "null" &&
                   !o.meta.count(std::string(kVersionsLinkSysmeta));
  if (o.delete_at > 0 && !versioned) res.headers.set("X-Delete-At", std::to_string(o.delete_at));
}

// Quota checks before bytes arrive (container_quotas / account_quotas).
Status check_quotas(const Rows& rows, uint64_t incoming) {
  const auto& cm = rows.container->meta;
  if (auto it = cm.find("x-container-meta-quota-bytes"); it != cm.end() && !it->second.empty()) {
    uint64_t q = std::strtoull(it->second.c_str(), nullptr, 10);
    if (rows.container->bytes_used + rows.versions_bytes + incoming > q) {
      return make_error(ErrorCode::kTooLarge, "Upload exceeds quota.");
    }
  }
  if (auto it = cm.find("x-container-meta-quota-count"); it != cm.end() && !it->second.empty()) {
    uint64_t q = std::strtoull(it->second.c_str(), nullptr, 10);
    // Swift counts the upload as one more object even when it replaces one
    // (container_quotas.py: object_count + 1).
    if (rows.container->object_count + 1 > q) {
      return make_error(ErrorCode::kTooLarge, "Upload exceeds quota.");
    }
  }
  if (rows.account) {
    const auto& am = rows.account->meta;
    if (auto it = am.find("x-account-meta-quota-bytes"); it != am.end() && !it->second.empty()) {
      uint64_t q = std::strtoull(it->second.c_str(), nullptr, 10);
      if (rows.account->bytes_used + incoming > q) {
        return make_error(ErrorCode::kTooLarge, "Upload exceeds quota.");
      }
    }
  }
  return {};
}

namespace {

bool set_in(const store::Metadata& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && !it->second.empty();
}

// Whether an object PUT needs the object's current row and the container's
// and account's counts, or only their settings (Want::kSettingsOnly).
bool put_needs_current(const Request& req, const Rows& rows) {
  const store::Metadata& cm = rows.container->meta;
  return req.has_header("If-None-Match") || req.has_header("X-Symlink-Target") ||
         req.query.has("multipart-manifest") || versions_objects(req, *rows.container) ||
         set_in(cm, "x-container-meta-quota-bytes") || set_in(cm, "x-container-meta-quota-count") ||
         (rows.account && set_in(rows.account->meta, "x-account-meta-quota-bytes"));
}

}  // namespace

awaitable<Result<Access>> authorize_object(Env env, const Request& req, Target t, Op op,
                                           const Rows& rows) {
  const store::Metadata* am = rows.account ? &rows.account->meta : nullptr;
  const store::Metadata* cm = rows.container ? &rows.container->meta : nullptr;
  if (auto tu = tempurl_authorize(env, req, t, am, cm)) co_return *tu;
  co_return authorize(env, req, t, op, am, cm);
}

// Writes the row and frees what it replaced. The new row's blob is removed
// again if the row cannot be written.
Result<store::PutObjectResult> put_row(ObjectService& svc, const store::ObjectRecord& row,
                                       const store::PutConditions& cond) {
  std::optional<store::ObjectRecord> counted;
  if (auto held = held_bytes_of(row); held != row.held_bytes) {
    counted = row;
    counted->held_bytes = held;
  }
  const store::ObjectRecord& o = counted ? *counted : row;
  auto r = svc.store().put_object(o, cond);
  if (!r.ok()) {
    const bool stored = !cond.blob_shared && !cond.blob_bytes && !o.blob_id.empty();
    if (stored) (void)svc.blobs().remove(o.blob_id);
    return r;
  }
  svc.free_blobs(r->freed_blobs);
  return r;
}

awaitable<Result<store::PutObjectResult>> commit_row(Env env, store::ObjectRecord o,
                                                     store::PutConditions cond) {
  auto job = [&]() { return put_row(*env.svc, o, cond); };
  co_return co_await env.svc->pool().run(job);
}

namespace {

// A failed If-Match on a missing object: swob's 412 with no body.
Response failed_condition(const Request& req) {
  Response r = empty_response(req, bhttp::status::precondition_failed);
  r.body.clear();
  r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
  r.headers.set(bhttp::field::content_length, "0");
  return r;
}

// A GET or HEAD whose condition failed: 304 with the object's headers, or
// 412; swob sends no body with either, and its 412 keeps swob's own
// Content-Type, not the object's.
Response condition_response(const Request& req, Condition cond, const store::ObjectRecord& o) {
  Response r =
      empty_response(req, cond == Condition::kNotModified ? bhttp::status::not_modified
                                                          : bhttp::status::precondition_failed);
  object_headers(r, o);
  r.body.clear();
  r.headers.set(bhttp::field::content_length, "0");
  if (cond == Condition::kPreconditionFailed) {
    r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
    r.headers.erase(bhttp::field::accept_ranges);
  }
  return r;
}

Response created(const Request& req, const store::ObjectRecord& o) {
  Response res = empty_response(req, bhttp::status::created);
  res.headers.set(bhttp::field::etag, o.etag);
  res.headers.set(bhttp::field::last_modified, http_date(last_modified_seconds(o.timestamp_us)));
  if (auto it = o.meta.find("x-object-version-id"); it != o.meta.end()) {
    res.headers.set("X-Object-Version-Id", it->second);
  }
  return res;
}

// dlo.py's check of X-Object-Manifest: "container/prefix", both parts
// non-empty, the prefix not starting with "/", no "?" or "&" anywhere (an
// empty value is refused too).
Status check_manifest_header(const Request& req) {
  if (!req.has_header("X-Object-Manifest")) return {};
  std::string_view v = req.header("X-Object-Manifest");
  size_t slash = v.find('/');
  bool valid = slash != std::string_view::npos && slash > 0 && slash + 1 < v.size() &&
               v[slash + 1] != '/' && v.find_first_of("?&") == std::string_view::npos;
  if (valid) return {};
  return make_error(ErrorCode::kInvalidArgument,
                    "X-Object-Manifest must be in the format container/prefix");
}

// copy.py's _check_path_header: the value of header `name` unquoted, then
// split as "/container/object" (a leading slash optional, the object may
// hold slashes); 412 naming the header otherwise.
Result<Target> parse_ref(std::string_view name, std::string_view v, std::string account) {
  std::string path = py_unquote(v);
  std::string_view rest = path;
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return make_error(
        ErrorCode::kPreconditionFailed,
        std::string(name) + " header must be of the form <container name>/<object name>");
  }
  return Target{std::move(account), std::string(rest.substr(0, slash)),
                std::string(rest.substr(slash + 1))};
}

// copy.py's check_account_format of X-Copy-From-Account or
// Destination-Account (unquoted): 412 when empty or holding a slash.
Result<std::string> parse_ref_account(std::string_view v) {
  std::string account = py_unquote(v);
  if (account.empty()) {
    return make_error(ErrorCode::kPreconditionFailed, "Account name cannot be empty");
  }
  if (account.find('/') != std::string::npos) {
    return make_error(ErrorCode::kPreconditionFailed, "Account name cannot contain slashes");
  }
  return account;
}

// Reads a PartsBody as if it were a request body: how a large object's
// segments are streamed into the blob of its copy.
class PartsReader final : public http::BodyReader {
 public:
  explicit PartsReader(PartsBody& b) : body_(b) {}
  awaitable<Result<size_t>> read(char* buf, size_t len) override {
    for (;;) {
      if (fd_left_ > 0) {
        // A file piece is read a bounded slice at a time, never whole.
        ssize_t n =
            ::pread(fd_, buf, std::min<uint64_t>(len, fd_left_), static_cast<off_t>(fd_off_));
        if (n <= 0) co_return make_error(ErrorCode::kInternal, "segment read failed");
        fd_off_ += static_cast<uint64_t>(n);
        fd_left_ -= static_cast<uint64_t>(n);
        co_return static_cast<size_t>(n);
      }
      if (pos_ < pending_.size()) {
        size_t n = std::min(len, pending_.size() - pos_);
        std::memcpy(buf, pending_.data() + pos_, n);
        pos_ += n;
        co_return n;
      }
      if (finished_) co_return size_t{0};
      auto p = co_await body_.next();
      if (!p.ok()) co_return p.error();
      if (p->end) {
        finished_ = true;
        continue;
      }
      if (p->fd >= 0) {
        fd_ = p->fd;
        fd_off_ = p->offset;
        fd_left_ = p->length;
      } else {
        pending_.assign(p->data);
        pos_ = 0;
      }
    }
  }
  std::optional<uint64_t> content_length() const override { return std::nullopt; }
  bool done() const override { return finished_ && pos_ >= pending_.size() && fd_left_ == 0; }

 private:
  PartsBody& body_;
  std::string pending_;
  size_t pos_ = 0;
  int fd_ = -1;
  uint64_t fd_off_ = 0;
  uint64_t fd_left_ = 0;
  bool finished_ = false;
};

// A server-side copy of `src` to `dst`: the destination row shares the
// source's blob; a large object is copied as the concatenation of its
// segments. Metadata: the source's, updated by the request's unless
// X-Fresh-Metadata.
awaitable<Response> do_copy(Env env, Request& req, Target src, Target dst) {
  ONESTACK_SWIFT_TRY(req, check_names(src));
  ONESTACK_SWIFT_TRY(req, check_names(dst));
  auto srows = co_await load_rows(env, src, 7);
  ONESTACK_SWIFT_TRY(req, srows);
  auto saccess = co_await authorize_object(env, req, src, Op::kObjectRead, *srows);
  ONESTACK_SWIFT_TRY(req, saccess);
  auto drows = co_await load_rows(env, dst, 7);
  ONESTACK_SWIFT_TRY(req, drows);
  auto daccess = co_await authorize_object(env, req, dst, Op::kObjectWrite, *drows);
  ONESTACK_SWIFT_TRY(req, daccess);
  // copy.py reads the source with the request's query, so a version-id
  // names the version to copy; the write drops it.
  if (auto r = co_await version_read(env, req, src, &*srows)) co_return std::move(*r);
  req.query.remove("version-id");
  if (!srows->object || expired(*srows->object, env.svc->clock().now_unix())) {
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  if (!drows->container) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  store::ObjectRecord source = *srows->object;
  Target src_target = src;
  if (source.meta.count("x-symlink-target") && req.query.get("symlink") != "get") {
    Target reached;
    auto r = co_await resolve_symlink(env, req, src, source, &reached);
    if (!r.ok()) co_return symlink_error(req, r.error(), reached);
    source = r->object;
    src_target = r->target;
  }
  // The copy reads its source with the request's conditions
  // (copy.py's source GET).
  if (auto cond = check_conditions(req, source.etag,
                                   last_modified_seconds(shown_timestamp_us(source)), true);
      cond != Condition::kProceed) {
    co_return condition_response(req, cond, source);
  }
  auto parsed = parse_object_copy(env.svc->limits(), req, dst, env.svc->clock());
  ONESTACK_SWIFT_TRY(req, parsed);
  const ObjectWrite& w = *parsed;

  store::ObjectRecord o;
  o.account = dst.account;
  o.container = dst.container;
  o.name = dst.object;
  o.timestamp_us = env.svc->clock().now_us();
  // The copy keeps the source's X-Delete-At unless it names its own or
  // starts from fresh metadata (copy.py copies it with the metadata).
  o.delete_at = w.delete_at.value_or(w.fresh_metadata ? 0 : source.delete_at);
  o.content_type = w.content_type.value_or(source.content_type);
  if (!w.fresh_metadata) {
    for (const auto& [k, v] : source.meta) {
      bool link = k.rfind("x-symlink-target", 0) == 0 && req.query.get("symlink") != "get";
      if (k == "x-static-large-object" || k == "x-object-manifest" || link ||
          k == "x-object-version-id" || k == "content-location" ||
          k.rfind("x-object-sysmeta-", 0) == 0) {
        continue;
      }
      o.meta[k] = v;
    }
  }
  set_object_meta(o.meta, w.meta, w.removed);
  ONESTACK_SWIFT_TRY(req, check_metadata_limits(env.svc->limits(), o.meta, "x-object-meta-"));

  bool manifest =
      source.meta.count("x-static-large-object") || source.meta.count("x-object-manifest");
  bool manifest_get = req.query.get("multipart-manifest") == "get";
  store::PutConditions cond;
  // copy.py reads its source with the request's Range: one range copies
  // those bytes, a range past the end answers the source GET's 416.
  std::optional<ByteRange> slice;
  if (req.has_header("Range") && !manifest) {
    auto range = parse_range(req.header("Range"), source.size, env.svc->limits().max_ranges);
    if (range.decision == RangeDecision::kUnsatisfiable) {
      Response r;
      object_headers(r, source);
      add_trans_id(req, r);
      r.status = bhttp::status::range_not_satisfiable;
      r.body = swob_default_body(static_cast<unsigned>(r.status));
      r.headers.set(bhttp::field::content_range, "bytes */" + std::to_string(source.size));
      co_return r;
    }
    if (range.decision == RangeDecision::kPartial && range.ranges.size() == 1) {
      slice = range.ranges[0];
    }
  }
  // A range of the source, or a large object's segments, is written as a
  // blob of the copy's own; anything else shares the source's blob.
  std::optional<std::vector<Part>> own_bytes;
  if (slice) {
    own_bytes.emplace();
    own_bytes->push_back(
        Part{"", source.blob_id, slice->begin, slice->end - slice->begin, nullptr});
  } else if (manifest && !manifest_get) {
    uint64_t size = 0;
    auto parts = co_await large_object_parts(env, req, src_target, source, &size);
    ONESTACK_SWIFT_TRY(req, parts);
    own_bytes = std::move(parts).value();
  }
  if (own_bytes) {
    PartsBody body(*env.svc, std::move(*own_bytes));
    PartsReader reader(body);
    auto received = co_await receive_blob(*env.svc, reader, env.svc->limits().max_file_size);
    ONESTACK_SWIFT_TRY(req, received);
    o.blob_id = received->blob_id;
    o.size = received->size;
    o.etag = received->md5;
  } else {
    o.blob_id = source.blob_id;
    o.size = source.size;
    o.etag = source.etag;
    cond.blob_shared = !o.blob_id.empty();
    // A manifest copied as a manifest keeps what makes it one.
    for (const char* k : {"x-static-large-object", "x-object-manifest"}) {
      if (auto it = source.meta.find(k); it != source.meta.end()) o.meta[k] = it->second;
    }
    for (const auto& [k, v] : source.meta) {
      if (k.rfind("x-object-sysmeta-", 0) == 0 && k != kMetaTimestampSysmeta &&
          k != kDataTimestampSysmeta) {
        o.meta[k] = v;
      }
    }
  }
  // A copy of a large object wrote a new blob: it goes again if the copy
  // stops here (a shared blob belongs to its source).
  auto drop_new = [&]() -> bool {
    if (!cond.blob_shared && !o.blob_id.empty()) (void)env.svc->blobs().remove(o.blob_id);
    return true;
  };
  Status quota = check_quotas(*drows, o.size);
  if (!quota.ok()) {
    co_await env.svc->pool().run(drop_new);
    co_return error_for(req, quota.error());
  }
  Status versioned =
      co_await version_before_overwrite(env, req, dst, *drows->container, drows->object, &o, &cond);
  if (!versioned.ok()) {
    co_await env.svc->pool().run(drop_new);
    co_return error_for(req, versioned.error());
  }
  auto put = co_await commit_row(env, o, cond);
  if (!put.ok() && put.error().code == ErrorCode::kConflict && cond.blob_shared) {
    // The source was deleted between our read and our write.
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  ONESTACK_SWIFT_TRY(req, put);
  Response res = created(req, o);
  // Swift's copy answers with the new object's user metadata.
  for (const auto& [k, v] : o.meta) {
    if (k.rfind("x-object-meta-", 0) == 0) res.headers.set(title_case(k), v);
  }
  // copy.py's _create_response_headers: where the data came from, and the
  // new object's X-Delete-At.
  res.headers.set("X-Copied-From", quote_path(src.container) + "/" + quote_path(src.object));
  res.headers.set("X-Copied-From-Account", quote_path(src.account));
  res.headers.set("X-Copied-From-Last-Modified",
                  http_date(last_modified_seconds(shown_timestamp_us(*srows->object))));
  if (auto it = srows->object->meta.find("x-object-version-id"); it != srows->object->meta.end()) {
    res.headers.set("X-Copied-From-Version-Id", it->second);
  }
  if (o.delete_at > 0) res.headers.set("X-Delete-At", std::to_string(o.delete_at));
  co_return res;
}

}  // namespace

awaitable<Response> object_put(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  if (!req.header("X-Copy-From").empty()) {  // copy.py: an empty one is no copy
    std::string account = t.account;
    if (req.has_header("X-Copy-From-Account")) {
      auto a = parse_ref_account(req.header("X-Copy-From-Account"));
      ONESTACK_SWIFT_TRY(req, a);
      account = std::move(a).value();
    }
    auto src = parse_ref("X-Copy-From", req.header("X-Copy-From"), account);
    ONESTACK_SWIFT_TRY(req, src);
    if (auto cl = req.body_reader ? req.body_reader->content_length() : std::nullopt;
        cl && *cl > 0) {
      co_return error_for(req, make_plain_error(ErrorCode::kInvalidArgument,
                                                "Copy requests require a zero byte body"));
    }
    co_return co_await do_copy(env, req, *src, t);
  }
  ONESTACK_SWIFT_TRY(req, check_put_preconditions(req));
  // Most PUTs read only the account's and container's settings, which the
  // read cache keeps across object writes: no pool hop before the body.
  auto rows =
      co_await load_rows(env, t,
                         static_cast<int>(Want::kAccount) | static_cast<int>(Want::kContainer) |
                             static_cast<int>(Want::kSettingsOnly));
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = co_await authorize_object(env, req, t, Op::kObjectWrite, *rows);
  ONESTACK_SWIFT_TRY(req, access);
  if (!rows->container) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  if (put_needs_current(req, *rows)) {
    auto current_rows = co_await load_rows(env, t, 7);
    ONESTACK_SWIFT_TRY(req, current_rows);
    if (!current_rows->container) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
    *rows = std::move(*current_rows);
  }
  if (req.query.get("multipart-manifest") == "put") {
    co_return co_await slo_put(env, req, t, *rows);
  }

  const Limits& limits = env.svc->limits();
  auto parsed = parse_object_put(limits, req, t, env.svc->clock());
  ONESTACK_SWIFT_TRY(req, parsed);
  const ObjectWrite& w = *parsed;
  const std::optional<uint64_t> cl = w.content_length;
  store::ObjectRecord o;
  o.account = t.account;
  o.container = t.container;
  o.name = t.object;
  o.delete_at = w.delete_at.value_or(0);
  o.content_type = *w.content_type;
  set_object_meta(o.meta, w.meta, {});
  ONESTACK_SWIFT_TRY(req, check_manifest_header(req));
  if (req.has_header("X-Symlink-Target")) {
    // A chunked link has a body if one byte of it comes.
    bool has_body = cl ? *cl != 0 : true;
    if (!cl && req.body_reader) {
      char first;
      auto n = co_await req.body_reader->read(&first, 1);
      has_body = !n.ok() || *n > 0;
    }
    ONESTACK_SWIFT_TRY(req, symlink_put_headers(req, has_body, &o));
    Target failed_at;
    auto checked = co_await symlink_put_check(env, req, t, &o, &failed_at);
    if (!checked.ok()) {
      Response err = error_for(req, checked.error());
      if (!failed_at.object.empty()) {
        err.headers.set(bhttp::field::content_location, symlink_location(failed_at));
      }
      co_return err;
    }
  }
  bool live = rows->object && !expired(*rows->object, env.svc->clock().now_unix());
  if (w.if_none_match && live) {
    co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, ""));
  }
  // The quotas see the length announced before the body, as Swift's quota
  // middlewares do. Swift stops there, so a chunked upload passes any bytes
  // quota; here its size is checked again once known (docs/operations.md,
  // "Where object storage differs from Swift").
  ONESTACK_SWIFT_TRY(req, check_quotas(*rows, cl.value_or(0)));

  // The object server compares the ETag as sent: case matters. Its 422
  // carries the Last-Modified the proxy gives every stored write.
  const bool check_etag = w.etag.has_value();
  auto etag_mismatch = [&]() {
    Response r = error_for(req, make_error(ErrorCode::kUnprocessable, ""));
    r.headers.set(bhttp::field::last_modified,
                  http_date(last_modified_seconds(env.svc->clock().now_us())));
    return r;
  };
  store::PutConditions cond;
  cond.if_none_match = w.if_none_match;
  // Named first: g++ 12 destroys a temporary of a co_await expression twice.
  std::optional<store::ObjectRecord> current = live ? rows->object : std::nullopt;

  if (!versions_objects(req, *rows->container)) {
    // Nothing has to run between the blob's commit and the row's: both go
    // in the upload's last pool job (one hop for a small object).
    bool mismatch = false;
    std::optional<Result<store::PutObjectResult>> put;
    auto commit = [&](const ReceivedBlob& b) -> Status {
      auto drop = [&](Error e) -> Status {
        if (!b.blob_id.empty() && !b.row_bytes) (void)env.svc->blobs().remove(b.blob_id);
        return e;
      };
      if (check_etag && *w.etag != b.md5) {
        mismatch = true;
        return drop(make_error(ErrorCode::kInvalidArgument, "ETag mismatch"));
      }
      if (!cl) {
        // A chunked upload's size is known only now.
        if (auto st = check_quotas(*rows, b.size); !st.ok()) return drop(st.error());
      }
      o.blob_id = b.blob_id;
      o.size = b.size;
      o.etag = b.md5;
      o.timestamp_us = env.svc->clock().now_us();
      cond.blob_bytes = b.row_bytes;
      put = put_row(*env.svc, o, cond);
      cond.blob_bytes = nullptr;
      return put->ok() ? Status{} : Status(put->error());
    };
    auto received = co_await receive_blob(*env.svc, *req.body_reader, limits.max_file_size, commit);
    if (mismatch) co_return etag_mismatch();
    ONESTACK_SWIFT_TRY(req, received);
    co_return created(req, o);
  }

  auto received = co_await receive_blob(*env.svc, *req.body_reader, limits.max_file_size);
  ONESTACK_SWIFT_TRY(req, received);
  auto drop = [&]() -> bool {
    if (!received->blob_id.empty()) (void)env.svc->blobs().remove(received->blob_id);
    return true;
  };
  if (check_etag && *w.etag != received->md5) {
    co_await env.svc->pool().run(drop);
    co_return etag_mismatch();
  }
  if (!cl) {
    // A chunked upload's size is known only now.
    auto st = check_quotas(*rows, received->size);
    if (!st.ok()) {
      co_await env.svc->pool().run(drop);
      co_return error_for(req, st.error());
    }
  }
  o.blob_id = received->blob_id;
  o.size = received->size;
  o.etag = received->md5;
  o.timestamp_us = env.svc->clock().now_us();
  auto versioned =
      co_await version_before_overwrite(env, req, t, *rows->container, current, &o, &cond);
  if (!versioned.ok()) {
    co_await env.svc->pool().run(drop);
    co_return error_for(req, versioned.error());
  }
  auto put = co_await commit_row(env, o, cond);
  ONESTACK_SWIFT_TRY(req, put);
  co_return created(req, o);
}

awaitable<Response> object_head_get(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  bool whole_get =
      req.method == bhttp::verb::get && !req.has_header("Range") && req.query.items().empty();
  auto rows = co_await load_rows(env, t, whole_get ? 7 | static_cast<int>(Want::kSmallBody) : 7);
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = co_await authorize_object(env, req, t, Op::kObjectRead, *rows);
  ONESTACK_SWIFT_TRY(req, access);
  if (auto r = co_await version_read(env, req, t, &*rows)) co_return std::move(*r);
  if (!rows->object || expired(*rows->object, env.svc->clock().now_unix())) {
    if (if_match_any(req)) co_return failed_condition(req);
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  store::ObjectRecord o = *rows->object;
  Target resolved = t;
  if (o.meta.count("x-symlink-target") && req.query.get("symlink") != "get") {
    Target reached;
    auto r = co_await resolve_symlink(env, req, t, o, &reached);
    // object_versioning names the version of what Content-Location points
    // at: the link's target, never a version.
    const bool versioned = rows->object->meta.count("x-object-version-id") > 0;
    if (!r.ok()) {
      Response err = symlink_error(req, r.error(), reached);
      if (versioned) err.headers.set("X-Object-Version-Id", "null");
      co_return err;
    }
    o = r->object;
    resolved = r->target;
    o.meta["content-location"] = symlink_location(resolved);
    if (versioned) o.meta["x-object-version-id"] = "null";
  }
  bool head = req.method == bhttp::verb::head;
  std::string_view mm = req.query.get("multipart-manifest").value_or("");
  // A DLO's ETag is its segments' (large_object_get checks it).
  bool dlo =
      o.meta.count("x-object-manifest") && !o.meta.count("x-static-large-object") && mm != "get";
  auto cond =
      dlo ? Condition::kProceed
          : check_conditions(req, o.etag, last_modified_seconds(shown_timestamp_us(o)), true);
  if (cond != Condition::kProceed) co_return condition_response(req, cond, o);
  if (mm == "get") {
    if (auto r = co_await slo_manifest_get(env, req, o)) {
      add_trans_id(req, *r);
      tempurl_decorate(env, req, t, *r);
      co_return std::move(*r);
    }
  } else if (auto r = co_await large_object_get(env, req, resolved, o)) {
    add_trans_id(req, *r);
    tempurl_decorate(env, req, t, *r);
    co_return std::move(*r);
  }

  Response res;
  object_headers(res, o);
  add_trans_id(req, res);
  tempurl_decorate(env, req, t, res);
  // swob answers a HEAD before it looks at Range.
  auto range = req.has_header("Range") && !head
                   ? parse_range(req.header("Range"), o.size, env.svc->limits().max_ranges)
                   : RangeResult{};
  if (range.decision == RangeDecision::kUnsatisfiable) {
    // The object's own headers stay; swob's default body goes with them.
    res.status = bhttp::status::range_not_satisfiable;
    res.body = swob_default_body(static_cast<unsigned>(res.status));
    res.headers.set(bhttp::field::content_range, "bytes */" + std::to_string(o.size));
    co_return res;
  }
  std::vector<Part> parts;
  if (range.decision == RangeDecision::kWhole) {
    res.status = bhttp::status::ok;
    if (head) {
      res.headers.set(bhttp::field::content_length, std::to_string(o.size));
      co_return res;
    }
    if (o.size == 0) {
      res.headers.set(bhttp::field::content_length, "0");
      co_return res;
    }
    // Small objects are read and checked against their MD5 before a byte
    // goes out: a damaged blob is never served as good data. Large ones go
    // by sendfile after a size check; the auditor checks their MD5.
    constexpr uint64_t kVerifyLimit = kVerifiedReadLimit;
    bool verifiable =
        o.size <= kVerifyLimit && o.etag.size() == 32 && !o.meta.count("x-static-large-object");
    if (verifiable && rows->small_body && rows->object && rows->object->blob_id == o.blob_id) {
      // Read with the rows (load_rows' fast path).
      if (!rows->small_body->ok()) {
        co_return error_for(req, make_error(rows->small_body->error().code, ""));
      }
      res.body = std::move(**rows->small_body);
      co_return res;
    }
    if (verifiable) {
      auto job = [&]() -> Result<std::string> {
        auto data = read_blob(env.svc->blobs(), o.blob_id, kVerifyLimit);
        if (!data.ok()) return data;
        if (data->size() != o.size || md5_hex(*data) != o.etag) {
          (void)env.svc->blobs().quarantine(o.blob_id);
          return make_error(ErrorCode::kNotFound, "damaged blob quarantined");
        }
        return data;
      };
      auto data = co_await env.svc->pool().run(job);
      if (!data.ok()) {
        if (data.error().message == "damaged blob quarantined") {
          co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
        }
        co_return error_for(req, data.error());
      }
      res.body = std::move(data).value();
      co_return res;
    }
    parts.push_back(Part{"", o.blob_id, 0, o.size, nullptr});
  } else {
    res.status = bhttp::status::partial_content;
    if (range.ranges.size() == 1) {
      const ByteRange& r = range.ranges[0];
      res.headers.set(bhttp::field::content_range, "bytes " + std::to_string(r.begin) + "-" +
                                                       std::to_string(r.end - 1) + "/" +
                                                       std::to_string(o.size));
      parts.push_back(Part{"", o.blob_id, r.begin, r.end - r.begin, nullptr});
    } else {
      std::string boundary = md5_hex(req.request_id).substr(0, 24);
      res.headers.set(bhttp::field::content_type, "multipart/byteranges;boundary=" + boundary);
      bool first = true;
      for (const auto& r : range.ranges) {
        std::string head_text =
            (first ? "--" : "\r\n--") + boundary + "\r\nContent-Type: " + o.content_type +
            "\r\nContent-Range: bytes " + std::to_string(r.begin) + "-" +
            std::to_string(r.end - 1) + "/" + std::to_string(o.size) + "\r\n\r\n";
        first = false;
        parts.push_back(Part{std::move(head_text), "", 0, 0, nullptr});
        parts.push_back(Part{"", o.blob_id, r.begin, r.end - r.begin, nullptr});
      }
      parts.push_back(Part{"\r\n--" + boundary + "--", "", 0, 0, nullptr});
    }
  }
  auto body = std::make_shared<PartsBody>(*env.svc, std::move(parts));
  if (head) {
    res.headers.set(bhttp::field::content_length, std::to_string(*body->size()));
    co_return res;
  }
  // Open the blob now so a vanished or short blob is a clean error status
  // rather than a broken body.
  auto check = [&]() -> Result<std::shared_ptr<blob::BlobReader>> {
    auto r = env.svc->blobs().open(o.blob_id);
    if (!r.ok()) return r.error();
    if ((*r)->size() != o.size) {
      (void)env.svc->blobs().quarantine(o.blob_id);
      return make_error(ErrorCode::kNotFound, "damaged blob quarantined");
    }
    return std::shared_ptr<blob::BlobReader>(std::move(r).value());
  };
  auto reader = co_await env.svc->pool().run(check);
  if (!reader.ok()) {
    ErrorCode code =
        reader.error().code == ErrorCode::kNotFound ? ErrorCode::kNotFound : reader.error().code;
    co_return error_for(req, make_error(code, ""));
  }
  body->share_reader(o.blob_id, *reader);
  res.stream = std::move(body);
  co_return res;
}

awaitable<Response> object_post(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  if (is_formpost(req)) co_return co_await formpost(env, req);
  auto rows = co_await load_rows(env, t, 7);
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = co_await authorize_object(env, req, t, Op::kObjectWrite, *rows);
  ONESTACK_SWIFT_TRY(req, access);
  if (auto r = object_post_precheck(req)) co_return std::move(*r);
  // Swift stores any X-Object-Manifest a POST sends and then fails every
  // read of the object (500); onestack checks it as a PUT's.
  ONESTACK_SWIFT_TRY(req, check_manifest_header(req));
  if (!rows->object || expired(*rows->object, env.svc->clock().now_unix())) {
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  const store::ObjectRecord& cur = *rows->object;
  auto parsed = parse_object_post(env.svc->limits(), req, env.svc->clock());
  ONESTACK_SWIFT_TRY(req, parsed);
  const ObjectWrite& w = *parsed;
  // A POST replaces the user metadata wholesale (Swift's fast-POST), and
  // X-Object-Manifest with it: a DLO POSTed without one is a plain object
  // again. What makes the object an SLO or a symlink, and system metadata,
  // stay.
  store::Metadata meta;
  for (const auto& [k, v] : cur.meta) {
    if (k == "x-static-large-object" || k.rfind("x-symlink-target", 0) == 0 ||
        k == "x-object-version-id" || k.rfind("x-object-sysmeta-", 0) == 0) {
      meta[k] = v;
    }
  }
  set_object_meta(meta, w.meta, {});
  meta[kMetaTimestampSysmeta] = std::to_string(env.svc->clock().now_us());
  if (req.has_header("X-Object-Manifest"))
    meta["x-object-manifest"] = std::string(req.header("X-Object-Manifest"));
  ONESTACK_SWIFT_TRY(req, check_metadata_limits(env.svc->limits(), meta, "x-object-meta-"));
  std::string ct = w.content_type.value_or(cur.content_type);
  int64_t at = w.delete_at ? *w.delete_at : w.remove_delete_at ? 0 : cur.delete_at;
  auto job = [&]() {
    return env.svc->store().update_object(t.account, t.container, t.object, meta, ct, at);
  };
  ONESTACK_SWIFT_TRY(req, co_await env.svc->pool().run(job));
  if (auto r = symlink_post_redirect(req, t, cur)) co_return std::move(*r);
  Response res = empty_response(req, bhttp::status::accepted);
  res.body = "<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>";
  res.headers.erase(bhttp::field::content_length);
  co_return res;
}

awaitable<Response> object_delete(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  if (req.query.get("multipart-manifest") == "delete") co_return co_await slo_delete(env, req, t);
  auto rows = co_await load_rows(env, t, 7);
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = co_await authorize_object(env, req, t, Op::kObjectWrite, *rows);
  ONESTACK_SWIFT_TRY(req, access);
  if (!rows->container) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  if (auto r = co_await version_delete(env, req, t, *rows->container)) co_return std::move(*r);
  if (!rows->object) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  bool was_expired = expired(*rows->object, env.svc->clock().now_unix());
  // X-If-Delete-At (the expirer's guard, object server DELETE): the object
  // goes, expired or not, only while its X-Delete-At is the one named.
  auto if_delete_at = parse_if_delete_at(req);
  ONESTACK_SWIFT_TRY(req, if_delete_at);
  if (*if_delete_at) {
    if (static_cast<double>(rows->object->delete_at) != **if_delete_at) {
      Response r = empty_response(req, bhttp::status::precondition_failed);
      r.body = "X-If-Delete-At and X-Delete-At do not match";
      r.headers.erase(bhttp::field::content_length);
      co_return r;
    }
    was_expired = false;
  }
  auto job = [&]() -> Result<store::DeleteObjectResult> {
    auto r = env.svc->store().delete_object(t.account, t.container, t.object, std::nullopt);
    if (r.ok()) env.svc->free_blobs(r->freed_blobs);
    return r;
  };
  auto del = co_await env.svc->pool().run(job);
  ONESTACK_SWIFT_TRY(req, del);
  if (was_expired) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  co_return empty_response(req, bhttp::status::no_content);
}

awaitable<Response> object_copy(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  if (!req.has_header("Destination")) {
    co_return error_for(req,
                        make_error(ErrorCode::kPreconditionFailed, "Destination header required"));
  }
  std::string account = t.account;
  if (req.has_header("Destination-Account")) {
    auto a = parse_ref_account(req.header("Destination-Account"));
    ONESTACK_SWIFT_TRY(req, a);
    account = std::move(a).value();
  }
  auto dst = parse_ref("Destination", req.header("Destination"), account);
  ONESTACK_SWIFT_TRY(req, dst);
  co_return co_await do_copy(env, req, t, *dst);
}

}  // namespace onestack::object::api
