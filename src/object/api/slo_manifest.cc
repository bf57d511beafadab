#include "object/api/slo_manifest.h"

#include "object/api/middleware.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/json.h"
#include "object/service/blob_io.h"

namespace onestack::object::api {

namespace json = boost::json;

namespace {

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string index_error(size_t i, std::string_view what) {
  return "Index " + std::to_string(i) + ": " + std::string(what);
}

// Python's int() of a JSON value, as Swift applies it to size_bytes.
std::optional<int64_t> python_int(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) {
    if (v.as_uint64() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_double()) {
    double d = v.as_double();
    if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  if (v.is_string()) {
    std::string_view s = trim(std::string_view(v.as_string()));
    bool neg = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
      neg = s.front() == '-';
      s.remove_prefix(1);
    }
    uint64_t u = 0;
    if (!parse_u64(s, &u) || u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return neg ? -static_cast<int64_t>(u) : static_cast<int64_t>(u);
  }
  return std::nullopt;
}

// Python's json.dumps of a Python str of ASCII-only key names, sorted.
std::string quoted_key_list(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += ", ";
    out += py_json_string(k);
  }
  return out;
}

// Decodes the multi-byte UTF-8 sequence at s[i] and advances i past it;
// U+FFFD for a malformed one (names reaching here are valid UTF-8 already).
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if ((c >> 5) == 6) {
    n = 1, cp = c & 0x1f;
  } else if ((c >> 4) == 14) {
    n = 2, cp = c & 0x0f;
  } else if ((c >> 3) == 30) {
    n = 3, cp = c & 0x07;
  } else {
    ++i;
    return 0xfffd;
  }
  if (i + n >= s.size()) {
    ++i;
    return 0xfffd;
  }
  for (size_t k = 1; k <= n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += n + 1;
  return cp;
}

void append_u_escape(std::string& out, uint32_t unit) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", unit);
  out += buf;
}

std::string format_range(const std::pair<uint64_t, uint64_t>& r) {
  return std::to_string(r.first) + "-" + std::to_string(r.second);
}

}  // namespace

