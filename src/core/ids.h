// Identifiers. Keystone ids are 32 lower-case hex characters (a uuid4 without
// dashes); request ids are "req-" + a dashed uuid4. Strong id types keep a
// ProjectId from being passed where a UserId is expected.
#pragma once

#include <string>
#include <string_view>

namespace onestack {

// A string with a tag type, so different kinds of ids do not mix.
template <typename Tag>
class NamedId {
 public:
  NamedId() = default;
  explicit NamedId(std::string v) : v_(std::move(v)) {}
  const std::string& str() const { return v_; }
  bool empty() const { return v_.empty(); }
  friend bool operator==(const NamedId&, const NamedId&) = default;
  friend auto operator<=>(const NamedId&, const NamedId&) = default;

 private:
  std::string v_;
};

// Returns 16 bytes from OpenSSL's CSPRNG as 32 lower-case hex chars. Thread-safe.
std::string new_hex_id();
// Returns a dashed uuid4 ("8-4-4-4-12"). Thread-safe.
std::string new_uuid();
// Returns a dashed uuid4 that names a request in logs and headers (its
// request or transaction id): unique, but not secret. It comes from a
// per-thread generator seeded once from the CSPRNG, so it costs no lock and
// no entropy per request. Never use it for anything that must not be
// guessed (ids of stored things, secrets, tokens: new_hex_id).
std::string new_request_uuid();
// Returns `n` cryptographically random bytes. Thread-safe.
std::string random_bytes(size_t n);
// Returns `len` bytes at `data` as 2*len lower-case hex characters.
std::string hex_encode(const unsigned char* data, size_t len);
// True if `s` is 32 lower-case hex characters (Keystone's uuid-hex form).
bool is_hex_uuid(std::string_view s);

}  // namespace onestack
