#include "identity/service/identity_service.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/json.h"
#include "core/log.h"
#include "identity/service/password.h"

namespace onestack::identity {

namespace {

const char kAuthRequired[] = "The request you have made requires authentication.";

Error unauthenticated(std::string msg = kAuthRequired) {
  return make_error(ErrorCode::kUnauthenticated, std::move(msg));
}

bool revoked(const store::RevocationEvent& ev, const token::TokenPayload& p,
             const std::vector<std::string>& role_ids, const std::string& project_domain) {
  if (static_cast<double>(p.issued_at) > ev.issued_before) return false;
  if (!ev.user_id.empty() && ev.user_id != p.user_id) return false;
  if (!ev.project_id.empty() && ev.project_id != p.project_id) return false;
  if (!ev.domain_id.empty() && ev.domain_id != p.domain_id && ev.domain_id != project_domain) {
    return false;
  }
  if (!ev.audit_id.empty() && (p.audit_ids.empty() || ev.audit_id != p.audit_ids.front())) {
    return false;
  }
  if (!ev.audit_chain_id.empty() &&
      (p.audit_ids.empty() || ev.audit_chain_id != p.audit_ids.back())) {
    return false;
  }
  if (!ev.role_id.empty() &&
      std::find(role_ids.begin(), role_ids.end(), ev.role_id) == role_ids.end()) {
    return false;
  }
  return true;
}

// The Fernet timestamp of a token issued at `now`. A token's timestamp is
// whole seconds and a revocation event revokes every token stamped at or
// before its `issued_before`, which has microseconds: a token issued in the
// same second as an event that came before it (a password change, then a
// login) would be stamped inside the event's second and refused. Such a
// token is stamped with the next whole second instead, so what the event
// revoked is exactly what was issued before it. Keystone has the same
// window and lets it stand; a stamp up to a second ahead is well inside the
// 60 s clock skew Fernet validators accept (cryptography's fernet.py),
// and the events that move it carry the clock's own time, so the stamp is
// never more than one second ahead.
uint64_t issue_stamp(double now, const Snapshot& snap) {
  double stamp = std::floor(now);
  for (const auto& ev : snap.revocations()) {
    // An event naming one token (its audit id) never matches a new token,
    // and its issued_before is that token's own stamp: it moves nothing.
    if (!ev.audit_id.empty()) continue;
    if (ev.issued_before >= stamp) stamp = std::floor(ev.issued_before) + 1;
  }
  return static_cast<uint64_t>(stamp);
}

}  // namespace

double now_seconds() { return SystemClock::instance().now_seconds(); }

std::string format_time(double unix_seconds) {
  auto whole = static_cast<std::time_t>(std::floor(unix_seconds));
  int micros = static_cast<int>(std::llround((unix_seconds - static_cast<double>(whole)) * 1e6));
  if (micros >= 1000000) {
    whole += 1;
    micros -= 1000000;
  }
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

std::optional<double> parse_time(std::string_view text) {
  int y, mo, d, h, mi, s, consumed = 0;
  std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
          6 ||
      consumed != 19) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::string_view rest = text.substr(19);
  double frac = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    double scale = 0.1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      frac += (rest[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == 1) return std::nullopt;
    rest = rest.substr(i);
  }
  int offset = 0;
  if (rest == "Z" || rest.empty()) {
  } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
    int oh = std::atoi(std::string(rest.substr(1, 2)).c_str());
    int om = std::atoi(std::string(rest.substr(4, 2)).c_str());
    offset = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<double>(timegm(&tm) - offset) + frac;
}

IdentityService::IdentityService(Settings settings, store::IdentityStore& store,
                                 std::unique_ptr<token::TokenFormatter> formatter,
                                 policy::PolicyEngine policy, const Clock& clock)
    : settings_(std::move(settings)),
      store_(store),
      clock_(clock),
      formatter_(std::move(formatter)),
      policy_(std::move(policy)),
      cache_(store) {
  if (settings_.shared_store) catch_up_thread_ = std::thread([this] { catch_up_loop(); });
}

IdentityService::~IdentityService() { stop(); }

void IdentityService::stop() {
  {
    std::lock_guard lock(gen_mu_);
    stopping_ = true;
  }
  gen_cv_.notify_all();
  gen_done_.notify_all();
  if (catch_up_thread_.joinable()) catch_up_thread_.join();
}

Status IdentityService::refresh() { return cache_.refresh(); }

Result<auth::AuthContext> IdentityService::build_context(const token::TokenPayload& p,
                                                         const Snapshot& snap) const {
  auth::AuthContext ctx;
  const UserInfo* user = snap.user(p.user_id);
  if (user == nullptr || !user->enabled) return unauthenticated();
  const DomainInfo* user_domain = snap.domain(user->domain_id);
  if (user_domain == nullptr || !user_domain->enabled) return unauthenticated();
  ctx.user_id = user->id;
  ctx.user_name = user->name;
  ctx.user_domain_id = user_domain->id;
  ctx.user_domain_name = user_domain->name;
  ctx.methods = p.methods;
  ctx.audit_ids = p.audit_ids;
  ctx.issued_at = static_cast<double>(p.issued_at);
  ctx.expires_at = p.expires_at;

  std::vector<std::string> roles;
  switch (p.scope) {
    case token::Scope::kUnscoped: break;
    case token::Scope::kProject:
    case token::Scope::kApplicationCredential: {
      const ProjectInfo* proj = snap.project(p.project_id);
      if (proj == nullptr || !proj->enabled) return unauthenticated();
      const DomainInfo* pd = snap.domain(proj->domain_id);
      if (pd == nullptr || !pd->enabled) return unauthenticated();
      ctx.project_id = proj->id;
      ctx.project_name = proj->name;
      ctx.project_domain_id = pd->id;
      ctx.project_domain_name = pd->name;
      roles = snap.roles_on_project(user->id, proj->id);
      if (p.scope == token::Scope::kApplicationCredential) {
        const AppCredInfo* ac = snap.app_cred(p.app_cred_id);
        if (ac == nullptr || ac->user_id != user->id || ac->project_id != proj->id) {
          return unauthenticated();
        }
        // The credential can never carry more than its owner holds now.
        std::vector<std::string> granted = snap.expand_implied(ac->role_ids);
        std::vector<std::string> both;
        for (const auto& r : roles) {
          if (std::find(granted.begin(), granted.end(), r) != granted.end()) both.push_back(r);
        }
        roles = std::move(both);
        ctx.app_cred_id = ac->id;
      }
      if (roles.empty()) return unauthenticated();
      break;
    }
    case token::Scope::kDomain: {
      const DomainInfo* d = snap.domain(p.domain_id);
      if (d == nullptr || !d->enabled) return unauthenticated();
      ctx.domain_id = d->id;
      ctx.domain_name = d->name;
      roles = snap.roles_on_domain(user->id, d->id);
      if (roles.empty()) return unauthenticated();
      break;
    }
    case token::Scope::kSystem:
      ctx.system_scope = "all";
      roles = snap.roles_on_system(user->id);
      if (roles.empty()) return unauthenticated();
      break;
  }
  for (const auto& r : roles) {
    const RoleInfo* info = snap.role(r);
    if (info == nullptr) continue;
    ctx.role_ids.push_back(info->id);
    ctx.role_names.push_back(info->name);
  }
  for (const auto& ev : snap.revocations()) {
    if (revoked(ev, p, ctx.role_ids, ctx.project_domain_id)) return unauthenticated();
  }
  return ctx;
}

Result<token::TokenPayload> IdentityService::decode(std::string_view token) const {
  auto keys = formatter_->keys();
  const std::string key(token);
  {
    std::lock_guard lock(decoded_mu_);
    auto it = decoded_.find(key);
    if (it != decoded_.end() && it->second.keys == keys) return it->second.payload;
  }
  auto payload = formatter_->validate(token);
  if (!payload.ok()) return payload;
  std::lock_guard lock(decoded_mu_);
  if (decoded_.size() >= kDecodedTokens) decoded_.clear();  // crude, bounded, rare
  DecodedToken& entry = decoded_[key];
  entry = DecodedToken();
  entry.keys = std::move(keys);
  entry.payload = *payload;
  return payload;
}

Status IdentityService::check_expiry(double expires_at, bool allow_expired) const {
  double now = clock_.now_seconds();
  if (expires_at <= now) {
    if (!allow_expired || now > expires_at + static_cast<double>(settings_.allow_expired_window)) {
      return unauthenticated("The token has expired.");
    }
  }
  return ok_status();
}

Result<auth::AuthContext> IdentityService::validate(std::string_view token,
                                                    bool allow_expired) const {
  if (token.empty() || token.size() > 1024) return unauthenticated();
  auto snap = cache_.current();
  if (!snap) return make_error(ErrorCode::kUnavailable, "identity data not loaded");
  const std::string key(token);
  {
    auto keys = formatter_->keys();
    std::lock_guard lock(decoded_mu_);
    auto it = decoded_.find(key);
    if (it != decoded_.end() && it->second.keys == keys && it->second.context &&
        it->second.built_from.lock() == snap) {
      ONESTACK_TRY(check_expiry(it->second.payload.expires_at, allow_expired));
      return *it->second.context;
    }
  }
  auto payload = decode(token);
  if (!payload.ok()) return unauthenticated();
  ONESTACK_TRY(check_expiry(payload->expires_at, allow_expired));
  auto ctx = build_context(*payload, *snap);
  if (ctx.ok()) {
    std::lock_guard lock(decoded_mu_);
    if (auto it = decoded_.find(key); it != decoded_.end()) {
      it->second.built_from = snap;
      it->second.context = std::make_shared<const auth::AuthContext>(*ctx);
    }
  }
  return ctx;
}

Status IdentityService::catch_up() const { return wait_for_check(/*bounded=*/false); }

Status IdentityService::sync() const { return wait_for_check(/*bounded=*/true); }

Status IdentityService::wait_for_check(bool bounded) const {
  if (!settings_.shared_store) return ok_status();
  const auto deadline = std::chrono::steady_clock::now() + settings_.sync_patience;
  std::unique_lock lock(gen_mu_);
  // A check that a caller already gave up on means the database is
  // stalled: a bounded caller does not queue behind it.
  if (bounded && overdue_) return ok_status();
  const uint64_t ticket = ++requested_;
  gen_cv_.notify_one();
  while (finished_ < ticket && !stopping_) {
    if (!bounded) {
      gen_done_.wait(lock);
    } else if (gen_done_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (finished_ < ticket) {
        overdue_ = true;
        return ok_status();  // stalled: the snapshot we have
      }
    }
  }
  if (stopping_ && finished_ < ticket) {
    return make_error(ErrorCode::kUnavailable, "The identity service is stopping.");
  }
  if (!gen_status_.ok() && bounded) return ok_status();
  return gen_status_;
}

void IdentityService::catch_up_loop() {
  std::unique_lock lock(gen_mu_);
  while (true) {
    gen_cv_.wait(lock, [this] { return stopping_ || requested_ > finished_; });
    if (stopping_) return;
    const uint64_t covering = requested_;
    lock.unlock();
    Status st = check_generation();
    lock.lock();
    overdue_ = false;
    finished_ = covering;
    gen_status_ = std::move(st);
    gen_done_.notify_all();
  }
}

Status IdentityService::check_generation() const {
  Status st;
  try {
    auto generation = store_.generation();
    if (!generation.ok()) {
      st = std::move(generation).error();
    } else if (*generation != cache_.built_generation()) {
      st = cache_.refresh();
    }
  } catch (const std::exception& e) {  // waiters must never wait for good
    st = make_error(ErrorCode::kInternal, std::string("unexpected exception: ") + e.what());
  }
  if (!st.ok()) {
    spdlog::warn("identity: cannot catch up with the shared store: {}", st.error().message);
    st = make_error(ErrorCode::kUnavailable, "The identity data cannot be read right now.");
  }
  return st;
}

Result<std::string> IdentityService::check_password(const std::string& user_id,
                                                    std::string_view password) {
  const char kMsg[] = "The request you have made requires authentication.";
  auto rec = store_.get(store::Kind::kUser, user_id);
  if (!rec.ok()) {
    if (rec.error().code != ErrorCode::kNotFound) return std::move(rec).error();
    verify_password_dummy(password, settings_.bcrypt_rounds);
    return unauthenticated(kMsg);
  }
  auto doc = parse_json(rec->doc);
  std::string hash;
  bool enabled = true;
  if (doc.ok() && doc->is_object()) {
    const auto& o = doc->as_object();
    if (auto it = o.find("password_hash"); it != o.end() && it->value().is_string()) {
      hash = std::string(it->value().as_string());
    }
    if (auto it = o.find("enabled"); it != o.end() && it->value().is_bool()) {
      enabled = it->value().as_bool();
    }
  }
  if (hash.empty()) {
    verify_password_dummy(password, settings_.bcrypt_rounds);
    return unauthenticated(kMsg);
  }
  bool ok = verify_password(password, hash);
  if (!ok || !enabled) return unauthenticated(kMsg);
  return user_id;
}

Result<std::string> IdentityService::check_app_cred(const std::string& app_cred_id,
                                                    std::string_view secret) {
  auto rec = store_.get(store::Kind::kAppCredential, app_cred_id);
  if (!rec.ok()) {
    if (rec.error().code != ErrorCode::kNotFound) return std::move(rec).error();
    verify_password_dummy(secret, settings_.bcrypt_rounds);
    return unauthenticated();
  }
  auto doc = parse_json(rec->doc);
  std::string hash;
  if (doc.ok() && doc->is_object()) {
    const auto& o = doc->as_object();
    if (auto it = o.find("secret_hash"); it != o.end() && it->value().is_string()) {
      hash = std::string(it->value().as_string());
    }
  }
  if (hash.empty() || !verify_password(secret, hash)) return unauthenticated();
  return app_cred_id;
}

Result<TokenInfo> IdentityService::issue(const std::string& user_id,
                                         std::vector<std::string> methods,
                                         const ScopeRequest& scope, const auth::AuthContext* parent,
                                         const std::string& app_cred_id) {
  auto snap = cache_.current();
  if (!snap) return make_error(ErrorCode::kUnavailable, "identity data not loaded");
  const UserInfo* user = snap->user(user_id);
  if (user == nullptr || !user->enabled) return unauthenticated();

  token::TokenPayload p;
  p.user_id = user_id;
  p.methods = std::move(methods);
  double now = clock_.now_seconds();
  p.expires_at = now + static_cast<double>(settings_.token_expiration);
  p.audit_ids.push_back(token::TokenFormatter::new_audit_id());
  if (parent != nullptr) {
    // A rescoped token never outlives its parent and joins its audit chain.
    p.expires_at = std::min(p.expires_at, parent->expires_at);
    if (!parent->audit_ids.empty()) p.audit_ids.push_back(parent->audit_ids.back());
  }
  p.expires_at = std::floor(p.expires_at);  // whole seconds, like Keystone's tokens

  if (!app_cred_id.empty()) {
    const AppCredInfo* ac = snap->app_cred(app_cred_id);
    if (ac == nullptr) return unauthenticated();
    if (ac->expires_at > 0) {
      if (ac->expires_at <= now) return unauthenticated();
      p.expires_at = std::min(p.expires_at, ac->expires_at);
    }
    p.scope = token::Scope::kApplicationCredential;
    p.project_id = ac->project_id;
    p.app_cred_id = ac->id;
  } else {
    switch (scope.kind) {
      case ScopeRequest::Kind::kDefault:
        if (!user->default_project_id.empty()) {
          const ProjectInfo* dp = snap->project(user->default_project_id);
          if (dp != nullptr && dp->enabled && !snap->roles_on_project(user_id, dp->id).empty()) {
            p.scope = token::Scope::kProject;
            p.project_id = dp->id;
          }
        }
        break;
      case ScopeRequest::Kind::kUnscoped: break;
      case ScopeRequest::Kind::kProject:
        p.scope = token::Scope::kProject;
        p.project_id = scope.project_id;
        break;
      case ScopeRequest::Kind::kDomain:
        p.scope = token::Scope::kDomain;
        p.domain_id = scope.domain_id;
        break;
      case ScopeRequest::Kind::kSystem:
        p.scope = token::Scope::kSystem;
        p.system = "all";
        break;
    }
  }
  p.issued_at = issue_stamp(now, *snap);
  auto text = formatter_->issue_at(p, p.issued_at);
  if (!text.ok()) return std::move(text).error();
  auto ctx = build_context(p, *snap);
  if (!ctx.ok()) {
    std::string what = p.scope == token::Scope::kDomain   ? "domain " + p.domain_id
                       : p.scope == token::Scope::kSystem ? std::string("the system")
                                                          : "project " + p.project_id;
    return unauthenticated("User " + user_id + " has no access to " + what + ".");
  }
  TokenInfo info;
  info.token = std::move(text).value();
  info.ctx = std::move(ctx).value();
  if (!app_cred_id.empty()) {
    const AppCredInfo* ac = snap->app_cred(app_cred_id);
    info.app_cred_name = ac->name;
    info.app_cred_restricted = !ac->unrestricted;
  }
  return info;
}

Status IdentityService::add_revocation(store::RevocationEvent ev) {
  ev.revoked_at = clock_.now_seconds();
  if (ev.issued_before == 0) ev.issued_before = ev.revoked_at;
  auto added = store_.add_revocation(std::move(ev));
  if (!added.ok()) return std::move(added).error();
  return refresh();
}

Status IdentityService::revoke_token(const auth::AuthContext& ctx) {
  store::RevocationEvent ev;
  ev.audit_id = ctx.audit_ids.empty() ? std::string() : ctx.audit_ids.front();
  ev.issued_before = ctx.issued_at;
  return add_revocation(std::move(ev));
}

Status IdentityService::revoke_user(const std::string& user_id) {
  store::RevocationEvent ev;
  ev.user_id = user_id;
  return add_revocation(std::move(ev));
}

Status IdentityService::revoke_project(const std::string& project_id) {
  store::RevocationEvent ev;
  ev.project_id = project_id;
  return add_revocation(std::move(ev));
}

bool IdentityService::allowed(std::string_view rule, const auth::AuthContext& caller,
                              const policy::Target& target) const {
  return policy_.enforce(rule, policy::credentials_of(caller), target);
}

}  // namespace onestack::identity
