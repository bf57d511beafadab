#include "object/api/common.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <cctype>

#include "core/http/router.h"
#include "core/json.h"
#include "object/api/features.h"

namespace onestack::object::api {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c >> 5) == 6) {
      n = 1, cp = c & 0x1f;
    } else if ((c >> 4) == 14) {
      n = 2, cp = c & 0x0f;
    } else if ((c >> 3) == 30) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bhttp::status swift_status(ErrorCode c) {
  switch (c) {
    case ErrorCode::kNotFound: return bhttp::status::not_found;
    case ErrorCode::kConflict: return bhttp::status::conflict;
    case ErrorCode::kUnauthenticated: return bhttp::status::unauthorized;
    case ErrorCode::kForbidden: return bhttp::status::forbidden;
    case ErrorCode::kInvalidArgument: return bhttp::status::bad_request;
    case ErrorCode::kPreconditionFailed: return bhttp::status::precondition_failed;
    case ErrorCode::kRangeNotSatisfiable: return bhttp::status::range_not_satisfiable;
    case ErrorCode::kTooLarge: return bhttp::status::payload_too_large;
    case ErrorCode::kInsufficientStorage: return bhttp::status::insufficient_storage;
    case ErrorCode::kUnavailable: return bhttp::status::service_unavailable;
    case ErrorCode::kMethodNotAllowed: return bhttp::status::method_not_allowed;
    case ErrorCode::kNotImplemented: return bhttp::status::not_implemented;
    case ErrorCode::kNotAcceptable: return bhttp::status::not_acceptable;
    case ErrorCode::kLengthRequired: return bhttp::status::length_required;
    case ErrorCode::kUnprocessable: return bhttp::status::unprocessable_entity;
    // Swift's quota middlewares answer 413 (account_quotas.py, container_quotas.py).
    case ErrorCode::kOverQuota: return bhttp::status::payload_too_large;
    case ErrorCode::kInternal: return bhttp::status::internal_server_error;
  }
  return bhttp::status::internal_server_error;
}

std::optional<SwobReason> swob_reason(unsigned code) {
  // swift/common/swob.py RESPONSE_REASONS: the title and explanation swob
  // writes as the body of a response that was given none.
  switch (code) {
    case 202: return SwobReason{"Accepted", "The request is accepted for processing."};
    case 301: return SwobReason{"Moved Permanently", "The resource has moved permanently."};
    case 302: return SwobReason{"Found", "The resource has moved temporarily."};
    case 303:
      return SwobReason{"See Other",
                        "The response to the request can be found under a different URI."};
    case 307: return SwobReason{"Temporary Redirect", "The resource has moved temporarily."};
    case 400:
      return SwobReason{"Bad Request",
                        "The server could not comply with the request since it is either "
                        "malformed or otherwise incorrect."};
    case 401:
      return SwobReason{"Unauthorized",
                        "This server could not verify that you are authorized to access the "
                        "document you requested."};
    case 403: return SwobReason{"Forbidden", "Access was denied to this resource."};
    case 404: return SwobReason{"Not Found", "The resource could not be found."};
    case 405:
      return SwobReason{"Method Not Allowed", "The method is not allowed for this resource."};
    case 406:
      return SwobReason{"Not Acceptable",
                        "The resource is not available in a format acceptable to your browser."};
    case 408:
      return SwobReason{"Request Timeout",
                        "The server has waited too long for the request to be sent by the "
                        "client."};
    case 409:
      return SwobReason{"Conflict", "There was a conflict when trying to complete your request."};
    case 410: return SwobReason{"Gone", "This resource is no longer available."};
    case 411: return SwobReason{"Length Required", "Content-Length header required."};
    case 412:
      return SwobReason{"Precondition Failed", "A precondition for this request was not met."};
    case 413:
      return SwobReason{"Request Entity Too Large",
                        "The body of your request was too large for this server."};
    case 414:
      return SwobReason{"Request URI Too Long", "The request URI was too long for this server."};
    case 415:
      return SwobReason{"Unsupported Media Type",
                        "The request media type is not supported by this server."};
    case 416:
      return SwobReason{"Requested Range Not Satisfiable", "The Range requested is not available."};
    case 417: return SwobReason{"Expectation Failed", "Expectation failed."};
    case 422:
      return SwobReason{"Unprocessable Entity", "Unable to process the contained instructions"};
    case 499: return SwobReason{"Client Disconnect", "The client was disconnected during request."};
    case 500:
      return SwobReason{"Internal Error",
                        "The server has either erred or is incapable of performing the "
                        "requested operation."};
    case 501:
      return SwobReason{"Not Implemented",
                        "The requested method is not implemented by this server."};
    case 502: return SwobReason{"Bad Gateway", "Bad gateway."};
    case 503:
      return SwobReason{"Service Unavailable",
                        "The server is currently unavailable. Please try again at a later time."};
    case 504:
      return SwobReason{"Gateway Timeout", "A timeout has occurred speaking to a backend server."};
    // swob's text goes on with "Drive: %(drive)s", naming a storage node's
    // disk; onestack has no such disks to name.
    case 507:
      return SwobReason{"Insufficient Storage", "There was not enough space to save the resource."};
    default: return std::nullopt;
  }
}