std::optional<std::vector<SegmentRange>> parse_segment_ranges(std::string_view spec) {
  // swob.Range removes every space, then splits on commas.
  std::string s;
  for (char c : spec) {
    if (c != ' ') s.push_back(c);
  }
  if (s.empty()) return std::nullopt;
  std::vector<SegmentRange> out;
  std::string_view rest(s);
  for (;;) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    size_t dash = item.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view a = item.substr(0, dash), b = item.substr(dash + 1);
    SegmentRange r;
    if (!a.empty()) {
      uint64_t v;
      if (a.front() == '+') a.remove_prefix(1);
      if (!parse_u64(a, &v)) return std::nullopt;
      r.first = v;
    }
    if (!b.empty()) {
      uint64_t v;
      if (!parse_u64(b, &v)) return std::nullopt;
      if (r.first && v < *r.first) return std::nullopt;
      r.last = v;
    } else if (!r.first) {
      return std::nullopt;
    }
    out.push_back(r);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::pair<uint64_t, uint64_t>> resolve_segment_range(const SegmentRange& r,
                                                                   uint64_t size) {
  if (!r.first) {
    uint64_t n = *r.last;
    if (n == 0) return std::nullopt;
    n = std::min(n, size);
    return std::make_pair(size - n, size);
  }
  if (*r.first >= size) return std::nullopt;
  uint64_t end = !r.last || *r.last >= size ? size : *r.last + 1;
  return std::make_pair(*r.first, end);
}

Result<std::vector<SegmentSpec>> parse_manifest_put(std::string_view body,
                                                    std::string_view container,
                                                    std::string_view object) {
  auto parsed = parse_json(body, 16);
  if (!parsed.ok())
    return make_error(ErrorCode::kInvalidArgument, "Manifest must be valid JSON.\n");
  if (!parsed->is_array())
    return make_error(ErrorCode::kInvalidArgument, "Manifest must be a list.\n");
  const json::array& items = parsed->as_array();
  std::vector<std::string> errors;
  std::vector<SegmentSpec> out;
  std::string self = std::string(container) + "/" + std::string(object);
  bool all_data = !items.empty();
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_object()) {
      all_data = false;
      errors.push_back(index_error(i, "not a JSON object"));
      continue;
    }
    const json::object& seg = items[i].as_object();
    bool is_data = seg.contains("data");
    all_data = all_data && is_data;
    if (!is_data && !seg.contains("path")) {
      errors.push_back(index_error(i, "expected keys to include one of 'data' or 'path'"));
      continue;
    }
    std::vector<std::string> extraneous;
    for (const auto& kv : seg) {
      std::string_view k = kv.key();
      bool allowed =
          is_data ? k == "data" : k == "path" || k == "etag" || k == "size_bytes" || k == "range";
      if (!allowed) extraneous.emplace_back(k);
    }
    if (!extraneous.empty()) {
      errors.push_back(index_error(i, "extraneous keys " + quoted_key_list(extraneous)));
      continue;
    }
    SegmentSpec spec;
    if (is_data) {
      const json::value& d = seg.at("data");
      std::optional<std::string> raw;
      if (d.is_string()) raw = base64_decode(std::string_view(d.as_string()));
      if (!raw) {
        errors.push_back(index_error(i, "data must be valid base64"));
        continue;
      }
      if (raw->empty()) {
        errors.push_back(index_error(i, "too small; each segment must be at least 1 byte."));
        continue;
      }
      spec.is_data = true;
      spec.data = std::move(*raw);
      out.push_back(std::move(spec));
      continue;
    }
    const json::value& p = seg.at("path");
    if (!p.is_string()) {
      errors.push_back(index_error(i, "\"path\" must be a string"));
      continue;
    }
    spec.path = std::string(p.as_string());
    if (auto it = seg.find("etag"); it != seg.end() && !it->value().is_null()) {
      if (!it->value().is_string()) {
        errors.push_back(index_error(i, "\"etag\" must be a string or null (if provided)"));
        continue;
      }
      spec.etag = std::string(it->value().as_string());
    }
    if (!split_segment_name(spec.path, &spec.container, &spec.object)) {
      errors.push_back(index_error(i,
                                   "path does not refer to an object. Path must be of the "
                                   "form /container/object."));
      continue;
    }
    if (auto it = seg.find("size_bytes"); it != seg.end() && !it->value().is_null()) {
      auto n = python_int(it->value());
      if (!n) {
        errors.push_back(index_error(i, "invalid size_bytes"));
        continue;
      }
      if (*n < 1 && i + 1 != items.size()) {
        errors.push_back(index_error(i, "too small; each segment must be at least 1 byte."));
        continue;
      }
      spec.size_bytes = *n;
    }
    std::string_view stripped(spec.path);
    while (!stripped.empty() && stripped.front() == '/') stripped.remove_prefix(1);
    if (stripped == self) {
      errors.push_back(index_error(i, "manifest must not include itself as a segment"));
      continue;
    }
    if (auto it = seg.find("range"); it != seg.end()) {
      const json::value& rv = it->value();
      // Python truthiness: null, "", 0 and false mean "no range".
      bool present = !(rv.is_null() || (rv.is_string() && rv.as_string().empty()) ||
                       (rv.is_bool() && !rv.as_bool()) || (rv.is_int64() && rv.as_int64() == 0) ||
                       (rv.is_uint64() && rv.as_uint64() == 0));
      if (present) {
        std::optional<std::vector<SegmentRange>> ranges;
        if (rv.is_string()) ranges = parse_segment_ranges(std::string_view(rv.as_string()));
        if (!ranges) {
          errors.push_back(index_error(i, "invalid range"));
          continue;
        }
        if (ranges->size() > 1) {
          errors.push_back(index_error(i, "multiple ranges (only one allowed)"));
          continue;
        }
        if (spec.size_bytes &&
            (*spec.size_bytes < 0 ||
             !resolve_segment_range((*ranges)[0], static_cast<uint64_t>(*spec.size_bytes)))) {
          errors.push_back(index_error(i, "unsatisfiable range"));
          continue;
        }
        spec.range = (*ranges)[0];
      }
    }
    out.push_back(std::move(spec));
  }
  if (all_data) {
    errors.emplace_back("Inline data segments require at least one object-backed segment.");
  }
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += e + "\n";
    return make_plain_error(ErrorCode::kInvalidArgument, std::move(msg));
  }
  return out;
}

