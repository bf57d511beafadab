// The validate phase of object writes (object_request.h).
#include "object/api/object_request.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "object/api/object_helpers.h"

namespace onestack::object::api {

namespace {

// Headers an object keeps besides X-Object-Meta-* (the object server's
// allowed_headers); a POST replaces the same set.
const std::initializer_list<std::string_view> kObjectExtras = {
    "content-disposition", "content-encoding", "x-object-manifest", "x-delete-at",
    "cache-control",       "content-language", "expires",           "x-robots-tag",
};
const std::initializer_list<std::string_view> kPostExtras = {
    "content-disposition", "content-encoding", "x-delete-at",  "cache-control",
    "content-language",    "expires",          "x-robots-tag",
};

// Swift's normalize_delete_at_timestamp: clamped to [0, 9999999999].
constexpr int64_t kMaxDeleteAt = 9999999999;

std::string_view strip_space(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

// Digits with single underscores between them (Python's numeric literals);
// the digits alone go to `out`.
bool py_digits(std::string_view v, std::string* out) {
  if (v.empty() || v.front() == '_' || v.back() == '_') return false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '_') {
      if (v[i - 1] == '_') return false;
      continue;
    }
    if (c < '0' || c > '9') return false;
    out->push_back(c);
  }
  return true;
}

// constraints.check_delete_headers: X-Delete-After becomes an X-Delete-At
// (After wins when both come); each must be an integer in the future.
Status read_delete_headers(const Request& req, double now, ObjectWrite* w) {
  std::optional<int64_t> at;
  if (req.has_header("X-Delete-After")) {
    auto after = py_int(req.header("X-Delete-After"));
    if (!after) return make_plain_error(ErrorCode::kInvalidArgument, "Non-integer X-Delete-After");
    double when = std::min(std::max(0.0, now + static_cast<double>(*after)),
                           static_cast<double>(kMaxDeleteAt));
    at = static_cast<int64_t>(when);
    if (static_cast<double>(*at) <= now) {
      return make_plain_error(ErrorCode::kInvalidArgument, "X-Delete-After in past");
    }
  } else if (req.has_header("X-Delete-At")) {
    auto v = py_int(req.header("X-Delete-At"));
    if (!v) return make_plain_error(ErrorCode::kInvalidArgument, "Non-integer X-Delete-At");
    at = std::min(std::max<int64_t>(0, *v), kMaxDeleteAt);
  }
  if (at && static_cast<double>(*at) <= now) {
    return make_plain_error(ErrorCode::kInvalidArgument, "X-Delete-At in past");
  }
  w->delete_at = at;
  w->remove_delete_at = req.has_header("X-Remove-Delete-At");
  return {};
}

// The proxy guesses a type for a PUT that names none, or asks to detect;
// the type must be UTF-8 (check_object_creation).
Status read_content_type(const Request& req, const Target& t, ObjectWrite* w) {
  std::string_view ct = req.header("Content-Type");
  w->content_type = ct.empty() || truthy(req.header("X-Detect-Content-Type"))
                        ? guess_content_type(t.object)
                        : std::string(ct);
  if (!valid_utf8(*w->content_type)) {
    return make_plain_error(ErrorCode::kInvalidArgument, "Invalid Content-Type");
  }
  return {};
}

Status read_metadata(const Limits& limits, const Request& req,
                     std::initializer_list<std::string_view> extras, ObjectWrite* w) {
  auto updates = metadata_updates(limits, req, "x-object-meta-", extras, &w->removed);
  if (!updates.ok()) return updates.error();
  w->meta = std::move(updates).value();
  return {};
}

}  // namespace

std::optional<int64_t> py_int(std::string_view v) {
  v = strip_space(v);
  bool negative = false;
  if (!v.empty() && (v.front() == '+' || v.front() == '-')) {
    negative = v.front() == '-';
    v.remove_prefix(1);
  }
  std::string digits;
  if (!py_digits(v, &digits) || digits.size() > 18) return std::nullopt;
  int64_t n = std::strtoll(digits.c_str(), nullptr, 10);
  return negative ? -n : n;
}

std::optional<double> py_float(std::string_view v) {
  v = strip_space(v);
  std::string text;
  size_t i = 0;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) text.push_back(v[i++]);
  std::string rest(v.substr(i));
  std::string lower = rest;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "inf" || lower == "infinity") return text == "-" ? -INFINITY : INFINITY;
  if (lower == "nan") return NAN;
  // Mantissa [digits][.digits], then an optional exponent; "_" only
  // between digits.
  size_t e = lower.find('e');
  std::string_view mant = std::string_view(rest).substr(0, e);
  size_t dot = mant.find('.');
  std::string whole, frac;
  std::string_view w = mant.substr(0, dot);
  std::string_view f = dot == std::string_view::npos ? std::string_view{} : mant.substr(dot + 1);
  if (!w.empty() && !py_digits(w, &whole)) return std::nullopt;
  if (!f.empty() && !py_digits(f, &frac)) return std::nullopt;
  if (whole.empty() && frac.empty()) return std::nullopt;
  text += whole.empty() ? "0" : whole;
  if (!frac.empty()) text += "." + frac;
  if (e != std::string::npos) {
    std::string_view ex = std::string_view(rest).substr(e + 1);
    std::string sign;
    if (!ex.empty() && (ex.front() == '+' || ex.front() == '-')) {
      sign = ex.front();
      ex.remove_prefix(1);
    }
    std::string digits;
    if (!py_digits(ex, &digits)) return std::nullopt;
    text += "e" + sign + digits;
  }
  return std::strtod(text.c_str(), nullptr);
}

