// Range header parsing (swob.Range rules) and the SLO segment-range syntax.
// The first 8 bytes are the object's size; the rest is the header value.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "object/api/range.h"
#include "object/api/slo_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onestack::object::api;
  uint64_t object_size = 0;
  if (size >= 8) {
    std::memcpy(&object_size, data, 8);
    data += 8;
    size -= 8;
  }
  // Small objects find the edge cases; keep some huge ones too.
  if (object_size & 1)
    object_size >>= 1;
  else
    object_size %= 4096;
  std::string_view header(reinterpret_cast<const char*>(data), size);
  RangeResult r = parse_range(header, object_size, 50);
  if (r.decision == RangeDecision::kPartial) {
    if (r.ranges.empty() || r.ranges.size() > 50) std::abort();
    for (const ByteRange& b : r.ranges) {
      if (b.begin > b.end || b.end > object_size) std::abort();
    }
  }
  if (auto specs = parse_segment_ranges(header)) {
    for (const SegmentRange& s : *specs) {
      if (auto span = resolve_segment_range(s, object_size)) {
        if (span->first > span->second || span->second > object_size) std::abort();
      }
    }
  }
  return 0;
}
