// Helpers shared by the blob store tests.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "blob/blob_store.h"

namespace onestack::blob::testing {

#define ASSERT_OK(expr)                                                              \
  do {                                                                               \
    const auto& assert_ok_r_ = (expr);                                               \
    ASSERT_TRUE(assert_ok_r_.ok()) << #expr << ": " << assert_ok_r_.error().message; \
  } while (0)

#define EXPECT_CODE(expr, expected_code)                                     \
  do {                                                                       \
    const auto& expect_code_r_ = (expr);                                     \
    ASSERT_FALSE(expect_code_r_.ok()) << #expr << " unexpectedly succeeded"; \
    EXPECT_EQ(expect_code_r_.error().code, expected_code)                    \
        << #expr << ": " << expect_code_r_.error().message;                  \
  } while (0)

// One-shot MD5 of `data` in lower-case hex, computed independently of the
// incremental digest the writers keep.
inline std::string md5_of(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

// `n` bytes of a fixed, non-repeating-looking pattern covering all 256 values.
inline std::string pattern_bytes(size_t n) {
  std::string out(n, '\0');
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x & 0xff);
  }
  return out;
}

// Reads all of `reader` in `chunk`-byte reads; fails the test on an error.
inline std::string read_all(BlobReader& reader, size_t chunk = 65536) {
  std::string out;
  std::string buf(chunk, '\0');
  uint64_t offset = 0;
  for (;;) {
    auto n = reader.read(offset, buf.data(), buf.size());
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().message);
    if (!n.ok() || *n == 0) break;
    out.append(buf.data(), *n);
    offset += *n;
  }
  return out;
}

inline bool is_lower_hex_32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace onestack::blob::testing
