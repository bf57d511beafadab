// Symlinks (swift/common/middleware/symlink.py): following X-Symlink-Target
// on GET/HEAD (at most symloop_max links, read access checked on each
// target), static links (X-Symlink-Target-Etag), and the POST rules.
#include <ctime>

#include "object/api/features.h"
#include "object/api/middleware.h"
#include "object/api/object_helpers.h"
#include "object/api/py_format.h"
#include "object/api/slo_manifest.h"
#include "object/api/versioning_names.h"

namespace onestack::object::api {

namespace {

// Swift's default symloop_max (announced by /info).
constexpr int kSymloopMax = 2;

bool gone(const store::ObjectRecord& o, int64_t now_unix) {
  return o.delete_at > 0 && o.delete_at <= now_unix;
}

// The next hop of link `o` in `from`'s account.
Result<Target> next_hop(const Target& from, const store::ObjectRecord& o) {
  auto it = o.meta.find("x-symlink-target");
  auto acct = o.meta.find("x-symlink-target-account");
  return parse_symlink_target(it->second, acct == o.meta.end() ? "" : acct->second, from.account);
}

std::string etag_mismatch(std::string_view found, std::string_view wanted) {
  // Swift formats both with Python's %r.
  return "Object Etag '" + std::string(found) + "' does not match X-Symlink-Target-Etag header '" +
         std::string(wanted) + "'";
}

// The etag a static link is checked against: symlink.py sits below the SLO
// middleware, so a manifest's is the manifest's own, not its segments'.
const std::string& link_target_etag(const store::ObjectRecord& o) {
  auto it = o.meta.find(kSloManifestEtagMeta);
  return it != o.meta.end() ? it->second : o.etag;
}

// Reads `t`'s row after checking that the caller may read it. nullopt when
// the object does not exist (or has expired).
awaitable<Result<std::optional<store::ObjectRecord>>> read_target(Env env, Request& req, Target t) {
  auto rows = co_await load_rows(env, t, 7);
  if (!rows.ok()) co_return rows.error();
  // As the caller reads the link: a TempURL's key reaches a target in the
  // signed account (an account key) or container (a container key).
  auto access = co_await authorize_object(env, req, t, Op::kObjectRead, *rows);
  if (!access.ok()) {
    // Past the signed path a TempURL's refusal is the proxy's plain 401.
    if (access.error().code == ErrorCode::kUnauthenticated) {
      co_return make_error(ErrorCode::kUnauthenticated, "");
    }
    co_return access.error();
  }
  if (!rows->object || gone(*rows->object, env.svc->clock().now_unix())) {
    co_return std::optional<store::ObjectRecord>{};
  }
  co_return std::optional<store::ObjectRecord>(std::move(*rows->object));
}

}  // namespace

std::string symlink_location(const Target& t) {
  // The target path as symlink.py builds it: quoted whole, "/" kept.
  return py_quote("/v1/" + t.account + "/" + t.container + "/" + t.object);
}

Response symlink_error(const Request& req, const Error& e, const Target& reached) {
  Response err = error_for(req, e);
  // A TempURL refused past the signed path: the proxy's 401 passed back
  // through authtoken, which gives only Keystone's challenge.
  if (e.code == ErrorCode::kUnauthenticated && has_tempurl_params(req)) {
    err.headers.set(bhttp::field::www_authenticate, kKeystoneChallengeOnly);
  }
  bool loop = e.message.rfind("Too many levels", 0) == 0;
  if (!reached.object.empty() && !loop) {
    err.headers.set(bhttp::field::content_location, symlink_location(reached));
  }
  return err;
}

awaitable<Result<Resolved>> resolve_symlink(Env env, Request& req, Target t, store::ObjectRecord o,
                                            Target* last_hop) {
  Resolved cur{std::move(t), std::move(o)};
  if (req.query.get("symlink") == "get") co_return cur;
  std::string want_etag;
  int hops = 0;
  while (cur.object.meta.count("x-symlink-target")) {
    if (hops >= kSymloopMax) {
      co_return make_plain_error(
          ErrorCode::kConflict,
          "Too many levels of symbolic links, maximum allowed is " + std::to_string(kSymloopMax));
    }
    auto next = next_hop(cur.target, cur.object);
    if (!next.ok()) co_return next.error();
    auto e = cur.object.meta.find("x-symlink-target-etag");
    want_etag = e == cur.object.meta.end() ? "" : e->second;
    ++hops;
    if (last_hop) *last_hop = *next;
    auto row = co_await read_target(env, req, *next);
    if (!row.ok()) co_return row.error();
    if (!*row) co_return make_error(ErrorCode::kNotFound, "");
    cur = Resolved{std::move(next).value(), std::move(**row)};
  }
  // A static link answers only while its target keeps the etag it was made with.
  if (!want_etag.empty()) {
    const std::string& found = link_target_etag(cur.object);
    if (found != want_etag)
      co_return make_plain_error(ErrorCode::kConflict, etag_mismatch(found, want_etag));
  }
  co_return cur;
}

Status symlink_put_headers(const Request& req, bool has_body, store::ObjectRecord* o) {
  // symlink.py's order: the body, a leading slash (its own check, in
  // text/plain), then the path and account checks it shares with copy
  // (check_path_header, check_account_format: swob's text/html).
  if (has_body) {
    return make_plain_error(ErrorCode::kInvalidArgument,
                            "Symlink requests require a zero byte body");
  }
  const std::string form =
      "X-Symlink-Target header must be of the form <container name>/<object name>";
  std::string target = py_unquote(req.header("X-Symlink-Target"));
  if (!target.empty() && target.front() == '/') {
    return make_plain_error(ErrorCode::kPreconditionFailed, form);
  }
  size_t slash = target.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == target.size()) {
    return make_error(ErrorCode::kPreconditionFailed, form);
  }
  o->meta["x-symlink-target"] = target;
  if (req.has_header("X-Symlink-Target-Account")) {
    std::string account = py_unquote(req.header("X-Symlink-Target-Account"));
    if (account.empty()) {
      return make_error(ErrorCode::kPreconditionFailed, "Account name cannot be empty");
    }
    if (account.find('/') != std::string::npos) {
      return make_error(ErrorCode::kPreconditionFailed, "Account name cannot contain slashes");
    }
    o->meta["x-symlink-target-account"] = account;
  }
  // A link the client gave no type is a symlink, not what its name suggests.
  if (req.header("Content-Type").empty()) o->content_type = "application/symlink";
  return {};
}