uint64_t StoredSegment::length() const {
  if (is_data) return data.size();
  if (range) return range->second - range->first + 1;
  return bytes;
}

std::optional<StoredSegment> check_segment(const SegmentSpec& spec, const SegmentHead& head,
                                           bool last, uint64_t min_segment_size,
                                           std::vector<SegmentProblem>* problems) {
  std::string quoted = py_quote(spec.path);
  if (!head.status.empty()) {
    problems->push_back({quoted, head.status});
    return std::nullopt;
  }
  StoredSegment s;
  uint64_t length = head.size;
  if (spec.range) {
    auto r = resolve_segment_range(*spec.range, head.size);
    if (!r) {
      problems->push_back({quoted, "Unsatisfiable Range"});
    } else if (r->first == 0 && r->second == head.size) {
      // The range is the whole object: Swift drops it.
      length = head.size;
    } else {
      s.range = std::make_pair(r->first, r->second - 1);
      length = r->second - r->first;
    }
  }
  if (length < min_segment_size && !last) {
    problems->push_back({quoted, min_segment_size <= 1
                                     ? "Too small; each segment must be at least 1 byte."
                                     : "Too small; each segment must be at least " +
                                           std::to_string(min_segment_size) + " bytes."});
  }
  if (spec.size_bytes &&
      (*spec.size_bytes < 0 || static_cast<uint64_t>(*spec.size_bytes) != head.size)) {
    problems->push_back({quoted, "Size Mismatch"});
  }
  if (spec.etag && *spec.etag != head.etag) problems->push_back({quoted, "Etag Mismatch"});
  std::string_view name(spec.path);
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  s.name = "/" + std::string(name);
  s.bytes = head.size;
  s.hash = head.etag;
  s.content_type = head.content_type;
  s.last_modified = iso_timestamp(last_modified_seconds(head.timestamp_us) * 1000000);
  s.sub_slo = head.slo;
  return s;
}

std::string serialize_manifest(const std::vector<StoredSegment>& segs) {
  // Swift stores json.dumps(data_for_storage): keys in insertion order,
  // ", " and ": " separators.
  std::string out = "[";
  for (size_t i = 0; i < segs.size(); ++i) {
    const StoredSegment& s = segs[i];
    if (i) out += ", ";
    if (s.is_data) {
      out += "{\"data\": " + py_json_string(base64_encode(s.data)) + "}";
      continue;
    }
    out += "{\"name\": " + py_json_string(s.name) + ", \"bytes\": " + std::to_string(s.bytes) +
           ", \"hash\": " + py_json_string(s.hash) +
           ", \"content_type\": " + py_json_string(s.content_type) +
           ", \"last_modified\": " + py_json_string(s.last_modified);
    if (s.range) out += ", \"range\": " + py_json_string(format_range(*s.range));
    if (s.sub_slo) out += ", \"sub_slo\": true";
    out += "}";
  }
  out += "]";
  return out;
}

