// Object routes: PUT (streamed upload, copy, manifests, symlinks), GET/HEAD
// (ranges, conditionals, large objects), POST (metadata), DELETE, COPY.
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <mutex>
#include <unordered_map>

#include "object/api/features.h"
#include "object/api/middleware.h"
#include "object/api/object_helpers.h"
#include "object/api/range.h"
#include "object/service/blob_io.h"

namespace onestack::object::api {

namespace {

// Headers an object keeps besides X-Object-Meta-* (swift's allowed_headers).
const std::initializer_list<std::string_view> kObjectExtras = {
    "content-disposition", "content-encoding", "x-object-manifest", "x-delete-at",
    "cache-control",       "content-language", "expires",           "x-robots-tag",
};

}  // namespace

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

std::string guess_content_type(std::string_view name) {
  size_t slash = name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == base.size()) return "application/octet-stream";
  std::string ext(base.substr(dot + 1));
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = mime_types().find(ext);
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

std::string strip_quotes(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

bool expired(const store::ObjectRecord& o) {
  return o.delete_at > 0 && o.delete_at <= static_cast<int64_t>(std::time(nullptr));
}

// X-Delete-At / X-Delete-After → absolute unix seconds (0: none), or 400.
Result<int64_t> delete_at_of(const Request& req) {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (req.has_header("X-Delete-After")) {
    std::string_view v = req.header("X-Delete-After");
    int64_t after = -1;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), after);
    if (ec != std::errc() || p != v.data() + v.size()) {
      return make_plain_error(ErrorCode::kInvalidArgument, "Non-integer X-Delete-After");
    }
    if (after <= 0) return make_plain_error(ErrorCode::kInvalidArgument, "X-Delete-After in past");
    return now + after;
  }
  if (req.has_header("X-Delete-At")) {
    std::string_view v = req.header("X-Delete-At");
    // Swift accepts a float and truncates it.
    double at = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), at);
    if (ec != std::errc() || p != v.data() + v.size()) {
      return make_plain_error(ErrorCode::kInvalidArgument, "Non-integer X-Delete-At");
    }
    if (static_cast<int64_t>(at) <= now) {
      return make_plain_error(ErrorCode::kInvalidArgument, "X-Delete-At in past");
    }
    return static_cast<int64_t>(at);
  }
  return int64_t{0};
}

std::string quote_path(std::string_view s) {
  // As Swift's quote(): "/" stays, sub-delimiters such as "&" are encoded.
  return py_quote(s);
}

void object_headers(Response& res, const store::ObjectRecord& o) {
  res.headers.set(bhttp::field::content_type, o.content_type);
  bool slo = o.meta.count("x-static-large-object") > 0;
  res.headers.set(bhttp::field::etag, slo ? "\"" + o.etag + "\"" : o.etag);
  res.headers.set(bhttp::field::last_modified, http_date(last_modified_seconds(o.timestamp_us)));
  res.headers.set("X-Timestamp", format_timestamp(o.timestamp_us));
  res.headers.set(bhttp::field::accept_ranges, "bytes");
  for (const auto& [k, v] : o.meta) {
    if (k.rfind("x-object-sysmeta-", 0) == 0 || k == "x-delete-at") continue;
    if (k == "x-static-large-object") {
      res.headers.set("X-Static-Large-Object", "True");
      continue;
    }
    res.headers.set(title_case(k), v);
  }
  if (o.delete_at > 0) res.headers.set("X-Delete-At", std::to_string(o.delete_at));
}