awaitable<Status> symlink_put_check(Env env, Request& req, Target t, store::ObjectRecord* o,
                                    Target* failed_at) {
  auto target = next_hop(t, *o);
  if (!target.ok()) co_return target.error();
  if (target->account == t.account && target->container == t.container &&
      target->object == t.object) {
    co_return make_plain_error(ErrorCode::kInvalidArgument, "Symlink cannot target itself");
  }
  if (!req.has_header("X-Symlink-Target-Etag")) co_return Status{};
  std::string_view etag = req.header("X-Symlink-Target-Etag");
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  if (etag.find_first_of("\";\\") != std::string_view::npos) {
    co_return make_plain_error(ErrorCode::kInvalidArgument, "Bad X-Symlink-Target-Etag format");
  }
  // Swift HEADs the target, following static links but not dynamic ones,
  // and checks the etag of what it reaches.
  Target cur = std::move(target).value();
  std::optional<store::ObjectRecord> row;
  for (int hops = 0;; ++hops) {
    auto r = co_await read_target(env, req, cur);
    if (!r.ok()) co_return r.error();
    if (!*r) {
      *failed_at = cur;
      co_return make_plain_error(ErrorCode::kConflict, "X-Symlink-Target does not exist");
    }
    row = std::move(*r);
    if (!row->meta.count("x-symlink-target") || !row->meta.count("x-symlink-target-etag")) break;
    if (hops >= kSymloopMax) {
      co_return make_plain_error(
          ErrorCode::kConflict,
          "Too many levels of symbolic links, maximum allowed is " + std::to_string(kSymloopMax));
    }
    auto next = next_hop(cur, *row);
    if (!next.ok()) co_return next.error();
    cur = std::move(next).value();
  }
  const std::string& found = link_target_etag(*row);
  if (found != etag) {
    *failed_at = cur;
    co_return make_plain_error(ErrorCode::kConflict, etag_mismatch(found, etag));
  }
  o->meta["x-symlink-target-etag"] = std::string(etag);
  o->meta["x-symlink-target-bytes"] = std::to_string(row->size);
  if (!req.has_header("Content-Type")) o->content_type = row->content_type;
  co_return Status{};
}

std::optional<Response> object_post_precheck(const Request& req) {
  if (req.has_header("X-Symlink-Target")) {
    return error_for(req, make_plain_error(ErrorCode::kInvalidArgument,
                                           "A PUT request is required to set a symlink target"));
  }
  if (req.query.has("version-id")) {
    return error_for(
        req, make_error(ErrorCode::kInvalidArgument, "POST to a specific version is not allowed"));
  }
  return std::nullopt;
}

std::optional<Response> symlink_post_redirect(const Request& req, const Target& t,
                                              const store::ObjectRecord& o) {
  if (!o.meta.count("x-symlink-target")) return std::nullopt;
  auto target = next_hop(t, o);
  if (!target.ok()) return std::nullopt;
  // Swift applies the metadata to the link itself, then answers 307 naming
  // the target (symlink.py handle_post).
  Response res;
  res.status = bhttp::status::temporary_redirect;
  res.headers.set(bhttp::field::location, symlink_location(*target));
  if (auto e = o.meta.find("x-symlink-target-etag"); e != o.meta.end()) {
    res.headers.set("X-Symlink-Target-Etag", e->second);
  }
  res.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
  res.body =
      "The requested POST was applied to a symlink. POST directly to the target to "
      "apply requested metadata.";
  add_trans_id(req, res);
  return res;
}

}  // namespace onestack::object::api
