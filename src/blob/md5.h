// Incremental MD5, the digest Swift reports as an object's ETag. Both blob
// backends feed it as bytes arrive so a PUT never reads its bytes twice.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

namespace onestack::blob {

// One running MD5 over OpenSSL's EVP interface. Not thread-safe: owned by
// one writer. Movable, not copyable.
class Md5 {
 public:
  // Starts an empty digest. Aborts if OpenSSL has no MD5 (a broken install,
  // never a request's fault).
  Md5();
  ~Md5();
  Md5(Md5&&) noexcept;
  Md5& operator=(Md5&&) noexcept;

  // Feeds `data`.
  void update(std::string_view data);
  // Returns the lower-case hex MD5 of everything fed so far; the digest goes
  // on accepting update() afterwards.
  std::string hex() const;

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const;
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

}  // namespace onestack::blob