std::string swob_default_body(unsigned code) {
  auto r = swob_reason(code);
  if (!r) return "";
  return std::string("<html><h1>") + std::string(r->title) + "</h1><p>" +
         std::string(r->explanation) + "</p></html>";
}

Response swift_error(const Error& e) {
  Response r;
  r.status = swift_status(e.code);
  const auto code = static_cast<unsigned>(r.status);
  // A server-side failure's message names files, databases and system
  // errors: the operator's business (error_for logs it), never the
  // client's, who gets swob's body for the status.
  const bool server_side = e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable ||
                           e.code == ErrorCode::kInsufficientStorage;
  // Swift words a 404 or 405 its own way only in plain text (a missing
  // version); other messages here (the router's among them) are for logs.
  const bool fixed = (e.code == ErrorCode::kNotFound || e.code == ErrorCode::kMethodNotAllowed) &&
                     e.media_type.empty();
  r.body = e.message.empty() || server_side || fixed ? swob_default_body(code) : e.message;
  // swob's Response starts with this Content-Type whatever its body; a check
  // that words its own answer may say text/plain.
  const bool own_words = !e.message.empty() && r.body == e.message && !e.media_type.empty();
  r.headers.set(bhttp::field::content_type,
                own_words ? e.media_type : std::string_view("text/html; charset=UTF-8"));
  return r;
}

Request detached(const Request& req) {
  Request copy = req;
  copy.body.clear();
  copy.body_reader = nullptr;
  return copy;
}

void add_trans_id(const Request& req, Response& res) {
  // Swift: "tx" + 21 hex digits + "-" + hex seconds; derived from our
  // request id so the access log and the client agree.
  std::string hex;
  for (char c : req.request_id) {
    if (std::isxdigit(static_cast<unsigned char>(c))) hex.push_back(c);
    if (hex.size() == 21) break;
  }
  while (hex.size() < 21) hex.push_back('0');
  char tail[24];
  std::snprintf(tail, sizeof tail, "-%010llx", static_cast<unsigned long long>(std::time(nullptr)));
  std::string id = "tx" + hex + tail;
  res.headers.set("X-Trans-Id", id);
}

