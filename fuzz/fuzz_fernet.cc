// Fernet token decoding with a fixed key, then the Keystone payload inside.
// The input is tried three ways: as a token under the fixed key, as the
// plaintext of a token sealed with that key (so the msgpack payload decoder
// sees fuzzed bytes behind a valid signature), and as a key file's text.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "identity/token/fernet.h"
#include "identity/token/payload.h"

namespace tok = onestack::identity::token;

static const std::vector<tok::FernetKey>& keys() {
  static const std::vector<tok::FernetKey> k = [] {
    auto key = tok::parse_fernet_key("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
    if (!key.ok()) std::abort();
    return std::vector<tok::FernetKey>{*key};
  }();
  return k;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto opened = tok::fernet_decrypt(keys(), in);
  if (opened.ok()) (void)tok::decode_payload(opened->plaintext, tok::default_auth_methods());

  // A sealed fuzzed payload must open to the same bytes (tokens longer
  // than kMaxTokenChars are refused by design).
  if (size > 2048) return 0;
  static const std::array<unsigned char, 16> iv{};
  std::string sealed = tok::fernet_encrypt_with_iv(keys()[0], in, 1700000000, iv);
  auto back = tok::fernet_decrypt(keys(), sealed);
  if (!back.ok() || back->plaintext != in || back->timestamp != 1700000000) std::abort();
  auto payload = tok::decode_payload(back->plaintext, tok::default_auth_methods());
  if (payload.ok()) (void)tok::encode_payload(*payload, tok::default_auth_methods());

  (void)tok::parse_fernet_key(in);
  return 0;
}
