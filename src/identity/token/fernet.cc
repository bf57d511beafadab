#include "identity/token/fernet.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

#include "identity/token/base64url.h"

namespace onestack::identity::token {
namespace {

constexpr unsigned char kVersion = 0x80;
constexpr size_t kHeaderSize = 1 + 8 + 16;  // version, timestamp, IV
constexpr size_t kMacSize = 32;
constexpr size_t kBlockSize = 16;

Error invalid_token(std::string_view why) {
  return make_error(ErrorCode::kUnauthenticated, "invalid fernet token: " + std::string(why));
}

void fill_random(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();  // no entropy: nothing is safe
}

std::array<unsigned char, kMacSize> hmac_sha256(const FernetKey& key, const unsigned char* data,
                                                size_t len) {
  std::array<unsigned char, kMacSize> mac{};
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key.signing_key.data(), static_cast<int>(key.signing_key.size()), data,
           len, mac.data(), &mac_len) == nullptr ||
      mac_len != kMacSize) {
    std::abort();  // only fails on allocation failure
  }
  return mac;
}

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// AES-128-CBC with PKCS7 padding (OpenSSL's default), one direction.
bool aes_cbc(bool encrypt, const FernetKey& key, const unsigned char* iv, const unsigned char* in,
             size_t in_len, std::string& out) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, key.encryption_key.data(), iv,
                        encrypt ? 1 : 0) != 1) {
    return false;
  }
  out.resize(in_len + kBlockSize);
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int n1 = 0;
  int n2 = 0;
  if (EVP_CipherUpdate(ctx.get(), dst, &n1, in, static_cast<int>(in_len)) != 1) return false;
  if (EVP_CipherFinal_ex(ctx.get(), dst + n1, &n2) != 1) return false;
  out.resize(static_cast<size_t>(n1 + n2));
  return true;
}

}  // namespace

Result<FernetKey> parse_fernet_key(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  auto raw = urlsafe_b64decode(text);
  if (!raw || raw->size() != 32) {
    return make_error(ErrorCode::kInvalidArgument,
                      "fernet key must be 32 url-safe base64-encoded bytes");
  }
  FernetKey key;
  for (size_t i = 0; i < 16; ++i) {
    key.signing_key[i] = static_cast<unsigned char>((*raw)[i]);
    key.encryption_key[i] = static_cast<unsigned char>((*raw)[16 + i]);
  }
  return key;
}

std::string generate_fernet_key() {
  unsigned char raw[32];
  fill_random(raw, sizeof raw);
  std::string out = urlsafe_b64encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw),
                                      /*pad=*/true);
  OPENSSL_cleanse(raw, sizeof raw);
  return out;
}

std::string fernet_encrypt(const FernetKey& key, std::string_view plaintext, uint64_t now_unix) {
  std::array<unsigned char, 16> iv;
  fill_random(iv.data(), iv.size());
  return fernet_encrypt_with_iv(key, plaintext, now_unix, iv);
}

std::string fernet_encrypt_with_iv(const FernetKey& key, std::string_view plaintext,
                                   uint64_t now_unix, const std::array<unsigned char, 16>& iv) {
  std::string ciphertext;
  if (!aes_cbc(true, key, iv.data(), reinterpret_cast<const unsigned char*>(plaintext.data()),
               plaintext.size(), ciphertext)) {
    std::abort();  // encryption of well-formed input only fails on allocation failure
  }
  std::string data;
  data.reserve(kHeaderSize + ciphertext.size() + kMacSize);
  data.push_back(static_cast<char>(kVersion));
  for (int shift = 56; shift >= 0; shift -= 8) {
    data.push_back(static_cast<char>((now_unix >> shift) & 0xff));
  }
  data.append(reinterpret_cast<const char*>(iv.data()), iv.size());
  data.append(ciphertext);
  auto mac = hmac_sha256(key, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  data.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  return urlsafe_b64encode(data, /*pad=*/true);
}

Result<FernetDecrypted> fernet_decrypt(const std::vector<FernetKey>& keys, std::string_view token) {
  if (token.size() > kMaxTokenChars) return invalid_token("too long");
  auto raw = urlsafe_b64decode(token);
  if (!raw) return invalid_token("not url-safe base64");
  const auto* data = reinterpret_cast<const unsigned char*>(raw->data());
  const size_t size = raw->size();
  // At least one cipher block: PKCS7 always adds one.
  if (size < kHeaderSize + kBlockSize + kMacSize) return invalid_token("too short");
  if ((size - kHeaderSize - kMacSize) % kBlockSize != 0) return invalid_token("bad length");
  if (data[0] != kVersion) return invalid_token("unknown version");

  uint64_t timestamp = 0;
  for (size_t i = 1; i <= 8; ++i) timestamp = (timestamp << 8) | data[i];

  const size_t signed_len = size - kMacSize;
  for (const FernetKey& key : keys) {
    auto mac = hmac_sha256(key, data, signed_len);
    if (CRYPTO_memcmp(mac.data(), data + signed_len, kMacSize) != 0) continue;
    // The signature is this key's: a failure from here on is a bad token (no
    // other key's HMAC could also match).
    FernetDecrypted out;
    out.timestamp = timestamp;
    if (!aes_cbc(false, key, data + 9, data + kHeaderSize, signed_len - kHeaderSize,
                 out.plaintext)) {
      return invalid_token("bad padding");
    }
    return out;
  }
  return invalid_token("signature does not match any key");
}

}  // namespace onestack::identity::token