namespace {

// swob.Response.www_authenticate: the account of a /<version>/<account>...
// path, percent-quoted, or "unknown".
std::string swift_realm(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') return "unknown";
  size_t i = 1;
  while (parts.size() < 2 && i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    if (j == path.size()) break;
    i = j + 1;
  }
  if (parts.size() < 2 || parts[0].empty() || parts[1].empty() || parts[1] == "v1.0" ||
      parts[1] == "auth") {
    return "unknown";
  }
  static const char* kHex = "0123456789ABCDEF";
  std::string realm;
  if (!http::percent_decode(parts[1], &realm)) return "unknown";
  std::string out;
  for (char c : realm) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || std::string_view("_.-~/").find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace

namespace {

// How many of account, container and object a /v1/... path names (0 for
// other paths).
int path_level(std::string_view path) {
  if (path.rfind("/v1/", 0) != 0 && path.rfind("/v1.0/", 0) != 0) return 0;
  path.remove_prefix(path.find('/', 1) + 1);
  int level = 0;
  while (!path.empty() && level < 3) {
    ++level;
    size_t j = path.find('/');
    if (j == std::string_view::npos) break;
    path.remove_prefix(j + 1);
  }
  return level;
}

}  // namespace

void finalize_response(const Request& req, Response& res, std::string_view auth_uri) {
  const int level = path_level(req.path);
  if (res.status == bhttp::status::method_not_allowed && level > 0) {
    // The proxy controllers' allowed_methods (COPY is the copy middleware's,
    // account PUT and DELETE need allow_account_management).
    res.headers.set(bhttp::field::allow, level == 1 ? "GET, HEAD, OPTIONS, POST"
                                                    : "DELETE, GET, HEAD, OPTIONS, POST, PUT");
  }
  if (req.method == bhttp::verb::head && static_cast<unsigned>(res.status) >= 400) {
    // A HEAD answer has no body. swob still counts one a check worded
    // itself; its default page is never made for a HEAD (Content-Length 0).
    const bool own_words =
        !res.body.empty() && res.body != swob_default_body(static_cast<unsigned>(res.status));
    if (own_words) {
      res.headers.set(bhttp::field::content_length, std::to_string(res.body.size()));
    } else {
      res.headers.erase(bhttp::field::content_length);
    }
    res.body.clear();
  }
  // swob names the realm of a 401 made as one; the OPTIONS handler turns
  // its 200 into a 401 afterwards, which keeps only Keystone's header.
  if (res.status == bhttp::status::unauthorized) {
    const bool marked = res.headers[bhttp::field::www_authenticate] == kKeystoneChallengeOnly;
    if ((marked || req.method == bhttp::verb::options) && !auth_uri.empty()) {
      res.headers.set(bhttp::field::www_authenticate,
                      "Keystone uri=\"" + std::string(auth_uri) + "\"");
    } else if (marked) {
      res.headers.erase(bhttp::field::www_authenticate);  // no Keystone to name
    }
  }
  if (res.status == bhttp::status::unauthorized &&
      res.headers.find(bhttp::field::www_authenticate) == res.headers.end()) {
    // TempURL and FormPost build their 401 without the request: realm
    // "unknown".
    const bool signed_request = has_tempurl_params(req) || is_formpost(req);
    res.headers.insert(bhttp::field::www_authenticate,
                       "Swift realm=\"" +
                           (signed_request ? std::string("unknown") : swift_realm(req.path)) +
                           "\"");
    if (!auth_uri.empty() && !signed_request) {
      res.headers.insert(bhttp::field::www_authenticate,
                         "Keystone uri=\"" + std::string(auth_uri) + "\"");
    }
  }
  if (res.headers.find("X-Trans-Id") == res.headers.end()) add_trans_id(req, res);
  std::string id(res.headers.find("X-Trans-Id")->value());
  res.headers.set("X-Openstack-Request-Id", id);
}

Response error_for(const Request& req, const Error& e) {
  Response r = swift_error(e);
  add_trans_id(req, r);
  if (static_cast<int>(r.status) >= 500 && e.code != ErrorCode::kNotImplemented) {
    // The path only: a query may hold a TempURL signature.
    spdlog::warn("object-store: {} {} ({}): {}", static_cast<int>(r.status), req.path,
                 r.headers.find("X-Trans-Id")->value(), e.message);
  }
  return r;
}

Response empty_response(const Request& req, bhttp::status status) {
  Response r;
  r.status = status;
  r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
  r.body = swob_default_body(static_cast<unsigned>(status));
  if (r.body.empty()) r.headers.set(bhttp::field::content_length, "0");
  add_trans_id(req, r);
  return r;
}

namespace {

// Characters (code points) of valid UTF-8 `s`: Swift on Python 3 measures
// the names it decoded from the path, not their bytes.
size_t code_points(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

}  // namespace

Status check_names(const Target& t) {
  for (const std::string* s : {&t.account, &t.container, &t.object}) {
    if (s->find('\0') != std::string::npos || !valid_utf8(*s)) {
      return make_error(ErrorCode::kPreconditionFailed, "Invalid UTF8 or contains NULL");
    }
  }
  return {};
}

Status check_name_length(const Limits& limits, const Target& t, NameLevel level) {
  auto too_long = [](const char* what, size_t n, size_t limit) {
    return std::string(what) + " name length of " + std::to_string(n) + " longer than " +
           std::to_string(limit);
  };
  switch (level) {
    case NameLevel::kAccount:
      if (size_t n = code_points(t.account); n > limits.max_account_name_length) {
        return make_error(ErrorCode::kInvalidArgument,
                          too_long("Account", n, limits.max_account_name_length));
      }
      break;
    case NameLevel::kContainer:
      if (size_t n = code_points(t.container); n > limits.max_container_name_length) {
        return make_error(ErrorCode::kInvalidArgument,
                          too_long("Container", n, limits.max_container_name_length));
      }
      break;
    case NameLevel::kObject:
      if (size_t n = code_points(t.object); n > limits.max_object_name_length) {
        return make_plain_error(ErrorCode::kInvalidArgument,
                                too_long("Object", n, limits.max_object_name_length));
      }
      break;
  }
  return {};
}

namespace {

// Names are unique only within a domain, so keystoneauth matches ACL
// entries by name only when the caller's user and project are both in the
// default domain (its _is_name_allowed_in_acl, default_domain_id "default").
bool names_allowed(const auth::AuthContext& a) {
  auto is_default = [](const std::string& d) { return d.empty() || d == "default"; };
  return is_default(a.user_domain_id) && is_default(a.project_domain_id);
}

// The identities an ACL entry may name for this caller (keystoneauth:
// "<project>:<user>" by id or name, with "*" on either side).
bool acl_names_caller(std::string_view entry, const auth::AuthContext& a) {
  size_t colon = entry.find(':');
  if (colon == std::string_view::npos) {
    // A bare user (or project) id, as account ACLs may list.
    return entry == a.user_id || entry == a.project_id;
  }
  std::string_view proj = entry.substr(0, colon), user = entry.substr(colon + 1);
  bool names = names_allowed(a);
  bool proj_ok = proj == "*" || (!a.project_id.empty() && proj == a.project_id) ||
                 (names && !a.project_name.empty() && proj == a.project_name);
  bool user_ok =
      user == "*" || user == a.user_id || (names && !a.user_name.empty() && user == a.user_name);
  return proj_ok && user_ok;
}

std::vector<std::string> split_acl(std::string_view acl) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= acl.size()) {
    size_t j = acl.find(',', i);
    if (j == std::string_view::npos) j = acl.size();
    std::string_view item = acl.substr(i, j - i);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())))
      item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    i = j + 1;
  }
  return out;
}

