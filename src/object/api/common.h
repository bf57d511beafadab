// Swift v1 over HTTP: the pieces every object route shares — Swift's error
// bodies, its transaction ids, request targets, metadata headers, and who
// may do what (keystoneauth's rules and the ACLs).
//
// Handlers are coroutines taking the Request by reference and everything
// else by value or string_view (see identity/api/common.h: g++ 12 destroys
// some temporaries of a co_await expression twice).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/status.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/http/request.h"
#include "core/http/response.h"
#include "core/result.h"
#include "object/service/object_service.h"

namespace onestack::object::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;
namespace bhttp = boost::beast::http;

struct Env {
  ObjectService* svc;
};

// The status Swift answers for an error of this kind.
bhttp::status swift_status(ErrorCode c);

// swob's title and explanation of an HTTP status (RESPONSE_REASONS), for
// the statuses that have them.
struct SwobReason {
  std::string_view title;
  std::string_view explanation;
};
std::optional<SwobReason> swob_reason(unsigned code);
// The body swob writes for a response given none:
// "<html><h1>Title</h1><p>Explanation</p></html>", or "" for statuses
// without an explanation (200, 201, 204, 206, 304).
std::string swob_default_body(unsigned code);
// The error responder of the object-store listener: the error's message as
// the body, or swob's default body when it has none (and always for server
// failures, whose messages are for the log); Content-Type text/html, as
// every swob response has unless it sets another.
Response swift_error(const Error& e);
// An error response with Swift's headers for `req` (X-Trans-Id).
Response error_for(const Request& req, const Error& e);
// A response with `status`, swob's default body for it (202's "Accepted"
// page; none for 2xx without one) and Swift's common headers.
Response empty_response(const Request& req, bhttp::status status);
// Sets X-Trans-Id (and Swift's X-Openstack-Request-Id twin) on `res`.
void add_trans_id(const Request& req, Response& res);
// A copy of `req` without its body, for work that goes on after the
// handler returns (a job behind a heartbeat).
Request detached(const Request& req);
// The object-store listener's last word on every response, the core's own
// 404/405/413 included: a transaction id, and X-Openstack-Request-Id equal
// to it (as Swift's catch_errors middleware answers).
// A 401 also gets swob's challenge, Swift realm="<account>", and, unless a
// TempURL or FormPost signature was refused (those middlewares answer
// before authtoken sees the request), keystonemiddleware's
// Keystone uri="<auth_uri>".
// A 401 whose WWW-Authenticate is kKeystoneChallengeOnly gets Keystone's
// challenge alone (the answer of a signed request refused past its path).
void finalize_response(const Request& req, Response& res, std::string_view auth_uri);
inline constexpr std::string_view kKeystoneChallengeOnly = "Keystone";

#define ONESTACK_SWIFT_TRY(req, expr)                       \
  do {                                                      \
    auto _st = (expr);                                      \
    if (!_st.ok()) co_return error_for((req), _st.error()); \
  } while (0)

// The account/container/object a request names, decoded.
struct Target {
  std::string account;
  std::string container;  // "" at account level
  std::string object;     // "" at account or container level
};

// Whether `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool valid_utf8(std::string_view s);

// Validates the names as Swift's proxy does for every request: UTF-8 and
// no NUL, else kPreconditionFailed (412).
Status check_names(const Target& t);
// The length limit of one level's name, in characters (Swift on Python 3
// measures decoded names), checked only where Swift checks it: every
// account request (400, text/html), a container PUT (400, text/html) and
// an object PUT or copy (400, text/plain, constraints.check_object_creation).
// Elsewhere a name too long is simply not found.
enum class NameLevel { kAccount, kContainer, kObject };
Status check_name_length(const Limits& limits, const Target& t, NameLevel level);

// What the caller may do on the target's account and container.
enum class Op {
  kAccountRead,     // HEAD/GET account
  kAccountWrite,    // POST account
  kContainerAdmin,  // PUT/DELETE/POST container
  kContainerRead,   // HEAD/GET container (listing)
  kObjectRead,      // HEAD/GET object
  kObjectWrite,     // PUT/POST/DELETE/COPY object
};

struct Access {
  bool owner = false;     // may see ACL headers and everything else
  bool reseller = false;  // ResellerAdmin: any account, account quotas
};

// Decides whether `req`'s caller may perform `op` on `t`. `account_meta` and
// `container_meta` are the target's stored metadata (ACLs live there); pass
// null when absent. kUnauthenticated when no valid token came and the ACLs do
// not allow anonymous access, kForbidden when the caller is known but not
// allowed.
Result<Access> authorize(const Env& env, const Request& req, const Target& t, Op op,
                         const store::Metadata* account_meta,
                         const store::Metadata* container_meta);

// Metadata headers of `req` with `prefix` ("x-container-meta-"), plus the
// listed extra (non-prefixed) headers, lower-cased; "X-Remove-<prefix>name"
// gives an empty value (removal). Checks Swift's metadata limits: 400 on a
// violation.
//
// Objects keep empty values (an object's metadata is replaced wholesale, so
// "X-Object-Meta-Flag:" is a value, not a removal): pass `removed` and the
// names of X-Remove-* headers go there instead of getting empty values.
// Header names spelled with "_" count as "-" (Swift sees them through WSGI,
// which cannot tell the two apart).
Result<store::Metadata> metadata_updates(const Limits& limits, const Request& req,
                                         std::string_view prefix,
                                         std::initializer_list<std::string_view> extra,
                                         std::vector<std::string>* removed = nullptr);
// Checks a complete metadata set against the limits (after merging): 400.
// Who checks sets the error's media type: the proxy's checks of a request
// answer text/plain, an account or container server's check of what it
// would store answers swob's text/html (DatabaseBroker.validate_metadata).
enum class MetaCheck { kRequest, kStored };
Status check_metadata_limits(const Limits& limits, const store::Metadata& meta,
                             std::string_view prefix, MetaCheck who = MetaCheck::kRequest);
// Writes `meta` as response headers, title-cased ("X-Object-Meta-Color").
void put_meta_headers(Response& res, const store::Metadata& meta);
// "x-object-meta-color" -> "X-Object-Meta-Color".
std::string title_case(std::string_view lower);
// Applies `updates` to `meta` (empty value removes).
void merge_metadata(store::Metadata& meta, const store::Metadata& updates);

// Runs `fn` on the service's worker pool.
template <typename F>
auto on_pool(const Env& env, F fn) {
  return env.svc->pool().run(std::move(fn));
}

}  // namespace onestack::object::api
