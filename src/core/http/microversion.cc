#include "core/http/microversion.h"

#include <optional>
#include <vector>

namespace onestack::http {

namespace {

constexpr size_t kMaxDigits = 9;  // 999999999 fits an int

enum class Parsed { kOk, kMalformed, kTooLarge };

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// One side of the dot: [1-9]\d* or, where `zero_ok`, also "0".
Parsed parse_number(std::string_view s, bool zero_ok, int* out) {
  if (s.empty()) return Parsed::kMalformed;
  for (char c : s) {
    if (c < '0' || c > '9') return Parsed::kMalformed;
  }
  if (s[0] == '0' && !(zero_ok && s.size() == 1)) return Parsed::kMalformed;
  if (s.size() > kMaxDigits) return Parsed::kTooLarge;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  *out = v;
  return Parsed::kOk;
}

Parsed parse(std::string_view text, Version* v) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return Parsed::kMalformed;
  // A second dot lands in the minor part and fails its digit check.
  Parsed major = parse_number(text.substr(0, dot), false, &v->major);
  Parsed minor = parse_number(text.substr(dot + 1), true, &v->minor);
  if (major == Parsed::kMalformed || minor == Parsed::kMalformed) return Parsed::kMalformed;
  if (major == Parsed::kTooLarge || minor == Parsed::kTooLarge) return Parsed::kTooLarge;
  return Parsed::kOk;
}

Error malformed(std::string_view text) {
  return make_error(ErrorCode::kInvalidArgument,
                    "API Version String " + std::string(text) +
                        " is of invalid format. Must be of format MajorNum.MinorNum.");
}

Error unsupported(std::string_view text, const VersionRange& range) {
  return make_error(ErrorCode::kNotAcceptable,
                    "Version " + std::string(text) + " is not supported by the API. Minimum is " +
                        range.min.to_string() + " and maximum is " + range.max.to_string() + ".");
}

// Calls `fn` on each comma-separated piece of `values`, last first, until it
// returns true. Folded lines are one list, so the order across lines holds.
template <typename Fn>
void for_each_entry_reversed(std::span<const std::string_view> values, Fn fn) {
  for (auto it = values.rbegin(); it != values.rend(); ++it) {
    std::string_view rest = *it;
    while (true) {
      size_t comma = rest.rfind(',');
      std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      if (fn(trim(entry))) return;
      if (comma == std::string_view::npos) break;
      rest = rest.substr(0, comma);
    }
  }
}

// The version text the client asked `service_type` for, if any.
std::optional<std::string_view> requested(std::span<const std::string_view> standard,
                                          std::span<const std::string_view> legacy,
                                          std::string_view service_type) {
  std::optional<std::string_view> found;
  for_each_entry_reversed(standard, [&](std::string_view entry) {
    size_t sp = 0;
    while (sp < entry.size() && !is_space(entry[sp])) ++sp;
    if (sp == entry.size() || !iequals(entry.substr(0, sp), service_type)) return false;
    found = trim(entry.substr(sp));
    return true;
  });
  if (found || legacy.empty()) return found;
  // Only the last value counts, even an empty one (Nova then answers 400).
  for_each_entry_reversed(legacy, [&](std::string_view entry) {
    found = entry;
    return true;
  });
  return found;
}

std::vector<std::string_view> values_of(const beast_http::fields& headers, std::string_view name) {
  std::vector<std::string_view> out;
  if (name.empty()) return out;
  auto [begin, end] = headers.equal_range(name);
  for (auto it = begin; it != end; ++it) out.emplace_back(it->value());
  return out;
}

void add_vary(beast_http::fields& headers, std::string_view name) {
  std::string joined;
  for (std::string_view line : values_of(headers, "Vary")) {
    std::string_view rest = line;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view token = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (token.empty()) continue;
      if (token == "*" || iequals(token, name)) return;
      if (!joined.empty()) joined += ", ";
      joined += token;
    }
  }
  if (!joined.empty()) joined += ", ";
  joined += name;
  headers.set(beast_http::field::vary, joined);
}

}  // namespace

std::string Version::to_string() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

Result<Version> parse_version(std::string_view text) {
  Version v;
  switch (parse(text, &v)) {
    case Parsed::kOk: return v;
    case Parsed::kMalformed: return malformed(text);
    case Parsed::kTooLarge: break;
  }
  return make_error(ErrorCode::kNotAcceptable,
                    "Version " + std::string(text) + " is not supported by the API.");
}

Result<Version> negotiate_version(std::span<const std::string_view> standard,
                                  std::span<const std::string_view> legacy,
                                  const ServiceVersions& service) {
  const VersionRange& range = service.range;
  if (range.is_null()) return Version{};
  std::optional<std::string_view> text = requested(standard, legacy, service.service_type);
  if (!text) return range.min;
  if (*text == "latest") return range.max;
  Version v;
  switch (parse(*text, &v)) {
    case Parsed::kMalformed: return malformed(*text);
    case Parsed::kTooLarge: return unsupported(*text, range);
    case Parsed::kOk: break;
  }
  if (!range.contains(v)) return unsupported(v.to_string(), range);
  return v;
}

Result<Version> negotiate_version(const beast_http::fields& headers,
                                  const ServiceVersions& service) {
  std::vector<std::string_view> standard = values_of(headers, kApiVersionHeader);
  std::vector<std::string_view> legacy = values_of(headers, service.legacy_header);
  return negotiate_version(standard, legacy, service);
}

void set_version_headers(Response& response, const ServiceVersions& service, Version version) {
  if (version.is_null()) return;
  std::string text = version.to_string();
  response.headers.set(kApiVersionHeader, std::string(service.service_type) + " " + text);
  add_vary(response.headers, kApiVersionHeader);
  if (!service.legacy_header.empty()) {
    response.headers.set(service.legacy_header, text);
    add_vary(response.headers, service.legacy_header);
  }
}

VersionDocumentFields version_document_fields(const VersionRange& range) {
  if (range.is_null()) return {};
  return {range.max.to_string(), range.min.to_string()};
}

}  // namespace onestack::http