// The host of a Referer header as Python's urlparse(...).hostname gives it
// (lower-cased, no user info or port), or "unknown" — Swift's stand-in
// when there is none.
std::string referer_host(std::string_view referer) {
  size_t slashes = referer.find("//");
  if (slashes == std::string_view::npos) return "unknown";
  std::string_view netloc = referer.substr(slashes + 2);
  netloc = netloc.substr(0, netloc.find_first_of("/?#"));
  if (size_t at = netloc.rfind('@'); at != std::string_view::npos) netloc.remove_prefix(at + 1);
  if (!netloc.empty() && netloc.front() == '[') {
    netloc = netloc.substr(1, netloc.find(']') - 1);
  } else {
    netloc = netloc.substr(0, netloc.find(':'));
  }
  if (netloc.empty()) return "unknown";
  return lower(netloc);
}

// Swift's referrer_allowed (common/middleware/acl.py): the ".r:" entries
// apply in order and the last one that matches the Referer's host decides.
// "*" is any host, ".example.com" any host ending so (not example.com
// itself), "-" before a host or domain denies it.
bool referrer_allowed(const std::vector<std::string_view>& patterns,
                      std::string_view referer_header) {
  std::string host = referer_host(referer_header);
  auto matches = [&host](std::string_view p) {
    return p == host || (!p.empty() && p.front() == '.' && host.size() >= p.size() &&
                         std::string_view(host).substr(host.size() - p.size()) == p);
  };
  bool allow = false;
  for (std::string_view p : patterns) {
    if (!p.empty() && p.front() == '-') {
      if (matches(p.substr(1))) allow = false;
    } else if (p == "*" || matches(p)) {
      allow = true;
    }
  }
  return allow;
}

