// The plaintext inside a Keystone Fernet token: a msgpack array whose first
// element is a payload version and whose rest depends on it
// (keystone/token/token_formatters.py, Zed). Supported versions:
//   0 unscoped                [user, methods, expires_at, audit_ids]
//   1 domain-scoped           [user, methods, domain, expires_at, audit_ids]
//   2 project-scoped          [user, methods, project, expires_at, audit_ids]
//   8 system-scoped           [user, methods, system, expires_at, audit_ids]
//   9 application credential  [user, methods, project, expires_at, audit_ids, app_cred]
// where user/project/app_cred are [true, 16 raw bytes] for a 32-hex uuid id and
// [false, id string] otherwise; domain is the 16 raw bytes of a uuid id or a
// plain string (Keystone's configurable default domain "default"); methods is
// an integer bitmask over the `[auth] methods` list; expires_at is a float
// (unix seconds); audit_ids are the raw bytes of the urlsafe-base64 ids.
// Encoding uses msgpack's bin type for bytes and str for text, as Keystone's
// msgpack >= 1.0 does, so the same payload encodes to the same bytes.
// Trust (3), federated (4-6) and OAuth1 (7) payloads are not supported yet:
// decode returns kUnauthenticated for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace onestack::identity::token {

enum class Scope {
  kUnscoped,
  kDomain,
  kProject,
  kSystem,
  kApplicationCredential,  // project-scoped through an application credential
};

struct TokenPayload {
  std::string user_id;
  std::vector<std::string> methods;  // auth method names, e.g. {"password"}
  Scope scope = Scope::kUnscoped;
  std::string project_id;              // kProject and kApplicationCredential
  std::string domain_id;               // kDomain
  std::string system;                  // kSystem: "all"
  std::string app_cred_id;             // kApplicationCredential
  double expires_at = 0;               // unix seconds, with microseconds as keystone keeps them
  std::vector<std::string> audit_ids;  // 22-char urlsafe base64 (no padding); 1 or 2
  uint64_t issued_at = 0;              // unix seconds; set by decoding from the Fernet timestamp

  friend bool operator==(const TokenPayload&, const TokenPayload&) = default;
};

// Keystone's default `[auth] methods`, whose order gives each method its bit
// (external = 1, password = 2, token = 4, ...).
const std::vector<std::string>& default_auth_methods();

// Returns the bitmask for `methods` over `auth_methods` (bit i for entry i),
// plus Keystone's fixed high bits for "ec2credential" (1 << 32) and
// "oauth2_credential" (1 << 33). Returns kInvalidArgument naming a method that
// is not in the list (Keystone would silently drop it).
Result<uint64_t> methods_to_bitmask(std::span<const std::string> methods,
                                    std::span<const std::string> auth_methods);

// Returns the method names whose bits are set, highest bit first (Keystone's
// order). Bits with no known method are ignored.
std::vector<std::string> bitmask_to_methods(uint64_t bitmask,
                                            std::span<const std::string> auth_methods);

// Returns the msgpack bytes for `payload` (issued_at is not part of them).
// Returns kInvalidArgument for a payload the format cannot carry: empty user
// id, missing scope target, unknown method, audit id that is not canonical
// urlsafe base64, no audit id or more than kMaxAuditIds. Thread-safe.
Result<std::string> encode_payload(
    const TokenPayload& payload,
    std::span<const std::string> auth_methods = default_auth_methods());

// Parses msgpack bytes produced by encode_payload() or by Keystone. The
// result's issued_at is 0: the caller fills it from the Fernet timestamp.
// Returns kUnauthenticated for anything malformed: truncated data, trailing
// bytes, wrong types, unknown or unsupported version, oversized arrays,
// invalid UTF-8 in text. Never reads outside `bytes`. Thread-safe.
Result<TokenPayload> decode_payload(
    std::string_view bytes, std::span<const std::string> auth_methods = default_auth_methods());

// Returns `unix_seconds` as Keystone shows a token's expires_at / issued_at:
// ISO 8601 UTC with a microsecond field that is always zero
// ("2031-05-06T07:08:09.000000Z"; keystone/common/utils.py isotime with
// subsecond=True, after Python rounds the float to microseconds).
// Thread-safe.
std::string keystone_isotime(double unix_seconds);

// Most audit ids encode_payload() accepts: Keystone puts the token's own and,
// for a rescoped token, its parent's. decode_payload() tolerates up to
// kMaxDecodedAuditIds so a longer chain is an error rather than a surprise.
inline constexpr size_t kMaxAuditIds = 2;
inline constexpr size_t kMaxDecodedAuditIds = 8;

}  // namespace onestack::identity::token
