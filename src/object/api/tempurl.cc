// TempURL (swift/common/middleware/tempurl.py): time-limited URLs signed with
// the account's or container's Temp-URL key, plus the HMAC helpers FormPost
// shares.
//
// What a TempURL grants. The signature is always checked against the
// request's own path and method, never against the object being authorized,
// so a URL signed for one object cannot be pointed at another. The large
// object and symlink code authorize each segment (or link target) they read
// on behalf of a request by calling the same hook with that segment's
// target; for a GET or HEAD TempURL such a read is allowed when it stays in
// the signed account (account key) or the signed container (container key)
// — Swift's authorize_same_account / authorize_same_container. Any other
// method reaching a second object through a TempURL (a PUT with X-Copy-From,
// a manifest PUT checking its segments) is refused: the URL names one object.
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <cstring>
#include <ctime>

#include "object/api/features.h"
#include "object/api/middleware.h"

namespace onestack::object::api {

namespace {

const EVP_MD* md_of(Digest d) {
  switch (d) {
    case Digest::kSha1: return EVP_sha1();
    case Digest::kSha256: return EVP_sha256();
    case Digest::kSha512: return EVP_sha512();
  }
  return EVP_sha1();
}

size_t digest_size(Digest d) {
  switch (d) {
    case Digest::kSha1: return 20;
    case Digest::kSha256: return 32;
    case Digest::kSha512: return 64;
  }
  return 20;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// Standard or URL-safe base64, padding optional (Swift appends "==" and
// decodes strictly).
std::optional<std::string> unbase64(std::string_view s) {
  bool urlsafe = (s.find_first_of("-_") != std::string_view::npos) &&
                 s.find_first_of("+/") == std::string_view::npos;
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == (urlsafe ? '-' : '+'))
      v = 62;
    else if (c == (urlsafe ? '_' : '/'))
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

bool parse_int(std::string_view v, int64_t* out) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  if (v.empty()) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size();
}

// Parses "a.b.c.d" or an IPv6 address into 16 bytes (IPv4 in the first 4).
bool parse_ip(std::string_view s, unsigned char* out, bool* v6) {
  std::string str(s);
  std::memset(out, 0, 16);
  if (inet_pton(AF_INET, str.c_str(), out) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, str.c_str(), out) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

}  // namespace

std::string hmac_raw(Digest d, std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(md_of(d), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string hmac_hex(Digest d, std::string_view key, std::string_view message) {
  static const char* kHex = "0123456789abcdef";
  std::string raw = hmac_raw(d, key, message);
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<Signature> parse_signature(std::string_view sig) {
  Signature out;
  if (size_t colon = sig.find(':'); colon != std::string_view::npos) {
    std::string_view name = sig.substr(0, colon);
    if (name == "sha1")
      out.digest = Digest::kSha1;
    else if (name == "sha256")
      out.digest = Digest::kSha256;
    else if (name == "sha512")
      out.digest = Digest::kSha512;
    else
      return std::nullopt;
    auto raw = unbase64(sig.substr(colon + 1));
    if (!raw || raw->size() != digest_size(out.digest)) return std::nullopt;
    out.raw = std::move(*raw);
    return out;
  }
  switch (sig.size()) {
    case 40: out.digest = Digest::kSha1; break;
    case 64: out.digest = Digest::kSha256; break;
    case 128: out.digest = Digest::kSha512; break;
    default: return std::nullopt;
  }
  auto raw = unhex(sig);
  if (!raw) return std::nullopt;
  out.raw = std::move(*raw);
  return out;
}

bool signature_matches(const Signature& sig, std::string_view key, std::string_view message) {
  std::string want = hmac_raw(sig.digest, key, message);
  return want.size() == sig.raw.size() &&
         CRYPTO_memcmp(want.data(), sig.raw.data(), want.size()) == 0;
}

std::optional<int64_t> parse_expires(std::string_view v) {
  int64_t n = 0;
  if (parse_int(v, &n)) return n;
  // EXPIRES_ISO8601_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
  std::string s(v);
  struct tm tm {};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

std::string tempurl_message(std::string_view method, int64_t expires, std::string_view path,
                            std::string_view ip_range) {
  std::string m;
  if (!ip_range.empty()) m = "ip=" + std::string(ip_range) + "\n";
  m += std::string(method) + "\n" + std::to_string(expires) + "\n" + std::string(path);
  return m;
}

bool ip_in_range(std::string_view ip, std::string_view range) {
  unsigned char addr[16], net[16];
  bool addr_v6 = false, net_v6 = false;
  std::string_view net_part = range;
  int prefix = -1;
  if (size_t slash = range.find('/'); slash != std::string_view::npos) {
    net_part = range.substr(0, slash);
    int64_t p = 0;
    if (!parse_int(range.substr(slash + 1), &p) || p < 0) return false;
    prefix = static_cast<int>(p);
  }
  if (!parse_ip(net_part, net, &net_v6) || !parse_ip(ip, addr, &addr_v6)) return false;
  int bits = net_v6 ? 128 : 32;
  if (prefix < 0) prefix = bits;
  if (prefix > bits) return false;
  // Host bits set: Python's ip_network (strict) raises ValueError.
  for (int b = prefix; b < bits; ++b) {
    if (net[b / 8] & (0x80 >> (b % 8))) return false;
  }
  if (addr_v6 != net_v6) return false;
  for (int b = 0; b < prefix; ++b) {
    unsigned char mask = static_cast<unsigned char>(0x80 >> (b % 8));
    if ((addr[b / 8] & mask) != (net[b / 8] & mask)) return false;
  }
  return true;
}

std::string py_quote(std::string_view s, std::string_view safe) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool keep = std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' ||
                (c < 0x80 && safe.find(static_cast<char>(c)) != std::string_view::npos);
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string disposition_value(std::string_view type, std::string_view filename) {
  // tempurl.py disposition_format (RFC 6266 / RFC 5987 filename*).
  return std::string(type) + "; filename=\"" + py_quote(filename, " /") + "\"; filename*=UTF-8''" +
         py_quote(filename);
}

namespace {

struct TempUrlParams {
  std::string_view sig;
  int64_t expires = 0;
  std::optional<std::string_view> prefix;
  std::string_view ip_range;
};

// The TempURL query parameters when they are present and unexpired.
std::optional<TempUrlParams> tempurl_params(const Request& req, int64_t now_unix) {
  auto sig = req.query.get("temp_url_sig");
  auto exp = req.query.get("temp_url_expires");
  if (!sig || !exp || sig->empty() || exp->empty()) return std::nullopt;
  auto expires = parse_expires(*exp);
  if (!expires || *expires < now_unix) return std::nullopt;
  TempUrlParams p;
  p.sig = *sig;
  p.expires = *expires;
  p.prefix = req.query.get("temp_url_prefix");
  p.ip_range = req.query.get("temp_url_ip_range").value_or("");
  return p;
}

bool is_tempurl_method(bhttp::verb m) {
  return m == bhttp::verb::get || m == bhttp::verb::head || m == bhttp::verb::put ||
         m == bhttp::verb::post || m == bhttp::verb::delete_;
}

void add_keys(const store::Metadata* meta, std::string_view prefix, std::vector<std::string>* out) {
  if (!meta) return;
  for (const char* suffix : {"temp-url-key", "temp-url-key-2"}) {
    auto it = meta->find(std::string(prefix) + suffix);
    if (it != meta->end() && !it->second.empty()) out->push_back(it->second);
  }
}

// tempurl.py's _invalid: its words, but no body at all for a HEAD.
Result<Access> invalid(const Request& req) {
  if (req.method == bhttp::verb::head) return make_error(ErrorCode::kUnauthenticated, "");
  return make_error(ErrorCode::kUnauthenticated, "401 Unauthorized: Temp URL invalid\n");
}

}  // namespace

bool has_tempurl_params(const Request& req) {
  return req.query.has("temp_url_sig") || req.query.has("temp_url_expires");
}

Response tempurl_invalid(const Request& req) { return error_for(req, invalid(req).error()); }

std::optional<Result<Access>> tempurl_authorize(const Env& env, const Request& req, const Target& t,
                                                const store::Metadata* account_meta,
                                                const store::Metadata* container_meta) {
  if (!has_tempurl_params(req)) return std::nullopt;
  if (req.method == bhttp::verb::options) return std::nullopt;
  auto p = tempurl_params(req, env.svc->clock().now_unix());
  if (!p) return invalid(req);
  auto sig = parse_signature(p->sig);
  if (!sig) return invalid(req);

  // The signed path is the request's own, whatever `t` is.
  Target self = target_of(req);
  if (!is_tempurl_method(req.method) || self.account.empty() || self.container.empty() ||
      self.object.find_first_not_of('/') == std::string::npos) {
    return invalid(req);
  }
  if (!p->ip_range.empty() && !ip_in_range(req.remote, p->ip_range)) return invalid(req);

  // Keys: the account's when `t` is in the signed account, the container's
  // when `t` is in the signed container (the metadata we were given is t's).
  std::vector<std::string> account_keys, container_keys;
  if (t.account == self.account) {
    add_keys(account_meta, "x-account-meta-", &account_keys);
    if (t.container == self.container)
      add_keys(container_meta, "x-container-meta-", &container_keys);
  }
  if (account_keys.empty() && container_keys.empty()) return invalid(req);

  std::string path;
  if (p->prefix) {
    if (self.object.rfind(*p->prefix, 0) != 0) return invalid(req);
    path = "prefix:/v1/" + self.account + "/" + self.container + "/" + std::string(*p->prefix);
  } else {
    path = "/v1/" + self.account + "/" + self.container + "/" + self.object;
  }
  // A HEAD may use a URL signed for HEAD, GET, POST or PUT (tempurl.py).
  std::vector<std::string_view> methods;
  if (req.method == bhttp::verb::head) {
    methods = {"HEAD", "GET", "POST", "PUT"};
  } else {
    methods = {req.method_name};
  }
  bool valid = false;
  for (auto m : methods) {
    std::string msg = tempurl_message(m, p->expires, path, p->ip_range);
    for (const auto* keys : {&account_keys, &container_keys}) {
      for (const auto& k : *keys) {
        if (signature_matches(*sig, k, msg)) valid = true;
      }
    }
  }
  if (!valid) return invalid(req);

  bool same_object =
      t.account == self.account && t.container == self.container && t.object == self.object;
  if (!same_object) {
    // A segment or link target read on behalf of a GET/HEAD; scope was
    // enforced above by which keys could verify.
    if (req.method != bhttp::verb::get && req.method != bhttp::verb::head) return invalid(req);
    return Access{};
  }
  if (req.method != bhttp::verb::get && req.method != bhttp::verb::head) {
    // Swift's DISALLOWED_INCOMING_HEADERS: a TempURL PUT must not plant a
    // pointer to data the URL would not otherwise reach.
    for (const char* h : {"X-Object-Manifest", "X-Symlink-Target"}) {
      if (req.has_header(h)) {
        return make_error(ErrorCode::kInvalidArgument,
                          std::string("The header '") + h + "' is not allowed in this tempurl");
      }
    }
  }
  return Access{};
}

void tempurl_decorate(const Env& env, const Request& req, const Target& t, Response& res) {
  (void)t;
  if (req.method != bhttp::verb::get && req.method != bhttp::verb::head) return;
  if (!req.query.has("temp_url_sig")) return;
  if (static_cast<unsigned>(res.status) / 100 != 2) return;
  auto p = tempurl_params(req, env.svc->clock().now_unix());
  if (!p) return;
  // outgoing_remove_headers x-object-meta-*, outgoing_allow_headers
  // x-object-meta-public-* (the defaults /info announces).
  std::vector<std::string> drop;
  for (const auto& f : res.headers) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.rfind("x-object-meta-", 0) == 0 && name.rfind("x-object-meta-public-", 0) != 0) {
      drop.push_back(std::string(f.name_string()));
    }
  }
  for (const auto& n : drop) res.headers.erase(n);

  auto filename = req.query.get("filename");
  bool inline_disp = req.query.has("inline");
  std::string value;
  if (inline_disp) {
    value = filename ? disposition_value("inline", *filename) : "inline";
  } else if (filename) {
    value = disposition_value("attachment", *filename);
  } else if (res.headers.find(bhttp::field::content_disposition) != res.headers.end()) {
    value = std::string(res.headers[bhttp::field::content_disposition]);
  } else {
    std::string name = target_of(req).object;
    while (!name.empty() && name.back() == '/') name.pop_back();
    if (size_t slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
    value = disposition_value("attachment", name);
  }
  for (size_t i; (i = value.find('\n')) != std::string::npos;) value.replace(i, 1, "%0A");
  res.headers.set(bhttp::field::content_disposition, value);
  res.headers.set(bhttp::field::expires, http_date(p->expires));
}

}  // namespace onestack::object::api