Result<std::vector<StoredSegment>> parse_stored_manifest(std::string_view text) {
  auto bad = [] { return make_error(ErrorCode::kInternal, "Unable to load SLO manifest"); };
  auto parsed = parse_json(text, 8);
  if (!parsed.ok() || !parsed->is_array()) return bad();
  std::vector<StoredSegment> out;
  out.reserve(parsed->as_array().size());
  for (const auto& v : parsed->as_array()) {
    if (!v.is_object()) return bad();
    const json::object& o = v.as_object();
    StoredSegment s;
    if (auto* d = o.if_contains("data")) {
      if (!d->is_string()) return bad();
      auto raw = base64_decode(std::string_view(d->as_string()));
      if (!raw) return bad();
      s.is_data = true;
      s.data = std::move(*raw);
      out.push_back(std::move(s));
      continue;
    }
    const json::value* name = o.if_contains("name");
    const json::value* bytes = o.if_contains("bytes");
    const json::value* hash = o.if_contains("hash");
    if (!name || !name->is_string() || !bytes || !hash || !hash->is_string()) return bad();
    auto n = python_int(*bytes);
    if (!n || *n < 0) return bad();
    s.name = std::string(name->as_string());
    s.bytes = static_cast<uint64_t>(*n);
    s.hash = std::string(hash->as_string());
    if (auto* ct = o.if_contains("content_type"); ct && ct->is_string()) {
      s.content_type = std::string(ct->as_string());
    }
    if (auto* lm = o.if_contains("last_modified"); lm && lm->is_string()) {
      s.last_modified = std::string(lm->as_string());
    }
    if (auto* r = o.if_contains("range"); r && r->is_string()) {
      // Written by us as "first-last" within the segment.
      std::string_view rs(r->as_string());
      size_t dash = rs.find('-');
      uint64_t a = 0, b = 0;
      if (dash == std::string_view::npos || !parse_u64(rs.substr(0, dash), &a) ||
          !parse_u64(rs.substr(dash + 1), &b) || b < a || b >= s.bytes) {
        return bad();
      }
      s.range = std::make_pair(a, b);
    }
    if (auto* sub = o.if_contains("sub_slo")) {
      s.sub_slo = (sub->is_bool() && sub->as_bool()) ||
                  (sub->is_string() && (sub->as_string() == "True" || sub->as_string() == "true"));
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string raw_manifest(const std::vector<StoredSegment>& segs) {
  // convert_segment_listing: json.dumps(segments, sort_keys=True).
  std::string out = "[";
  for (size_t i = 0; i < segs.size(); ++i) {
    const StoredSegment& s = segs[i];
    if (i) out += ", ";
    if (s.is_data) {
      out += "{\"data\": " + py_json_string(base64_encode(s.data)) + "}";
      continue;
    }
    out += "{\"etag\": " + py_json_string(s.hash) + ", \"path\": " + py_json_string(s.name);
    if (s.range) out += ", \"range\": " + py_json_string(format_range(*s.range));
    out += ", \"size_bytes\": " + std::to_string(s.bytes) + "}";
  }
  out += "]";
  return out;
}

std::string slo_etag(const std::vector<StoredSegment>& segs) {
  std::string concat;
  for (const auto& s : segs) {
    if (s.is_data) {
      concat += md5_hex(s.data);
    } else if (s.range) {
      concat += s.hash + ":" + format_range(*s.range) + ";";
    } else {
      concat += s.hash;
    }
  }
  return md5_hex(concat);
}

uint64_t slo_size(const std::vector<StoredSegment>& segs) {
  uint64_t total = 0;
  for (const auto& s : segs) total += s.length();
  return total;
}

std::vector<SegmentSlice> slice_segments(const std::vector<StoredSegment>& segs, uint64_t begin,
                                         uint64_t end) {
  std::vector<SegmentSlice> out;
  uint64_t pos = 0;
  for (size_t i = 0; i < segs.size() && pos < end; ++i) {
    uint64_t len = segs[i].length();
    uint64_t seg_begin = pos, seg_end = pos + len;
    pos = seg_end;
    if (seg_end <= begin || len == 0) continue;
    uint64_t from = std::max(begin, seg_begin) - seg_begin;
    uint64_t to = std::min(end, seg_end) - seg_begin;
    uint64_t base = segs[i].range ? segs[i].range->first : 0;
    out.push_back({i, base + from, to - from});
  }
  return out;
}

bool split_segment_name(std::string_view name, std::string* container, std::string* object) {
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  size_t slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size()) {
    // Swift's check is '/' in path.strip('/'): "c/" and "/c/" are not objects.
    return false;
  }
  *container = std::string(name.substr(0, slash));
  *object = std::string(name.substr(slash + 1));
  return true;
}

std::string py_json_string(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            append_u_escape(out, c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      continue;
    }
    uint32_t cp = next_code_point(s, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      append_u_escape(out, 0xd800 + (cp >> 10));
      append_u_escape(out, 0xdc00 + (cp & 0x3ff));
    } else {
      append_u_escape(out, cp);
    }
  }
  out += "\"";
  return out;
}

std::string base64_encode(std::string_view data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < data.size()) {
    uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // strict_b64decode: after stripping '=' from both ends only the alphabet
  // may remain; b64decode then insists on complete padding.
  size_t pads = 0;
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++pads;
  }
  if (!text.empty() && text.front() == '=') return std::nullopt;
  if (text.size() % 4 == 1) return std::nullopt;
  size_t need = (4 - text.size() % 4) % 4;
  if (pads < need) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace onestack::object::api
