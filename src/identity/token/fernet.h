// Fernet (https://github.com/fernet/spec): authenticated symmetric tokens.
// A token is urlsafe-base64 of
//   0x80 | 8-byte big-endian issue time | 16-byte IV |
//   AES-128-CBC(PKCS7(plaintext)) | HMAC-SHA256(everything before it)
// A key is urlsafe-base64 of 32 bytes: signing key first, encryption key last.
// This is the layer Keystone's Fernet tokens are built on (via Python's
// `cryptography.fernet.MultiFernet`): encrypt with the primary key, decrypt by
// trying every key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace onestack::identity::token {

// Longest token text decrypt() looks at; longer input is rejected before any
// decoding. Keystone's own tokens stay near 200 characters, federated ones
// well under 1 KiB.
inline constexpr size_t kMaxTokenChars = 4096;

struct FernetKey {
  std::array<unsigned char, 16> signing_key{};
  std::array<unsigned char, 16> encryption_key{};
};

// Parses a key as written in a key repository file (44 characters of
// urlsafe base64, '=' padded; surrounding whitespace is ignored). Returns
// kInvalidArgument unless it decodes to exactly 32 bytes.
Result<FernetKey> parse_fernet_key(std::string_view text);

// Returns a new random key in the form parse_fernet_key() reads (44 chars,
// padded), as `cryptography.fernet.Fernet.generate_key()` writes. Thread-safe.
std::string generate_fernet_key();

// Returns the Fernet token for `plaintext` under `key`, stamped with
// `now_unix` (seconds) and a random IV. The token keeps its '=' padding (the
// spec form). Thread-safe.
std::string fernet_encrypt(const FernetKey& key, std::string_view plaintext, uint64_t now_unix);

// As above with a caller-chosen IV, for reproducible tests only: never reuse
// an IV in production.
std::string fernet_encrypt_with_iv(const FernetKey& key, std::string_view plaintext,
                                   uint64_t now_unix, const std::array<unsigned char, 16>& iv);

struct FernetDecrypted {
  std::string plaintext;
  uint64_t timestamp = 0;  // the token's issue time, unix seconds
};

// Verifies and decrypts `token` (padded or with its '=' padding stripped)
// with the first key in `keys` whose HMAC matches (constant-time compare).
// Does not look at the token's age. Returns kUnauthenticated for anything
// that is not a valid token under one of the keys: bad base64, wrong version
// byte, too short or too long, bad signature, bad padding. Thread-safe.
Result<FernetDecrypted> fernet_decrypt(const std::vector<FernetKey>& keys, std::string_view token);

}  // namespace onestack::identity::token
