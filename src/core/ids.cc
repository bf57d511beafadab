#include "core/ids.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace onestack {

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();  // no entropy: nothing safe can be issued
  }
  return out;
}

std::string hex_encode(const unsigned char* data, size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::string new_hex_id() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return hex_encode(reinterpret_cast<const unsigned char*>(b.data()), b.size());
}

std::string new_uuid() {
  std::string h = new_hex_id();
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

namespace {

// SplitMix64 (Steele, Lea and Flood): a bijective mix of a counter, so two
// calls on one thread never repeat; the seeds make threads' streams apart.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t seed64() {
  uint64_t v = 0;
  std::string b = random_bytes(sizeof v);
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

}  // namespace

std::string new_request_uuid() {
  thread_local uint64_t hi_state = seed64();
  thread_local uint64_t lo_state = seed64();
  unsigned char b[16];
  const uint64_t hi = splitmix64(hi_state), lo = splitmix64(lo_state);
  std::memcpy(b, &hi, 8);
  std::memcpy(b + 8, &lo, 8);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t o = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // the dashes
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 0xf];
  }
  return out;
}

bool is_hex_uuid(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace onestack
