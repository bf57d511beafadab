// Range and conditional requests as Swift's swob answers them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/http/request.h"

namespace onestack::object::api {

// A satisfiable range: [first, last) byte offsets.
struct ByteRange {
  uint64_t begin;
  uint64_t end;
};

enum class RangeDecision {
  kWhole,          // no usable Range header: 200 with the whole object
  kUnsatisfiable,  // 416 with Content-Range: bytes */size
  kPartial,        // 206 with `ranges`
};

struct RangeResult {
  RangeDecision decision = RangeDecision::kWhole;
  std::vector<ByteRange> ranges;
};

// swob.Range: a malformed header is ignored (whole object); no satisfiable
// spec, more than `max_ranges` satisfiable ones, more than 2 overlapping
// pairs, or 8 or more ranges out of order answer 416. A suffix range
// ("bytes=-5") of a zero-length object is the whole (empty) object, as swob
// answers it.
RangeResult parse_range(std::string_view header, uint64_t size, size_t max_ranges);

// The outcome of If-Match / If-None-Match / If-Modified-Since /
// If-Unmodified-Since against an object with `etag` modified at
// `last_modified` (seconds). 200 means "go on".
enum class Condition { kProceed, kNotModified, kPreconditionFailed };
Condition check_conditions(const http::Request& req, std::string_view etag, int64_t last_modified,
                           bool is_get_or_head);
// Whether If-Match lists "*": a GET or HEAD of a missing object then
// answers 412, not 404 (swob, after RFC 2616 section 14.24).
bool if_match_any(const http::Request& req);

}  // namespace onestack::object::api
