// The identity service's domain logic: authentication (password, token,
// application credential), scoping, token issue and validation in Keystone's
// Fernet format, revocation, and the policy check. The HTTP layer (api/) is a
// thin adapter over this class.
//
// Thread-safety: every method is safe from many threads. Methods marked
// "blocking" touch the database or run bcrypt and must run on the worker
// pool; validate() is non-blocking and may run on an I/O thread.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/auth/limits.h"
#include "core/auth/token_validator.h"
#include "core/clock.h"
#include "identity/service/snapshot.h"
#include "identity/token/token_formatter.h"
#include "policy/policy.h"
#include "store/identity_store.h"

namespace onestack::identity {

struct Settings {
  int64_t token_expiration = 3600;        // [token] expiration, seconds
  int64_t allow_expired_window = 172800;  // [token] allow_expired_window
  int bcrypt_rounds = 12;                 // [identity] password_hash_rounds
  size_t max_password_length = 4096;      // [identity] max_password_length
  std::string default_domain_id = "default";
  std::string public_url = "http://127.0.0.1:5000";  // base for links
  // The store is shared with other nodes ([database] connection): before
  // answering for a token, check that no node has written identity data
  // this node's snapshot lacks (a revocation, a removed role).
  bool shared_store = false;
  // How long a request's token validation waits for the shared store to
  // answer before going on with the snapshot it has (see sync()).
  std::chrono::milliseconds sync_patience{2000};
};

// What the caller asked to be scoped to.
struct ScopeRequest {
  enum class Kind { kDefault, kUnscoped, kProject, kDomain, kSystem } kind = Kind::kDefault;
  std::string project_id;  // resolved ids
  std::string domain_id;
};

// A token as the API renders it: the payload's facts plus names and roles.
struct TokenInfo {
  std::string token;  // the Fernet string (set when issued)
  auth::AuthContext ctx;
  std::string app_cred_name;
  bool app_cred_restricted = true;
};

class IdentityService final : public auth::TokenValidator, public auth::LimitSource {
 public:
  // Borrows `store` and `clock`, which must outlive the service. Every time
  // the service reads (token stamps and expiry, revocation events, the
  // expiry check of validate()) comes from `clock`.
  IdentityService(Settings settings, store::IdentityStore& store,
                  std::unique_ptr<token::TokenFormatter> formatter, policy::PolicyEngine policy,
                  const Clock& clock = SystemClock::instance());

  const Settings& settings() const { return settings_; }
  store::IdentityStore& store() { return store_; }
  const policy::PolicyEngine& policy() const { return policy_; }
  token::TokenFormatter& formatter() { return *formatter_; }
  std::shared_ptr<const Snapshot> snapshot() const { return cache_.current(); }
  const Clock& clock() const { return clock_; }

  // Rebuilds the snapshot after a write. Blocking. Every write path calls it
  // before answering.
  Status refresh();

  // With a shared store (Settings::shared_store): reloads the snapshot if
  // another node wrote since it was built. Blocking (one query, run by the
  // catch-up thread: concurrent callers share one query, as long as it
  // started after they arrived, so a write committed before a request came
  // is always seen). kUnavailable when the store cannot be read. Anything
  // that reads snapshot() for a decision no token validation covers (a
  // password login) calls it first.
  Status catch_up() const;

  // auth::TokenValidator. validate() never touches the store; with a shared
  // store the server calls sync() first, on its blocking pool: catch_up(),
  // but bounded. When the database does not answer within
  // Settings::sync_patience (or
  // fails), validation goes on with the snapshot it has rather than stall
  // every request: nothing can commit to a stalled database, so the
  // snapshot lacks at most the writes of the moment before it stalled.
  Result<auth::AuthContext> validate(std::string_view token, bool allow_expired) const override;
  bool needs_sync() const override { return settings_.shared_store; }
  // auth::LimitSource, from the snapshot.
  std::optional<int64_t> limit(std::string_view service_type, std::string_view region,
                               std::string_view resource,
                               std::string_view project_id) const override {
    auto snap = cache_.current();
    if (!snap) return std::nullopt;
    return snap->limit(service_type, region, resource, project_id);
  }
  Status sync() const override;

  // Stops the catch-up thread (the destructor does too). Idempotent.
  void stop();
  ~IdentityService() override;