struct ContainerAcl {
  bool referrer_read = false;  // .r: matched this request
  bool listings = false;       // .rlistings
  bool user_read = false;      // caller named in X-Container-Read
  bool user_write = false;     // caller named in X-Container-Write
};

ContainerAcl evaluate_container_acl(const Request& req, const store::Metadata& meta) {
  ContainerAcl out;
  const auth::AuthContext* a = req.auth ? &*req.auth : nullptr;
  if (auto it = meta.find("x-container-read"); it != meta.end()) {
    std::vector<std::string> entries = split_acl(it->second);
    std::vector<std::string_view> referrers;
    for (const auto& e : entries) {
      if (e.rfind(".r:", 0) == 0) {
        referrers.push_back(std::string_view(e).substr(3));
      } else if (e == ".rlistings") {
        out.listings = true;
      } else if (a && acl_names_caller(e, *a)) {
        out.user_read = true;
      }
    }
    out.referrer_read = referrer_allowed(referrers, req.header("Referer"));
  }
  if (auto it = meta.find("x-container-write"); it != meta.end() && a) {
    for (const auto& e : split_acl(it->second)) {
      if (e.rfind(".r", 0) != 0 && acl_names_caller(e, *a)) out.user_write = true;
    }
  }
  return out;
}

// Account ACL level granted to the caller: 0 none, 1 read-only,
// 2 read-write, 3 admin.
int account_acl_level(const auth::AuthContext& a, const store::Metadata& meta) {
  auto it = meta.find("x-account-access-control");
  if (it == meta.end()) return 0;
  auto parsed = parse_json_object(it->second, 4);
  if (!parsed.ok()) return 0;
  int level = 0;
  static const std::pair<const char*, int> kLevels[] = {
      {"read-only", 1}, {"read-write", 2}, {"admin", 3}};
  for (auto [key, lvl] : kLevels) {
    auto* list = parsed->if_contains(key);
    if (!list || !list->is_array()) continue;
    for (const auto& v : list->as_array()) {
      if (v.is_string() && acl_names_caller(std::string_view(v.as_string()), a)) {
        level = std::max(level, lvl);
      }
    }
  }
  return level;
}

}  // namespace

Result<Access> authorize(const Env& env, const Request& req, const Target& t, Op op,
                         const store::Metadata* account_meta,
                         const store::Metadata* container_meta) {
  const ObjectConfig& cfg = env.svc->config();
  Access access;
  const auth::AuthContext* a = req.auth ? &*req.auth : nullptr;
  if (a) {
    if (a->has_role(cfg.reseller_admin_role)) {
      access.owner = access.reseller = true;
      return access;
    }
    if (a->project_scoped() && t.account == cfg.reseller_prefix + a->project_id) {
      for (const auto& r : cfg.operator_roles) {
        if (a->has_role(r)) {
          access.owner = true;
          return access;
        }
      }
      bool read_op = op == Op::kAccountRead || op == Op::kContainerRead || op == Op::kObjectRead;
      if (read_op && a->has_role(cfg.reader_role)) return access;
    }
    if (account_meta) {
      int level = account_acl_level(*a, *account_meta);
      if (level == 3) {
        access.owner = true;
        return access;
      }
      bool read_op = op == Op::kAccountRead || op == Op::kContainerRead || op == Op::kObjectRead;
      // tempauth: read-write allows every operation on containers and
      // objects, but only reads of the account itself.
      if (level == 2 && op != Op::kAccountWrite) return access;
      if (level == 1 && read_op) return access;
    }
  }
  if (container_meta && !t.container.empty()) {
    ContainerAcl acl = evaluate_container_acl(req, *container_meta);
    switch (op) {
      case Op::kObjectRead:
        if (acl.referrer_read || acl.user_read) return access;
        break;
      case Op::kContainerRead:
        if ((acl.referrer_read && acl.listings) || acl.user_read) return access;
        break;
      case Op::kObjectWrite:
        if (acl.user_write) return access;
        break;
      default: break;
    }
  }
  if (!a) {
    return make_error(ErrorCode::kUnauthenticated, "");
  }
  return make_error(ErrorCode::kForbidden, "");
}