Status check_put_preconditions(const Request& req) {
  if (req.has_header("If-None-Match") && strip_space(req.header("If-None-Match")) != "*") {
    return make_plain_error(ErrorCode::kInvalidArgument, "If-None-Match only supports *");
  }
  return {};
}

Result<ObjectWrite> parse_object_put(const Limits& limits, const Request& req, const Target& t,
                                     const Clock& clock) {
  ObjectWrite w;
  // swob's Request.message_length: one transfer coding, and it is chunked.
  const bool has_te = req.has_header("Transfer-Encoding");
  if (has_te) {
    std::string_view te = req.header("Transfer-Encoding");
    if (te.find(',') != std::string_view::npos) {
      return make_plain_error(ErrorCode::kNotImplemented,
                              "Unsupported Transfer-Coding header value specified in "
                              "Transfer-Encoding header");
    }
    std::string coding(te);
    for (auto& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (coding != "chunked") {
      return make_plain_error(ErrorCode::kInvalidArgument,
                              "Invalid Transfer-Encoding header value");
    }
  } else if (req.body_reader) {
    w.content_length = req.body_reader->content_length();
  }
  if (w.content_length && *w.content_length > limits.max_file_size) {
    return make_plain_error(ErrorCode::kTooLarge, "Your request is too large.");
  }
  // Only the exact "chunked" stands in for a length (check_object_creation).
  if (!w.content_length && req.header("Transfer-Encoding") != "chunked") {
    return make_plain_error(ErrorCode::kLengthRequired, "Missing Content-Length header.");
  }
  if (auto st = check_name_length(limits, t, NameLevel::kObject); !st.ok()) return st.error();
  if (auto st = read_delete_headers(req, clock.now_seconds(), &w); !st.ok()) return st.error();
  if (auto st = read_content_type(req, t, &w); !st.ok()) return st.error();
  if (auto st = read_metadata(limits, req, kObjectExtras, &w); !st.ok()) return st.error();
  // check_content_type: swift_* parameters are the cluster's own.
  std::string_view params = *w.content_type;
  for (size_t semi = params.find(';'); semi != std::string_view::npos; semi = params.find(';')) {
    params.remove_prefix(semi + 1);
    if (strip_space(params).rfind("swift_", 0) == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "Invalid Content-Type, swift_* is not a valid parameter name.");
    }
  }
  if (req.has_header("ETag")) w.etag = strip_quotes(req.header("ETag"));
  w.if_none_match = req.has_header("If-None-Match");
  return w;
}

Result<ObjectWrite> parse_manifest_put(const Limits& limits, const Request& req, const Target& t,
                                       const Clock& clock) {
  ObjectWrite w;
  if (auto st = check_name_length(limits, t, NameLevel::kObject); !st.ok()) return st.error();
  if (auto st = read_delete_headers(req, clock.now_seconds(), &w); !st.ok()) return st.error();
  if (auto st = read_content_type(req, t, &w); !st.ok()) return st.error();
  if (auto st = read_metadata(limits, req, kPostExtras, &w); !st.ok()) return st.error();
  if (req.has_header("ETag")) w.etag = strip_quotes(req.header("ETag"));
  w.if_none_match = req.has_header("If-None-Match");
  return w;
}

Result<ObjectWrite> parse_object_post(const Limits& limits, const Request& req,
                                      const Clock& clock) {
  ObjectWrite w;
  if (auto st = read_metadata(limits, req, kPostExtras, &w); !st.ok()) return st.error();
  if (auto st = read_delete_headers(req, clock.now_seconds(), &w); !st.ok()) return st.error();
  if (req.has_header("Content-Type")) w.content_type = std::string(req.header("Content-Type"));
  return w;
}

Result<ObjectWrite> parse_object_copy(const Limits& limits, const Request& req, const Target& dst,
                                      const Clock& clock) {
  ObjectWrite w;
  if (auto st = check_name_length(limits, dst, NameLevel::kObject); !st.ok()) return st.error();
  if (auto st = read_metadata(limits, req, kObjectExtras, &w); !st.ok()) return st.error();
  if (auto st = read_delete_headers(req, clock.now_seconds(), &w); !st.ok()) return st.error();
  if (req.has_header("Content-Type")) w.content_type = std::string(req.header("Content-Type"));
  w.fresh_metadata = truthy(req.header("X-Fresh-Metadata"));
  return w;
}

Result<std::optional<double>> parse_if_delete_at(const Request& req) {
  if (!req.has_header("X-If-Delete-At")) return std::optional<double>{};
  auto v = py_float(req.header("X-If-Delete-At"));
  if (!v || !std::isfinite(*v) || *v < 0) {
    return make_error(ErrorCode::kInvalidArgument, "Bad X-If-Delete-At header value");
  }
  // A Swift Timestamp keeps five decimals.
  return std::optional<double>(std::round(*v * 1e5) / 1e5);
}

}  // namespace onestack::object::api