// Quota checks before bytes arrive (container_quotas / account_quotas).
Status check_quotas(const Rows& rows, uint64_t incoming, bool new_object) {
  const auto& cm = rows.container->meta;
  if (auto it = cm.find("x-container-meta-quota-bytes"); it != cm.end() && !it->second.empty()) {
    uint64_t q = std::strtoull(it->second.c_str(), nullptr, 10);
    if (rows.container->bytes_used + incoming > q) {
      return make_error(ErrorCode::kTooLarge, "Upload exceeds quota.");
    }
  }
  if (auto it = cm.find("x-container-meta-quota-count"); it != cm.end() && !it->second.empty()) {
    uint64_t q = std::strtoull(it->second.c_str(), nullptr, 10);
    if (new_object && rows.container->object_count + 1 > q) {
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
Result<store::PutObjectResult> put_row(ObjectService& svc, const store::ObjectRecord& o,
                                       const store::PutConditions& cond) {
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

Response created(const Request& req, const store::ObjectRecord& o) {
  Response res = empty_response(req, bhttp::status::created);
  res.headers.set(bhttp::field::etag, o.etag);
  res.headers.set(bhttp::field::last_modified, http_date(last_modified_seconds(o.timestamp_us)));
  if (auto it = o.meta.find("x-object-version-id"); it != o.meta.end()) {
    res.headers.set("X-Object-Version-Id", it->second);
  }
  return res;
}

// Splits "container/object" (a Destination or X-Copy-From value, possibly
// with a leading slash, percent-encoded) into a target.
Result<Target> parse_ref(std::string_view v, std::string account) {
  if (!v.empty() && v.front() == '/') v.remove_prefix(1);
  size_t slash = v.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == v.size()) {
    return make_error(ErrorCode::kPreconditionFailed,
                      "Bad header value; must be of the form <container name>/<object name>");
  }
  Target t;
  t.account = std::move(account);
  if (!http::percent_decode(v.substr(0, slash), &t.container) ||
      !http::percent_decode(v.substr(slash + 1), &t.object)) {
    return make_error(ErrorCode::kPreconditionFailed, "Bad header value");
  }
  return t;
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
        ssize_t n = ::pread(fd_, buf, std::min<uint64_t>(len, fd_left_), static_cast<off_t>(fd_off_));
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
  ONESTACK_SWIFT_TRY(req, check_names(env.svc->limits(), src));
  ONESTACK_SWIFT_TRY(req, check_names(env.svc->limits(), dst));
  auto srows = co_await load_rows(env, src, 7);
  ONESTACK_SWIFT_TRY(req, srows);
  auto saccess = co_await authorize_object(env, req, src, Op::kObjectRead, *srows);
  ONESTACK_SWIFT_TRY(req, saccess);
  auto drows = co_await load_rows(env, dst, 7);
  ONESTACK_SWIFT_TRY(req, drows);
  auto daccess = co_await authorize_object(env, req, dst, Op::kObjectWrite, *drows);
  ONESTACK_SWIFT_TRY(req, daccess);
  if (!srows->object || expired(*srows->object)) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  if (!drows->container) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  store::ObjectRecord source = *srows->object;
  Target src_target = src;
  if (source.meta.count("x-symlink-target") && req.query.get("symlink") != "get") {
    auto r = co_await resolve_symlink(env, req, src, source);
    ONESTACK_SWIFT_TRY(req, r);
    source = r->object;
    src_target = r->target;
  }
  std::vector<std::string> removed;
  auto updates = metadata_updates(env.svc->limits(), req, "x-object-meta-", kObjectExtras, &removed);
  ONESTACK_SWIFT_TRY(req, updates);
  auto delete_at = delete_at_of(req);
  ONESTACK_SWIFT_TRY(req, delete_at);

  store::ObjectRecord o;
  o.account = dst.account;
  o.container = dst.container;
  o.name = dst.object;
  o.timestamp_us = now_us();
  o.delete_at = *delete_at;
  o.content_type = source.content_type;
  if (req.has_header("Content-Type")) o.content_type = std::string(req.header("Content-Type"));
  if (!truthy(req.header("X-Fresh-Metadata"))) {
    for (const auto& [k, v] : source.meta) {
      bool link = k.rfind("x-symlink-target", 0) == 0 && req.query.get("symlink") != "get";
      if (k == "x-static-large-object" || k == "x-object-manifest" || link ||
          k.rfind("x-object-sysmeta-", 0) == 0) {
        continue;
      }
      o.meta[k] = v;
    }
  }
  set_object_meta(o.meta, *updates, removed);
  ONESTACK_SWIFT_TRY(req, check_metadata_limits(env.svc->limits(), o.meta, "x-object-meta-"));

  bool manifest = source.meta.count("x-static-large-object") || source.meta.count("x-object-manifest");
  bool manifest_get = req.query.get("multipart-manifest") == "get";
  store::PutConditions cond;
  if (manifest && !manifest_get) {
    uint64_t size = 0;
    auto parts = co_await large_object_parts(env, req, src_target, source, &size);
    ONESTACK_SWIFT_TRY(req, parts);
    PartsBody body(*env.svc, std::move(parts).value());
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
      if (k.rfind("x-object-sysmeta-", 0) == 0) o.meta[k] = v;
    }
  }
  // A copy of a large object wrote a new blob: it goes again if the copy
  // stops here (a shared blob belongs to its source).
  auto drop_new = [&]() -> bool {
    if (!cond.blob_shared && !o.blob_id.empty()) (void)env.svc->blobs().remove(o.blob_id);
    return true;
  };
  Status quota = check_quotas(*drows, o.size, !drows->object);
  if (!quota.ok()) {
    co_await env.svc->pool().run(drop_new);
    co_return error_for(req, quota.error());
  }
  Status versioned = co_await version_before_overwrite(env, req, dst, *drows->container,
                                                       drows->object, &o, &cond);
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
  res.headers.set("X-Copied-From", quote_path(src.container) + "/" + quote_path(src.object));
  if (src.account != dst.account) res.headers.set("X-Copied-From-Account", quote_path(src.account));
  res.headers.set("X-Copied-From-Last-Modified",
                  http_date(last_modified_seconds(srows->object->timestamp_us)));
  co_return res;
}

}  // namespace

awaitable<Response> object_put(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(env.svc->limits(), t));
  if (req.query.has("extract-archive")) co_return co_await bulk_extract(env, req);
  if (req.has_header("X-Copy-From")) {
    std::string account = t.account;
    if (req.has_header("X-Copy-From-Account")) {
      std::string decoded;
      if (!http::percent_decode(req.header("X-Copy-From-Account"), &decoded)) {
        co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, "Bad X-Copy-From-Account"));
      }
      account = decoded;
    }
    auto src = parse_ref(req.header("X-Copy-From"), account);
    ONESTACK_SWIFT_TRY(req, src);
    if (auto cl = req.body_reader ? req.body_reader->content_length() : std::nullopt; cl && *cl > 0) {
      co_return error_for(req, make_error(ErrorCode::kInvalidArgument,
                                          "Copy requests require a zero byte body"));
    }
    co_return co_await do_copy(env, req, *src, t);
  }
  // Most PUTs read only the account's and container's settings, which the
  // read cache keeps across object writes: no pool hop before the body.
  auto rows = co_await load_rows(env, t,
                                 static_cast<int>(Want::kAccount) |
                                     static_cast<int>(Want::kContainer) |
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

  auto cl = req.body_reader->content_length();
  bool chunked = req.header("Transfer-Encoding").find("chunked") != std::string_view::npos;
  if (!cl && !chunked) {
    co_return error_for(req, make_plain_error(ErrorCode::kLengthRequired,
                                              "Missing Content-Length header."));
  }
  const Limits& limits = env.svc->limits();
  if (cl && *cl > limits.max_file_size) {
    co_return error_for(req, make_error(ErrorCode::kTooLarge, "Your request is too large."));
  }
  auto delete_at = delete_at_of(req);
  ONESTACK_SWIFT_TRY(req, delete_at);
  std::vector<std::string> removed;  // X-Remove-Object-Meta-*: simply not kept
  auto updates = metadata_updates(limits, req, "x-object-meta-", kObjectExtras, &removed);
  ONESTACK_SWIFT_TRY(req, updates);
  store::ObjectRecord o;
  o.account = t.account;
  o.container = t.container;
  o.name = t.object;
  o.delete_at = *delete_at;
  set_object_meta(o.meta, *updates, {});
  ONESTACK_SWIFT_TRY(req, check_metadata_limits(limits, o.meta, "x-object-meta-"));
  if (auto it = o.meta.find("x-object-manifest"); it != o.meta.end()) {
    const std::string& v = it->second;
    size_t slash = v.find('/');
    if (slash == std::string::npos || slash == 0 || v.find('?') != std::string::npos ||
        v.find('&') != std::string::npos) {
      co_return error_for(req, make_error(ErrorCode::kInvalidArgument,
                                          "X-Object-Manifest must be in the format container/prefix"));
    }
  }
  std::string_view ct = req.header("Content-Type");
  o.content_type = ct.empty() || truthy(req.header("X-Detect-Content-Type"))
                       ? guess_content_type(t.object)
                       : std::string(ct);
  if (req.has_header("X-Symlink-Target")) {
    std::string_view target = req.header("X-Symlink-Target");
    size_t slash = target.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == target.size()) {
      co_return error_for(req, make_error(ErrorCode::kPreconditionFailed,
                                          "X-Symlink-Target header must be of the form "
                                          "<container name>/<object name>"));
    }
    if (cl && *cl != 0) {
      co_return error_for(req, make_error(ErrorCode::kInvalidArgument,
                                          "Symlink requests require a zero byte body"));
    }
    std::string decoded;
    if (!http::percent_decode(target, &decoded)) {
      co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, "Bad X-Symlink-Target"));
    }
    o.meta["x-symlink-target"] = decoded;
    if (req.has_header("X-Symlink-Target-Account")) {
      o.meta["x-symlink-target-account"] = std::string(req.header("X-Symlink-Target-Account"));
    }
    if (ct.empty()) o.content_type = "application/symlink";
    ONESTACK_SWIFT_TRY(req, co_await symlink_put_check(env, req, t, &o));
  }
  bool if_none_match = req.header("If-None-Match") == "*";
  if (req.has_header("If-None-Match") && !if_none_match) {
    co_return error_for(req, make_error(ErrorCode::kInvalidArgument,
                                        "If-None-Match only supports *"));
  }
  bool live = rows->object && !expired(*rows->object);
  if (if_none_match && live) {
    co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, ""));
  }
  ONESTACK_SWIFT_TRY(req, check_quotas(*rows, cl.value_or(0), !live));

  std::string want_etag;
  const bool check_etag = req.has_header("ETag");
  if (check_etag) {
    want_etag = strip_quotes(req.header("ETag"));
    for (auto& c : want_etag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto etag_mismatch = [&]() {
    Response r = error_for(req, make_error(ErrorCode::kInvalidArgument, ""));
    r.status = bhttp::status::unprocessable_entity;
    r.body = "<html><h1>Unprocessable Entity</h1><p>Unable to process the contained "
             "instructions</p></html>";
    r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
    return r;
  };
  store::PutConditions cond;
  cond.if_none_match = if_none_match;
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
      if (check_etag && want_etag != b.md5) {
        mismatch = true;
        return drop(make_error(ErrorCode::kInvalidArgument, "ETag mismatch"));
      }
      if (!cl) {
        // A chunked upload's size is known only now.
        if (auto st = check_quotas(*rows, b.size, !live); !st.ok()) return drop(st.error());
      }
      o.blob_id = b.blob_id;
      o.size = b.size;
      o.etag = b.md5;
      o.timestamp_us = now_us();
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
  if (check_etag && want_etag != received->md5) {
    co_await env.svc->pool().run(drop);
    co_return etag_mismatch();
  }
  if (!cl) {
    // A chunked upload's size is known only now.
    auto st = check_quotas(*rows, received->size, !live);
    if (!st.ok()) {
      co_await env.svc->pool().run(drop);
      co_return error_for(req, st.error());
    }
  }
  o.blob_id = received->blob_id;
  o.size = received->size;
  o.etag = received->md5;
  o.timestamp_us = now_us();
  auto versioned = co_await version_before_overwrite(env, req, t, *rows->container, current, &o,
                                                     &cond);
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
  ONESTACK_SWIFT_TRY(req, check_names(env.svc->limits(), t));
  bool whole_get = req.method == bhttp::verb::get && !req.has_header("Range") && req.query.items().empty();
  auto rows = co_await load_rows(env, t, whole_get ? 7 | static_cast<int>(Want::kSmallBody) : 7);
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = co_await authorize_object(env, req, t, Op::kObjectRead, *rows);
  ONESTACK_SWIFT_TRY(req, access);
  if (auto r = co_await version_read(env, req, t, &*rows)) co_return std::move(*r);
  if (!rows->object || expired(*rows->object)) {
    if (rows->container) {
      store::ContainerRecord container = *rows->container;
      if (auto r = co_await staticweb_object_get(env, req, t, container)) co_return std::move(*r);
    }
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  store::ObjectRecord o = *rows->object;
  Target resolved = t;
  if (o.meta.count("x-symlink-target") && req.query.get("symlink") != "get") {
    auto r = co_await resolve_symlink(env, req, t, o);
    ONESTACK_SWIFT_TRY(req, r);
    o = r->object;
    resolved = r->target;
    o.meta["content-location"] = symlink_location(resolved);
  }
  bool head = req.method == bhttp::verb::head;
  std::string_view mm = req.query.get("multipart-manifest").value_or("");
  // A DLO's ETag is its segments' (large_object_get checks it).
  bool dlo = o.meta.count("x-object-manifest") && !o.meta.count("x-static-large-object") && mm != "get";
  auto cond = dlo ? Condition::kProceed
                  : check_conditions(req, o.etag, last_modified_seconds(o.timestamp_us), true);
  if (cond != Condition::kProceed) {
    Response r = empty_response(req, cond == Condition::kNotModified
                                         ? bhttp::status::not_modified
                                         : bhttp::status::precondition_failed);
    object_headers(r, o);
    // swob answers a failed condition with no body at all.
    r.body.clear();
    r.headers.set(bhttp::field::content_length, "0");
    if (cond == Condition::kPreconditionFailed) {
      // ... and its 412 keeps swob's own Content-Type, not the object's.
      r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
      r.headers.erase(bhttp::field::accept_ranges);
    }
    co_return r;
  }
  if (mm == "get") {
    if (auto r = co_await slo_manifest_get(env, req, o)) {
      add_trans_id(req, *r);
      tempurl_decorate(req, t, *r);
      co_return std::move(*r);
    }
  } else if (auto r = co_await large_object_get(env, req, resolved, o)) {
    add_trans_id(req, *r);
    tempurl_decorate(req, t, *r);
    cors_decorate(req, rows->container ? &*rows->container : nullptr, *r);
    co_return std::move(*r);
  }

  Response res;
  object_headers(res, o);
  add_trans_id(req, res);
  tempurl_decorate(req, t, res);
  cors_decorate(req, rows->container ? &*rows->container : nullptr, res);
  auto range = req.has_header("Range")
                   ? parse_range(req.header("Range"), o.size, env.svc->limits().max_ranges)
                   : RangeResult{};
  if (range.decision == RangeDecision::kUnsatisfiable) {
    Response r = error_for(req, make_error(ErrorCode::kRangeNotSatisfiable, ""));
    r.body = "<html><h1>Requested Range Not Satisfiable</h1><p>The Range requested is not "
             "available.</p></html>";
    r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
    r.headers.set(bhttp::field::content_range, "bytes */" + std::to_string(o.size));
    co_return r;
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
    bool verifiable = o.size <= kVerifyLimit && o.etag.size() == 32 &&
                      !o.meta.count("x-static-large-object");
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
      res.headers.set(bhttp::field::content_type,
                      "multipart/byteranges;boundary=" + boundary);
      bool first = true;
      for (const auto& r : range.ranges) {
        std::string head_text = (first ? "--" : "\r\n--") + boundary + "\r\nContent-Type: " +
                                o.content_type + "\r\nContent-Range: bytes " +
                                std::to_string(r.begin) + "-" + std::to_string(r.end - 1) + "/" +
                                std::to_string(o.size) + "\r\n\r\n";
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
    ErrorCode code = reader.error().code == ErrorCode::kNotFound ? ErrorCode::kNotFound
                                                                 : reader.error().code;
    co_return error_for(req, make_error(code, ""));
  }
  body->share_reader(o.blob_id, *reader);
  res.stream = std::move(body);
  co_return res;
}

awaitable<Response> object_post(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(env.svc->limits(), t));
  if (is_formpost(req)) co_return co_await formpost(env, req);
  auto rows = co_await load_rows(env, t, 7);
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = co_await authorize_object(env, req, t, Op::kObjectWrite, *rows);
  ONESTACK_SWIFT_TRY(req, access);
  if (auto r = object_post_precheck(req)) co_return std::move(*r);
  if (!rows->object || expired(*rows->object)) {
    co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  }
  const store::ObjectRecord& cur = *rows->object;
  auto delete_at = delete_at_of(req);
  ONESTACK_SWIFT_TRY(req, delete_at);
  std::vector<std::string> removed;
  auto updates = metadata_updates(env.svc->limits(), req, "x-object-meta-",
                                  {"content-disposition", "content-encoding", "x-delete-at",
                                   "cache-control", "content-language", "expires",
                                   "x-robots-tag"},
                                  &removed);
  ONESTACK_SWIFT_TRY(req, updates);
  // A POST replaces the user metadata wholesale (Swift's fast-POST); what
  // makes the object a manifest or a symlink, and system metadata, stay.
  store::Metadata meta;
  for (const auto& [k, v] : cur.meta) {
    if (k == "x-static-large-object" || k == "x-object-manifest" ||
        k.rfind("x-symlink-target", 0) == 0 || k == "x-object-version-id" ||
        k.rfind("x-object-sysmeta-", 0) == 0) {
      meta[k] = v;
    }
  }
  set_object_meta(meta, *updates, {});
  if (req.has_header("X-Object-Manifest")) meta["x-object-manifest"] = std::string(req.header("X-Object-Manifest"));
  ONESTACK_SWIFT_TRY(req, check_metadata_limits(env.svc->limits(), meta, "x-object-meta-"));
  std::string ct = req.has_header("Content-Type") ? std::string(req.header("Content-Type")) : cur.content_type;
  int64_t at = *delete_at;
  if (!req.has_header("X-Delete-At") && !req.has_header("X-Delete-After")) {
    at = req.has_header("X-Remove-Delete-At") ? 0 : cur.delete_at;
  }
  auto job = [&]() { return env.svc->store().update_object(t.account, t.container, t.object, meta, ct, at); };
  ONESTACK_SWIFT_TRY(req, co_await env.svc->pool().run(job));
  if (auto r = symlink_post_redirect(req, t, cur)) co_return std::move(*r);
  Response res = empty_response(req, bhttp::status::accepted);
  res.body = "<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>";
  res.headers.erase(bhttp::field::content_length);
  co_return res;
}

awaitable<Response> object_delete(Env env, Request& req) {
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(env.svc->limits(), t));
  auto rows = co_await load_rows(env, t, 7);
  ONESTACK_SWIFT_TRY(req, rows);
  auto access = co_await authorize_object(env, req, t, Op::kObjectWrite, *rows);
  ONESTACK_SWIFT_TRY(req, access);
  if (!rows->container) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  if (req.query.get("multipart-manifest") == "delete" && rows->object &&
      rows->object->meta.count("x-static-large-object")) {
    co_return co_await slo_delete(env, req, t, *rows->object);
  }
  if (auto r = co_await version_delete(env, req, t, *rows->container)) co_return std::move(*r);
  if (!rows->object) co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
  bool was_expired = expired(*rows->object);
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
  ONESTACK_SWIFT_TRY(req, check_names(env.svc->limits(), t));
  if (!req.has_header("Destination")) {
    co_return error_for(req, make_error(ErrorCode::kPreconditionFailed,
                                        "Destination header required"));
  }
  std::string account = t.account;
  if (req.has_header("Destination-Account")) {
    std::string decoded;
    if (!http::percent_decode(req.header("Destination-Account"), &decoded)) {
      co_return error_for(req, make_error(ErrorCode::kPreconditionFailed, "Bad Destination-Account"));
    }
    account = decoded;
  }
  auto dst = parse_ref(req.header("Destination"), account);
  ONESTACK_SWIFT_TRY(req, dst);
  co_return co_await do_copy(env, req, t, *dst);
}

}  // namespace onestack::object::api
