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

  // Whether validate() answers from a view other processes write to (a
  // database several nodes share), which sync() must bring up to date
  // before each request's validation. False by default.
  virtual bool needs_sync() const { return false; }
  // Brings the view validate() reads up to date with every write committed
  // before the call, where the database answers promptly; where it does not
  // (stalled, unreachable), returns without waiting long and validation
  // answers from the view it has. Blocking: the server runs it on its
  // blocking pool, never on an I/O thread. kUnavailable only when there is
  // no view at all. Thread-safe.
  virtual Status sync() const { return ok_status(); }
};

}  // namespace onestack::auth
