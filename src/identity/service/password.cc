#include "identity/service/password.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cstring>
#include <memory>

#include "core/ids.h"

namespace onestack::identity {

Result<std::string> hash_password(std::string_view password, int rounds) {
  std::string salt_bytes = random_bytes(16);
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(rounds), salt_bytes.data(),
                       static_cast<int>(salt_bytes.size()), setting, sizeof setting) == nullptr) {
    return make_error(ErrorCode::kInternal, "bcrypt salt generation failed");
  }
  auto data = std::make_unique<crypt_data>();
  std::string pw(password);  // crypt_r wants a NUL-terminated string
  const char* out = crypt_r(pw.c_str(), setting, data.get());
  if (out == nullptr || out[0] == '*') {
    return make_error(ErrorCode::kInternal, "bcrypt hashing failed");
  }
  return std::string(out);
}

bool verify_password(std::string_view password, const std::string& hash) {
  if (hash.size() < 7 || hash[0] != '$') return false;
  if (password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  std::string pw(password);
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  if (out == nullptr || std::strlen(out) != hash.size()) return false;
  return CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

void verify_password_dummy(std::string_view password, int rounds) {
  // A fixed, valid hash of a random string at the configured cost.
  static const std::string kDummy = [rounds] {
    auto h = hash_password(random_bytes(12), rounds);
    return h.ok() ? h.value() : std::string();
  }();
  (void)verify_password(password, kDummy);
}

}  // namespace onestack::identity
