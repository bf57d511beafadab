#include "blob/md5.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "core/ids.h"

namespace onestack::blob {
namespace {

// Fetched once: EVP_md5() makes OpenSSL 3 look the algorithm up again on
// every EVP_DigestInit_ex, which costs more than hashing a small object.
const EVP_MD* md5_algorithm() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md != nullptr ? md : EVP_md5();
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "onestack: OpenSSL MD5 unavailable (%s)\n", what);
  std::abort();
}

}  // namespace

void Md5::CtxFree::operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }

Md5::Md5() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) die("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(ctx_.get(), md5_algorithm(), nullptr) != 1) die("EVP_DigestInit_ex");
}

Md5::~Md5() = default;
Md5::Md5(Md5&&) noexcept = default;
Md5& Md5::operator=(Md5&&) noexcept = default;

void Md5::update(std::string_view data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) die("EVP_DigestUpdate");
}

std::string Md5::hex() const {
  // Finishing a copy leaves the running digest open for more bytes.
  std::unique_ptr<EVP_MD_CTX, CtxFree> copy(EVP_MD_CTX_new());
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1) die("EVP_MD_CTX_copy_ex");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(copy.get(), md, &len) != 1) die("EVP_DigestFinal_ex");
  return hex_encode(md, len);
}

}  // namespace onestack::blob