Result<store::Metadata> metadata_updates(const Limits& limits, const Request& req,
                                         std::string_view prefix,
                                         std::initializer_list<std::string_view> extra,
                                         std::vector<std::string>* removed) {
  store::Metadata out;
  std::vector<std::string> removes;
  std::string remove_prefix = "x-remove-" + std::string(prefix.substr(2));
  // The request's own items and bytes, counted in header order as
  // constraints.check_metadata counts them (empty values included).
  size_t count = 0, size = 0;
  for (const auto& f : req.headers) {
    std::string name = lower(f.name_string());
    for (auto& c : name) {
      if (c == '_') c = '-';
    }
    std::string value(f.value());
    if (name.rfind(prefix, 0) == 0) {
      std::string key = name.substr(prefix.size());
      // swift/common/constraints.py check_metadata names the header as
      // WSGI hands it over: the prefix, then the rest title-cased.
      const std::string shown = std::string(prefix) + title_case(key);
      if (key.empty())
        return make_plain_error(ErrorCode::kInvalidArgument, "Metadata name cannot be empty");
      if (key.size() > limits.max_meta_name_length) {
        return make_plain_error(ErrorCode::kInvalidArgument, "Metadata name too long: " + shown);
      }
      if (value.size() > limits.max_meta_value_length) {
        return make_plain_error(ErrorCode::kInvalidArgument,
                                "Metadata value longer than " +
                                    std::to_string(limits.max_meta_value_length) + ": " + shown);
      }
      ++count;
      size += key.size() + value.size();
      if (count > limits.max_meta_count) {
        return make_plain_error(
            ErrorCode::kInvalidArgument,
            "Too many metadata items; max " + std::to_string(limits.max_meta_count));
      }
      if (size > limits.max_meta_overall_size) {
        return make_plain_error(
            ErrorCode::kInvalidArgument,
            "Total metadata too large; max " + std::to_string(limits.max_meta_overall_size));
      }
      out[name] = value;
    } else if (name.rfind(remove_prefix, 0) == 0 && name.size() > remove_prefix.size()) {
      removes.push_back(std::string(prefix) + name.substr(remove_prefix.size()));
    } else {
      for (auto e : extra) {
        if (name == e)
          out[name] = value;
        else if (name == "x-remove-" + std::string(e.substr(2)))
          removes.push_back(std::string(e));
      }
    }
  }
  // A name both set and removed keeps the value set: the proxy turns each
  // X-Remove-* into an empty value first, then copies the set ones over it
  // (Controller.transfer_headers).
  for (auto& key : removes) {
    if (out.count(key)) continue;
    if (removed && key.rfind(prefix, 0) == 0) {
      removed->push_back(std::move(key));
    } else {
      out.emplace(std::move(key), "");
    }
  }
  return out;
}

Status check_metadata_limits(const Limits& limits, const store::Metadata& meta,
                             std::string_view prefix, MetaCheck who) {
  auto refuse = [who](std::string message) {
    return who == MetaCheck::kStored
               ? make_error(ErrorCode::kInvalidArgument, std::move(message))
               : make_plain_error(ErrorCode::kInvalidArgument, std::move(message));
  };
  size_t count = 0, size = 0;
  for (const auto& [k, v] : meta) {
    if (k.rfind(prefix, 0) != 0) continue;
    ++count;
    size += k.size() - prefix.size() + v.size();
  }
  if (count > limits.max_meta_count) {
    return refuse("Too many metadata items; max " + std::to_string(limits.max_meta_count));
  }
  if (size > limits.max_meta_overall_size) {
    return refuse("Total metadata too large; max " + std::to_string(limits.max_meta_overall_size));
  }
  return {};
}

std::string title_case(std::string_view l) {
  std::string out(l);
  bool up = true;
  for (auto& c : out) {
    if (up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    up = c == '-';
  }
  return out;
}

void put_meta_headers(Response& res, const store::Metadata& meta) {
  for (const auto& [k, v] : meta) res.headers.set(title_case(k), v);
}

void merge_metadata(store::Metadata& meta, const store::Metadata& updates) {
  for (const auto& [k, v] : updates) {
    if (v.empty()) {
      meta.erase(k);
    } else {
      meta[k] = v;
    }
  }
}

}  // namespace onestack::object::api