  // Checks a password for a user id. kUnauthenticated with one message for
  // an unknown user, a disabled one or a wrong password; the unknown-user
  // path burns a bcrypt check too. Blocking.
  Result<std::string> check_password(const std::string& user_id, std::string_view password);

  // Checks an application credential's secret; returns its id. Blocking.
  Result<std::string> check_app_cred(const std::string& app_cred_id, std::string_view secret);

  // Issues a token for `user_id` authenticated by `methods`, scoped as asked.
  // `parent` is the token being rescoped (token method), whose expiry and
  // audit chain the new token inherits. Non-blocking (no database access).
  Result<TokenInfo> issue(const std::string& user_id, std::vector<std::string> methods,
                          const ScopeRequest& scope, const auth::AuthContext* parent,
                          const std::string& app_cred_id);

  // Revokes one token (by its audit id) or every token of a user / project.
  // Blocking.
  Status revoke_token(const auth::AuthContext& ctx);
  Status revoke_user(const std::string& user_id);
  Status revoke_project(const std::string& project_id);

  // Policy: true if `caller` may do `rule` on `target`.
  bool allowed(std::string_view rule, const auth::AuthContext& caller,
               const policy::Target& target) const;

 private:
  Status add_revocation(store::RevocationEvent ev);
  Result<auth::AuthContext> build_context(const token::TokenPayload& p, const Snapshot& snap) const;

  // The token's payload, from the decoded-token cache or by decrypting it.
  Result<token::TokenPayload> decode(std::string_view token) const;

  Settings settings_;
  store::IdentityStore& store_;
  const Clock& clock_;
  std::unique_ptr<token::TokenFormatter> formatter_;
  policy::PolicyEngine policy_;
  mutable SnapshotCache cache_;  // catch_up() reloads it from const methods

  // The catch-up thread runs the generation checks callers ask for.
  // Callers take a ticket (requested_ + 1); a check covers every ticket
  // taken before it started; a caller waits until finished_ reaches its
  // ticket. Started with the service when the store is shared.
  Status wait_for_check(bool bounded) const;
  void catch_up_loop();
  Status check_generation() const;
  mutable std::mutex gen_mu_;
  mutable std::condition_variable gen_cv_;    // wakes the thread: a ticket or stop
  mutable std::condition_variable gen_done_;  // wakes callers: a check finished
  mutable uint64_t requested_ = 0;            // guarded by gen_mu_: last ticket
  mutable uint64_t finished_ = 0;             // guarded by gen_mu_: last ticket covered
  mutable Status gen_status_;                 // guarded by gen_mu_: the last check's outcome
  // guarded by gen_mu_: a bounded caller gave up waiting for the running
  // check; until it ends, bounded callers do not wait.
  mutable bool overdue_ = false;
  bool stopping_ = false;  // guarded by gen_mu_
  std::thread catch_up_thread_;

  // Decrypted payloads of recently seen tokens, with the key set that
  // opened them: a client sends the same token with every request, and
  // AES + HMAC per request was a tenth of a small GET's cost. A key
  // rotation (a new key set) makes every entry miss.
  //
  // With each payload, the context build_context() made of it and the
  // snapshot it was made from: the context is a function of the two (user,
  // project, roles and revocation events all live in the snapshot), so it
  // stands until any identity write replaces the snapshot. Expiry depends
  // on the clock and is checked on every request.
  struct DecodedToken {
    std::shared_ptr<const token::KeySet> keys;
    token::TokenPayload payload;
    std::weak_ptr<const Snapshot> built_from;
    std::shared_ptr<const auth::AuthContext> context;  // null until built
  };
  Status check_expiry(double expires_at, bool allow_expired) const;
  static constexpr size_t kDecodedTokens = 4096;
  mutable std::mutex decoded_mu_;
  mutable std::unordered_map<std::string, DecodedToken> decoded_;  // guarded by decoded_mu_
};

// Formats unix seconds as Keystone does: "2026-11-22T21:50:00.000000Z".
std::string format_time(double unix_seconds);
// Parses ISO 8601 ("2026-11-22T21:50:00Z", optional fraction and offset).
std::optional<double> parse_time(std::string_view text);
// Seconds since the epoch, with microseconds, by the system clock. Code
// that can reach the service reads its clock() instead.
double now_seconds();

}  // namespace onestack::identity
