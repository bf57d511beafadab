// Issues and validates Keystone-format Fernet tokens: the msgpack payload
// (payload.h) sealed with the primary key of a Keystone key repository
// (key_repository.h, fernet.h), with the base64 '=' padding stripped as
// keystone/token/token_formatters.py does. A token issued here validates in
// Keystone and the other way round, given the same key repository and the
// same `[auth] methods` list.
//
// Thread-safety: issue() and validate() only read an immutable KeySet through
// a snapshot loaded from a std::atomic<std::shared_ptr> (no mutex; the load
// itself is a few instructions under libstdc++'s internal spin bit), so any
// number of threads may call them at once, also while reload() or set_keys()
// swap in a new key set: each call finishes with the snapshot it started
// with.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "identity/token/key_repository.h"
#include "identity/token/payload.h"

namespace onestack::identity::token {

class TokenFormatter {
 public:
  // A formatter for the repository at `key_dir`, with no keys loaded yet:
  // call reload() before use. `auth_methods` is the `[auth] methods` list
  // (defaults to keystone's). issue() stamps tokens with `clock`'s time;
  // the clock is borrowed and must outlive the formatter.
  explicit TokenFormatter(std::filesystem::path key_dir,
                          std::vector<std::string> auth_methods = default_auth_methods(),
                          const Clock& clock = SystemClock::instance());

  // Builds a formatter and loads its keys. Returns load's error (kUnavailable
  // when the repository is missing or empty, kInvalidArgument for a bad key).
  static Result<std::unique_ptr<TokenFormatter>> open(
      std::filesystem::path key_dir, std::vector<std::string> auth_methods = default_auth_methods(),
      const Clock& clock = SystemClock::instance());

  TokenFormatter(const TokenFormatter&) = delete;
  TokenFormatter& operator=(const TokenFormatter&) = delete;

  // Re-reads the key repository and, on success, atomically replaces the key
  // set, so a rotation takes effect without a restart. On failure the old key
  // set stays in use and the error is returned. Safe to call concurrently
  // with everything (concurrent reloads: the last to finish wins).
  Status reload();

  // Replaces the key set with `keys` (primary first), e.g. for tests.
  void set_keys(std::shared_ptr<const KeySet> keys);

  // The key set in use now (null before the first successful load).
  std::shared_ptr<const KeySet> keys() const;

  // Returns a token for `payload` (its issued_at is ignored) encrypted with
  // the primary key and stamped with the clock's time (whole seconds). Returns
  // kInvalidArgument for a payload encode_payload() rejects, kUnavailable when
  // no keys are loaded.
  Result<std::string> issue(const TokenPayload& payload) const;
  // As issue(), stamped with `now_unix` instead of the clock.
  Result<std::string> issue_at(const TokenPayload& payload, uint64_t now_unix) const;

  // Decrypts and decodes `token`, filling issued_at from its Fernet
  // timestamp. Checks neither expiry nor revocation: the caller does.
  // Returns kUnauthenticated for a token no loaded key opens or whose
  // payload is malformed or unsupported, kUnavailable when no keys are
  // loaded.
  Result<TokenPayload> validate(std::string_view token) const;

  // Returns a new audit id: 16 random bytes as url-safe base64 without
  // padding (22 characters), as keystone's random_urlsafe_str(). Thread-safe.
  static std::string new_audit_id();

 private:
  const std::filesystem::path key_dir_;
  const std::vector<std::string> auth_methods_;
  const Clock& clock_;
  // Swapped whole by reload()/set_keys(); never mutated in place.
  std::atomic<std::shared_ptr<const KeySet>> keys_;
};

}  // namespace onestack::identity::token
