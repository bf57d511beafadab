// Password hashing as Keystone does it: bcrypt ("$2b$", cost 12 by default)
// through libxcrypt. Both calls are CPU-heavy (~0.2 s at cost 12): run them on
// the worker pool, never on an I/O thread. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace onestack::identity {

// Returns a bcrypt hash of `password` at `rounds` (4..31). kInternal if the
// library refuses.
Result<std::string> hash_password(std::string_view password, int rounds);

// True if `password` matches `hash`. Compares in constant time. An empty or
// malformed hash never matches.
bool verify_password(std::string_view password, const std::string& hash);

// Burns the same CPU time as a real check, for users that do not exist, so a
// wrong name and a wrong password cannot be told apart by timing.
void verify_password_dummy(std::string_view password, int rounds);

}  // namespace onestack::identity
