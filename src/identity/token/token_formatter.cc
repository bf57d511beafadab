#include "identity/token/token_formatter.h"

#include "core/ids.h"
#include "identity/token/base64url.h"
#include "identity/token/fernet.h"

namespace onestack::identity::token {
namespace {

Error no_keys() { return make_error(ErrorCode::kUnavailable, "no fernet keys loaded"); }

}  // namespace

TokenFormatter::TokenFormatter(std::filesystem::path key_dir, std::vector<std::string> auth_methods,
                               const Clock& clock)
    : key_dir_(std::move(key_dir)), auth_methods_(std::move(auth_methods)), clock_(clock) {}

Result<std::unique_ptr<TokenFormatter>> TokenFormatter::open(std::filesystem::path key_dir,
                                                             std::vector<std::string> auth_methods,
                                                             const Clock& clock) {
  auto f = std::make_unique<TokenFormatter>(std::move(key_dir), std::move(auth_methods), clock);
  ONESTACK_TRY(f->reload());
  return f;
}

Status TokenFormatter::reload() {
  auto set = KeyRepository::load(key_dir_);
  if (!set.ok()) return std::move(set).error();
  set_keys(std::make_shared<const KeySet>(std::move(*set)));
  return ok_status();
}

void TokenFormatter::set_keys(std::shared_ptr<const KeySet> keys) {
  keys_.store(std::move(keys), std::memory_order_release);
}

std::shared_ptr<const KeySet> TokenFormatter::keys() const {
  return keys_.load(std::memory_order_acquire);
}

Result<std::string> TokenFormatter::issue(const TokenPayload& payload) const {
  return issue_at(payload, static_cast<uint64_t>(clock_.now_unix()));
}

Result<std::string> TokenFormatter::issue_at(const TokenPayload& payload, uint64_t now_unix) const {
  auto set = keys();
  if (!set || set->keys.empty()) return no_keys();
  auto plaintext = encode_payload(payload, auth_methods_);
  if (!plaintext.ok()) return std::move(plaintext).error();
  std::string token = fernet_encrypt(set->keys.front(), *plaintext, now_unix);
  // keystone strips the padding: '=' is not URL-safe.
  while (!token.empty() && token.back() == '=') token.pop_back();
  return token;
}

Result<TokenPayload> TokenFormatter::validate(std::string_view token) const {
  auto set = keys();
  if (!set || set->keys.empty()) return no_keys();
  auto opened = fernet_decrypt(set->keys, token);
  if (!opened.ok()) return std::move(opened).error();
  auto payload = decode_payload(opened->plaintext, auth_methods_);
  if (!payload.ok()) return std::move(payload).error();
  payload->issued_at = opened->timestamp;
  return payload;
}

std::string TokenFormatter::new_audit_id() {
  return urlsafe_b64encode(random_bytes(16), /*pad=*/false);
}

}  // namespace onestack::identity::token
