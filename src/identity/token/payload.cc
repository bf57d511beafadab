#include "identity/token/payload.h"

#include <msgpuck.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/ids.h"
#include "identity/token/base64url.h"

namespace onestack::identity::token {
namespace {

// Payload versions (keystone/token/token_formatters.py `version`).
constexpr uint64_t kUnscopedVersion = 0;
constexpr uint64_t kDomainScopedVersion = 1;
constexpr uint64_t kProjectScopedVersion = 2;
constexpr uint64_t kSystemScopedVersion = 8;
constexpr uint64_t kAppCredScopedVersion = 9;

// Methods that are not auth plugins get fixed high bits in keystone
// (keystone/auth/plugins/core.py `_PSEUDO_METHOD_BITS`).
constexpr struct {
  uint64_t bit;
  const char* name;
} kPseudoMethods[] = {{uint64_t{1} << 33, "oauth2_credential"},
                      {uint64_t{1} << 32, "ec2credential"}};
constexpr size_t kMaxConfiguredMethods = 32;  // bits below the pseudo ones

Error malformed(std::string_view why) {
  return make_error(ErrorCode::kUnauthenticated, "malformed token payload: " + std::string(why));
}

Error bad_payload(std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "cannot encode token payload: " + std::string(why));
}

std::string hex_to_bytes(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

std::string bytes_to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// ---- encoding ---------------------------------------------------------------

class Writer {
 public:
  void array(uint32_t n) {
    grow(mp_sizeof_array(n));
    end_ = mp_encode_array(end_, n);
  }
  void uint(uint64_t v) {
    grow(mp_sizeof_uint(v));
    end_ = mp_encode_uint(end_, v);
  }
  void boolean(bool v) {
    grow(mp_sizeof_bool(v));
    end_ = mp_encode_bool(end_, v);
  }
  void dbl(double v) {
    grow(mp_sizeof_double(v));
    end_ = mp_encode_double(end_, v);
  }
  void str(std::string_view s) {
    grow(mp_sizeof_str(static_cast<uint32_t>(s.size())));
    end_ = mp_encode_str(end_, s.data(), static_cast<uint32_t>(s.size()));
  }
  void bin(std::string_view s) {
    grow(mp_sizeof_bin(static_cast<uint32_t>(s.size())));
    end_ = mp_encode_bin(end_, s.data(), static_cast<uint32_t>(s.size()));
  }
  std::string take() {
    buf_.resize(static_cast<size_t>(end_ - buf_.data()));
    return std::move(buf_);
  }

 private:
  void grow(size_t need) {
    size_t used = static_cast<size_t>(end_ - buf_.data());
    if (buf_.size() - used < need) buf_.resize(std::max(buf_.size() * 2, used + need));
    end_ = buf_.data() + used;
  }
  std::string buf_ = std::string(256, '\0');
  char* end_ = buf_.data();
};

// keystone's attempt_convert_uuid_hex_to_bytes: [true, 16 bytes] for a uuid id.
// Only the canonical 32-lower-hex form is compressed, so decoding gives back
// exactly the id that was encoded.
void write_id(Writer& w, const std::string& id) {
  w.array(2);
  if (is_hex_uuid(id)) {
    w.boolean(true);
    w.bin(hex_to_bytes(id));
  } else {
    w.boolean(false);
    w.str(id);
  }
}

Status check_id(std::string_view what, const std::string& id) {
  if (id.empty()) return bad_payload(std::string(what) + " is empty");
  if (id.size() > 255) return bad_payload(std::string(what) + " is too long");
  if (!valid_utf8(id)) return bad_payload(std::string(what) + " is not UTF-8");
  return ok_status();
}

// ---- decoding ---------------------------------------------------------------

// Reads typed values from a buffer that mp_check() has already validated, so
// every mp_decode_* below stays inside it; each read still checks the type.
class Reader {
 public:
  explicit Reader(const char* p) : p_(p) {}

  Result<uint32_t> array() {
    if (mp_typeof(*p_) != MP_ARRAY) return malformed("expected an array");
    return mp_decode_array(&p_);
  }
  Result<uint64_t> uint() {
    if (mp_typeof(*p_) != MP_UINT) return malformed("expected an unsigned integer");
    return mp_decode_uint(&p_);
  }
  Result<bool> boolean() {
    if (mp_typeof(*p_) != MP_BOOL) return malformed("expected a boolean");
    return mp_decode_bool(&p_);
  }
  Result<double> number() {
    double v;
    switch (mp_typeof(*p_)) {
      case MP_DOUBLE: v = mp_decode_double(&p_); break;
      case MP_FLOAT: v = mp_decode_float(&p_); break;
      case MP_UINT: v = static_cast<double>(mp_decode_uint(&p_)); break;
      case MP_INT: v = static_cast<double>(mp_decode_int(&p_)); break;
      default: return malformed("expected a number");
    }
    if (!std::isfinite(v)) return malformed("expires_at is not finite");
    return v;
  }
  // Raw bytes of a bin or str.
  Result<std::string> bytes() {
    uint32_t len = 0;
    const char* s;
    switch (mp_typeof(*p_)) {
      case MP_STR: s = mp_decode_str(&p_, &len); break;
      case MP_BIN: s = mp_decode_bin(&p_, &len); break;
      default: return malformed("expected a string");
    }
    return std::string(s, len);
  }
  Result<std::string> text() {
    auto b = bytes();
    if (b.ok() && !valid_utf8(*b)) return malformed("text is not UTF-8");
    return b;
  }
  // A domain-scoped payload's bare domain id: 16 bin bytes of a uuid, or
  // the id as text (keystone's non-uuid default domain).
  Result<std::string> domain_id() {
    bool is_bin = mp_typeof(*p_) == MP_BIN;
    auto raw = bytes();
    if (!raw.ok()) return raw;
    if (is_bin && raw->size() == 16) return bytes_to_hex(*raw);
    if (raw->empty() || !valid_utf8(*raw)) return malformed("bad domain id");
    return raw;
  }
  // keystone's [is_uuid_bytes, value] pair.
  Result<std::string> id() {
    auto n = array();
    if (!n.ok()) return std::move(n).error();
    if (*n != 2) return malformed("id is not a pair");
    auto is_bytes = boolean();
    if (!is_bytes.ok()) return std::move(is_bytes).error();
    if (*is_bytes) {
      auto raw = bytes();
      if (!raw.ok()) return raw;
      if (raw->size() != 16) return malformed("uuid id is not 16 bytes");
      return bytes_to_hex(*raw);
    }
    auto s = text();
    if (s.ok() && s->empty()) return malformed("empty id");
    return s;
  }

 private:
  const char* p_;
};

#define ASSIGN_OR_RETURN(lhs, expr)                           \
  do {                                                        \
    auto assign_r_ = (expr);                                  \
    if (!assign_r_.ok()) return std::move(assign_r_).error(); \
    lhs = std::move(*assign_r_);                              \
  } while (0)

Status read_audit_ids(Reader& r, std::vector<std::string>& out) {
  uint32_t n = 0;
  ASSIGN_OR_RETURN(n, r.array());
  if (n > kMaxDecodedAuditIds) return malformed("too many audit ids");
  for (uint32_t i = 0; i < n; ++i) {
    std::string raw;
    ASSIGN_OR_RETURN(raw, r.bytes());
    out.push_back(urlsafe_b64encode(raw, /*pad=*/false));
  }
  return ok_status();
}

}  // namespace

const std::vector<std::string>& default_auth_methods() {
  // keystone/conf/constants.py _DEFAULT_AUTH_METHODS
  static const std::vector<std::string> kDefault = {
      "external", "password", "token", "oauth1", "mapped", "application_credential"};
  return kDefault;
}

Result<uint64_t> methods_to_bitmask(std::span<const std::string> methods,
                                    std::span<const std::string> auth_methods) {
  uint64_t mask = 0;
  for (const std::string& m : methods) {
    uint64_t bit = 0;
    for (size_t i = 0; i < auth_methods.size() && i < kMaxConfiguredMethods; ++i) {
      if (auth_methods[i] == m) bit = uint64_t{1} << i;
    }
    for (const auto& p : kPseudoMethods) {
      if (m == p.name) bit = p.bit;
    }
    if (bit == 0) return bad_payload("unknown auth method '" + m + "'");
    mask |= bit;
  }
  return mask;
}

std::vector<std::string> bitmask_to_methods(uint64_t bitmask,
                                            std::span<const std::string> auth_methods) {
  std::vector<std::string> out;
  for (const auto& p : kPseudoMethods) {
    if (bitmask & p.bit) out.emplace_back(p.name);
  }
  size_t n = std::min(auth_methods.size(), kMaxConfiguredMethods);
  for (size_t i = n; i-- > 0;) {
    if (bitmask & (uint64_t{1} << i)) out.push_back(auth_methods[i]);
  }
  return out;
}

std::string keystone_isotime(double unix_seconds) {
  // Round to microseconds as datetime.utcfromtimestamp does (half-even is
  // the default floating-point rounding mode), then drop them.
  double micros = std::nearbyint(unix_seconds * 1e6);
  auto secs = static_cast<std::time_t>(std::floor(micros / 1e6));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
  return std::string(buf, n);
}

Result<std::string> encode_payload(const TokenPayload& p,
                                   std::span<const std::string> auth_methods) {
  ONESTACK_TRY(check_id("user_id", p.user_id));
  uint64_t methods = 0;
  ASSIGN_OR_RETURN(methods, methods_to_bitmask(p.methods, auth_methods));
  if (!std::isfinite(p.expires_at) || p.expires_at < 0) return bad_payload("bad expires_at");
  if (p.audit_ids.empty() || p.audit_ids.size() > kMaxAuditIds) {
    return bad_payload("a token carries one or two audit ids");
  }
  std::vector<std::string> raw_audit_ids;
  for (const std::string& a : p.audit_ids) {
    auto raw = urlsafe_b64decode(a);
    // Only a canonical unpadded encoding decodes back to the same text.
    if (!raw || raw->empty() || urlsafe_b64encode(*raw, false) != a) {
      return bad_payload("audit id '" + a + "' is not url-safe base64");
    }
    raw_audit_ids.push_back(std::move(*raw));
  }

  Writer w;
  auto write_tail = [&] {
    w.dbl(p.expires_at);
    w.array(static_cast<uint32_t>(raw_audit_ids.size()));
    for (const std::string& a : raw_audit_ids) w.bin(a);
  };
  switch (p.scope) {
    case Scope::kUnscoped:
      w.array(5);
      w.uint(kUnscopedVersion);
      write_id(w, p.user_id);
      w.uint(methods);
      write_tail();
      break;
    case Scope::kDomain:
      ONESTACK_TRY(check_id("domain_id", p.domain_id));
      w.array(6);
      w.uint(kDomainScopedVersion);
      write_id(w, p.user_id);
      w.uint(methods);
      // Not a pair: raw uuid bytes, or the id itself (keystone allows this
      // only for its default domain, whose id need not be a uuid).
      if (is_hex_uuid(p.domain_id)) {
        w.bin(hex_to_bytes(p.domain_id));
      } else {
        w.str(p.domain_id);
      }
      write_tail();
      break;
    case Scope::kProject:
      ONESTACK_TRY(check_id("project_id", p.project_id));
      w.array(6);
      w.uint(kProjectScopedVersion);
      write_id(w, p.user_id);
      w.uint(methods);
      write_id(w, p.project_id);
      write_tail();
      break;
    case Scope::kSystem:
      ONESTACK_TRY(check_id("system", p.system));
      w.array(6);
      w.uint(kSystemScopedVersion);
      write_id(w, p.user_id);
      w.uint(methods);
      w.str(p.system);
      write_tail();
      break;
    case Scope::kApplicationCredential:
      ONESTACK_TRY(check_id("project_id", p.project_id));
      ONESTACK_TRY(check_id("app_cred_id", p.app_cred_id));
      w.array(7);
      w.uint(kAppCredScopedVersion);
      write_id(w, p.user_id);
      w.uint(methods);
      write_id(w, p.project_id);
      write_tail();
      write_id(w, p.app_cred_id);
      break;
  }
  return w.take();
}

Result<TokenPayload> decode_payload(std::string_view bytes,
                                    std::span<const std::string> auth_methods) {
  if (bytes.empty()) return malformed("empty");
  const char* begin = bytes.data();
  const char* end = begin + bytes.size();
  const char* check = begin;
  if (mp_check(&check, end) != 0) return malformed("not msgpack");
  if (check != end) return malformed("trailing bytes");

  Reader r(begin);
  uint32_t n = 0;
  ASSIGN_OR_RETURN(n, r.array());
  if (n < 1) return malformed("empty array");
  uint64_t version = 0;
  ASSIGN_OR_RETURN(version, r.uint());

  TokenPayload p;
  uint32_t expected = 0;
  switch (version) {
    case kUnscopedVersion:
      p.scope = Scope::kUnscoped;
      expected = 5;
      break;
    case kDomainScopedVersion:
      p.scope = Scope::kDomain;
      expected = 6;
      break;
    case kProjectScopedVersion:
      p.scope = Scope::kProject;
      expected = 6;
      break;
    case kSystemScopedVersion:
      p.scope = Scope::kSystem;
      expected = 6;
      break;
    case kAppCredScopedVersion:
      p.scope = Scope::kApplicationCredential;
      expected = 7;
      break;
    default: return malformed("unsupported payload version " + std::to_string(version));
  }
  if (n != expected) return malformed("wrong number of fields");

  ASSIGN_OR_RETURN(p.user_id, r.id());
  uint64_t methods = 0;
  ASSIGN_OR_RETURN(methods, r.uint());
  p.methods = bitmask_to_methods(methods, auth_methods);

  switch (p.scope) {
    case Scope::kUnscoped: break;
    case Scope::kDomain: ASSIGN_OR_RETURN(p.domain_id, r.domain_id()); break;
    case Scope::kProject:
    case Scope::kApplicationCredential: ASSIGN_OR_RETURN(p.project_id, r.id()); break;
    case Scope::kSystem:
      ASSIGN_OR_RETURN(p.system, r.text());
      if (p.system.empty()) return malformed("empty system scope");
      break;
  }
  ASSIGN_OR_RETURN(p.expires_at, r.number());
  ONESTACK_TRY(read_audit_ids(r, p.audit_ids));
  if (p.scope == Scope::kApplicationCredential) {
    ASSIGN_OR_RETURN(p.app_cred_id, r.id());
  }
  return p;
}

}  // namespace onestack::identity::token
