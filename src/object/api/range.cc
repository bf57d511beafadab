#include "object/api/range.h"

#include <cctype>
#include <charconv>
#include <string>

#include "object/service/object_service.h"

namespace onestack::object::api {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Digits only; a number past 2^64-1 saturates (swob's Python ints have no
// limit: such a first byte is past any object, such a last byte clamps).
bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (p != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) *out = UINT64_MAX;
  return ec == std::errc() || ec == std::errc::result_out_of_range;
}

struct Spec {
  std::optional<uint64_t> first;
  std::optional<uint64_t> last;
};

}  // namespace

RangeResult parse_range(std::string_view header, uint64_t size, size_t max_ranges) {
  RangeResult whole;
  // swob drops every space and takes the unit in any case ("Bytes = 0-1").
  std::string value;
  for (char c : header) {
    if (c != ' ') value.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (value.size() < 6 || value.compare(0, 6, "bytes=") != 0) return whole;
  std::string_view rest = std::string_view(value).substr(6);
  std::vector<Spec> specs;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    size_t dash = item.find('-');
    if (dash == std::string_view::npos) return whole;
    Spec s;
    std::string_view a = trim(item.substr(0, dash)), b = trim(item.substr(dash + 1));
    if (!a.empty()) {
      uint64_t v;
      if (!parse_u64(a, &v)) return whole;
      s.first = v;
    }
    if (!b.empty()) {
      uint64_t v;
      if (!parse_u64(b, &v)) return whole;
      s.last = v;
    }
    if (!s.first && !s.last) return whole;
    if (s.first && s.last && *s.last < *s.first) return whole;
    specs.push_back(s);
    // The header itself is bounded by the header limits; the count that
    // matters is of satisfiable ranges, checked below.
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  RangeResult r;
  bool empty_suffix = false;  // a suffix spec against a zero-length object
  for (const auto& s : specs) {
    if (!s.first) {
      // Suffix: the last N bytes ("-0" asks for nothing).
      uint64_t n = *s.last;
      if (n == 0) continue;
      if (size == 0) {
        empty_suffix = true;
        continue;
      }
      r.ranges.push_back({n >= size ? 0 : size - n, size});
      continue;
    }
    if (*s.first >= size) continue;
    uint64_t end = s.last && *s.last < size ? *s.last + 1 : size;
    r.ranges.push_back({*s.first, end});
  }
  if (r.ranges.size() > max_ranges) {
    // swob.ranges_for_length: more than MAX_RANGES (50) → [] → 416.
    r.ranges.clear();
    r.decision = RangeDecision::kUnsatisfiable;
    return r;
  }
  if (r.ranges.empty()) {
    // swob serves "the last N bytes" of an empty object as a 200 with no
    // body: there is no byte index to put in a Content-Range.
    r.decision = empty_suffix ? RangeDecision::kWhole : RangeDecision::kUnsatisfiable;
    return r;
  }
  // RFC 7233 §6.1 hardening, with swob's limits (Range.ranges_for_length):
  // more than 2 overlapping pairs — identical ranges do not count, as
  // swob's strict comparisons have it — or 8 and more ranges out of
  // ascending order answer 416.
  auto unsatisfiable = [&r] {
    r.ranges.clear();
    r.decision = RangeDecision::kUnsatisfiable;
    return r;
  };
  size_t overlaps = 0;
  for (size_t i = 0; i < r.ranges.size(); ++i) {
    for (size_t j = i + 1; j < r.ranges.size(); ++j) {
      const ByteRange& a = r.ranges[i];
      const ByteRange& b = r.ranges[j];
      bool same = a.begin == b.begin && a.end == b.end;
      if (!same && a.begin < b.end && b.begin < a.end && ++overlaps > 2) return unsatisfiable();
    }
  }
  bool ascending = true;
  for (size_t i = 1; i < r.ranges.size() && ascending; ++i) {
    const ByteRange& prev = r.ranges[i - 1];
    const ByteRange& cur = r.ranges[i];
    ascending = prev.begin < cur.begin || (prev.begin == cur.begin && prev.end <= cur.end);
  }
  if (!ascending && r.ranges.size() >= 8) return unsatisfiable();
  r.decision = RangeDecision::kPartial;
  return r;
}

namespace {

// Whether the comma-separated entity-tag list `header` names `etag`: swob's
// Match, where "*" matches anything and one pair of quotes is dropped from
// each tag (a weak "W/" prefix is not: swob compares it as written).
bool etag_listed(std::string_view header, std::string_view etag) {
  auto unquote = [](std::string_view t) {
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
    return t;
  };
  etag = unquote(etag);
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view t = unquote(trim(header.substr(0, comma)));
    if (t == "*" || (!t.empty() && t == etag)) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

// swob's Response._get_conditional_response_status, in its order: a
// matching If-None-Match, then a failed If-Match, then If-Modified-Since,
// then If-Unmodified-Since; each is checked whatever the others said.
Condition check_conditions(const http::Request& req, std::string_view etag, int64_t last_modified,
                           bool is_get_or_head) {
  if (req.has_header("If-None-Match") && etag_listed(req.header("If-None-Match"), etag)) {
    return is_get_or_head ? Condition::kNotModified : Condition::kPreconditionFailed;
  }
  if (req.has_header("If-Match") && !etag_listed(req.header("If-Match"), etag)) {
    return Condition::kPreconditionFailed;
  }
  if (req.has_header("If-Modified-Since") && is_get_or_head) {
    auto t = parse_http_date(req.header("If-Modified-Since"));
    if (t && last_modified <= *t) return Condition::kNotModified;
  }
  if (req.has_header("If-Unmodified-Since")) {
    auto t = parse_http_date(req.header("If-Unmodified-Since"));
    if (t && last_modified > *t) return Condition::kPreconditionFailed;
  }
  return Condition::kProceed;
}

bool if_match_any(const http::Request& req) {
  if (!req.has_header("If-Match")) return false;
  std::string_view header = req.header("If-Match");
  while (!header.empty()) {
    size_t comma = header.find(',');
    if (trim(header.substr(0, comma)) == "*") return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace onestack::object::api
