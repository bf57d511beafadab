#include "object/api/versioning_names.h"

#include <cstdio>

namespace onestack::object::api {

namespace {

// Swift's Timestamp counts in units of 10 µs; ~Timestamp subtracts the raw
// count from this (swift/common/utils/timestamp.py).
constexpr int64_t kMaxRaw = 999999999999999LL;

std::string format_raw(int64_t raw) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%010lld.%05lld", static_cast<long long>(raw / 100000),
                static_cast<long long>(raw % 100000));
  return buf;
}

}  // namespace

std::string swift_timestamp(int64_t us) { return format_raw(us / 10); }

std::optional<int64_t> parse_swift_timestamp(std::string_view s) {
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 10) return std::nullopt;
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
  int64_t secs = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    secs = secs * 10 + (c - '0');
  }
  int64_t us = 0;
  int64_t scale = 100000;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    // Digits past the fifth decimal are dropped, as Swift rounds to 10 µs.
    if (scale >= 10) us += (c - '0') * scale;
    scale /= 10;
  }
  return secs * 1000000 + us;
}

std::string legacy_version_prefix(std::string_view object_name) {
  char len[24];
  std::snprintf(len, sizeof len, "%03zx", object_name.size());
  return std::string(len) + std::string(object_name) + "/";
}

std::string legacy_version_name(std::string_view object_name, int64_t us) {
  return legacy_version_prefix(object_name) + swift_timestamp(us);
}

std::string versions_container_name(std::string_view container) {
  std::string out("\0versions\0", 10);
  out += container;
  return out;
}

std::string inverted_timestamp(int64_t us) { return format_raw(kMaxRaw - us / 10); }

std::string version_object_prefix(std::string_view object_name) {
  std::string out(1, '\0');
  out += object_name;
  out.push_back('\0');
  return out;
}

std::string version_object_name(std::string_view object_name, int64_t us) {
  return version_object_prefix(object_name) + inverted_timestamp(us);
}

std::optional<std::pair<std::string, int64_t>> split_version_object_name(std::string_view name) {
  if (name.size() < 2 || name.front() != '\0') return std::nullopt;
  size_t sep = name.rfind('\0');
  if (sep == 0) return std::nullopt;
  auto inv = parse_swift_timestamp(name.substr(sep + 1));
  if (!inv) return std::nullopt;
  int64_t raw = *inv / 10;
  if (raw > kMaxRaw) return std::nullopt;
  return std::make_pair(std::string(name.substr(1, sep - 1)), (kMaxRaw - raw) * 10);
}

Result<Target> parse_symlink_target(std::string_view target, std::string_view target_account,
                                    std::string_view link_account) {
  size_t slash = target.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == target.size()) {
    return make_error(ErrorCode::kPreconditionFailed,
                      "X-Symlink-Target header must be of the form <container name>/<object name>");
  }
  Target t;
  t.account = std::string(target_account.empty() ? link_account : target_account);
  t.container = std::string(target.substr(0, slash));
  t.object = std::string(target.substr(slash + 1));
  return t;
}

}  // namespace onestack::object::api
