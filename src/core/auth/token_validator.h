// The one thing every service needs from identity: turn a token string into
// an AuthContext. Implemented by the identity service, in process.
#pragma once

#include <string_view>

#include "core/auth/auth_context.h"
#include "core/result.h"

namespace onestack::auth {

class TokenValidator {
 public:
  virtual ~TokenValidator() = default;
  // Validates `token` (signature, expiry, revocation, that its user, scope
  // and roles still exist) and returns the caller's context; kUnauthenticated
  // when the token is not acceptable, kNotFound when `allow_expired` asked for
  // an expired token that is past the grace window. Must not block on disk or
  // database: it is called on I/O threads. Thread-safe.
  virtual Result<AuthContext> validate(std::string_view token, bool allow_expired) const = 0;
};

}  // namespace onestack::auth
