// An object write, read from its request once: the validate phase of PUT,
// POST and the copies. Swift spreads these rules over its proxy
// (constraints.check_object_creation, check_delete_headers,
// check_content_type, check_metadata); here each lives in one function, and
// the handlers and features read the typed values, never the raw headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "object/api/common.h"

namespace onestack::object::api {

// Python's int() and float() of a header value, as Swift parses numbers:
// surrounding whitespace, a sign, and single "_" between digits are
// accepted; anything else is nullopt. py_float also takes "inf"/"nan" as
// Python does, so callers must range-check.
std::optional<int64_t> py_int(std::string_view v);
std::optional<double> py_float(std::string_view v);

// What an object PUT, POST or copy asks for besides the body.
struct ObjectWrite {
  // X-Object-Meta-* and the other headers an object keeps (Swift's
  // allowed_headers), lower-cased; X-Remove-Object-Meta-* names in `removed`.
  store::Metadata meta;
  std::vector<std::string> removed;
  // X-Delete-At or X-Delete-After as unix seconds, capped at 9999999999 as
  // Swift's normalize_delete_at_timestamp caps it; nullopt when neither.
  std::optional<int64_t> delete_at;
  bool remove_delete_at = false;            // X-Remove-Delete-At (POST)
  std::optional<std::string> content_type;  // as sent (PUT: or guessed)
  std::optional<std::string> etag;          // ETag without quotes, case kept
  bool if_none_match = false;               // If-None-Match: *
  std::optional<uint64_t> content_length;   // nullopt: chunked
  bool fresh_metadata = false;              // X-Fresh-Metadata (copies)
};

// Before authorization: If-None-Match other than "*" is 400 (text/plain),
// the first thing Swift's object PUT checks.
Status check_put_preconditions(const Request& req);

// The validate phase of a PUT (after authorization), in the order of
// Swift's proxy: transfer coding and length (400, 501, 413, 411), name
// length, X-Delete-At/After, Content-Type, metadata, swift_* parameters.
// Errors carry Swift's statuses and media types. X-Delete-After counts from
// `clock`'s now (the service's clock()); so does X-Delete-At's "in past"
// check, in every parse_* below.
Result<ObjectWrite> parse_object_put(const Limits& limits, const Request& req, const Target& t,
                                     const Clock& clock = SystemClock::instance());

// The validate phase of an SLO manifest PUT once the slo middleware has
// checked the manifest: what the proxy checks of the PUT it then sends
// (name length, X-Delete-At/After, Content-Type, metadata).
Result<ObjectWrite> parse_manifest_put(const Limits& limits, const Request& req, const Target& t,
                                       const Clock& clock = SystemClock::instance());

// The validate phase of a POST: metadata, then X-Delete-At/After.
Result<ObjectWrite> parse_object_post(const Limits& limits, const Request& req,
                                      const Clock& clock = SystemClock::instance());

// The headers of a COPY, or of a PUT with X-Copy-From, that shape the new
// object: metadata, X-Delete-At/After, Content-Type, X-Fresh-Metadata.
Result<ObjectWrite> parse_object_copy(const Limits& limits, const Request& req, const Target& dst,
                                      const Clock& clock = SystemClock::instance());

// X-If-Delete-At of a DELETE (the expirer's guard): nullopt when absent,
// its value as a Swift Timestamp (seconds, 5 decimals), or 400 "Bad
// X-If-Delete-At header value".
Result<std::optional<double>> parse_if_delete_at(const Request& req);

}  // namespace onestack::object::api
