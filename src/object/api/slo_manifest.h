// Static large object manifests without any I/O: the body of
// PUT ?multipart-manifest=put parsed and checked as Swift's slo middleware
// checks it (swift/common/middleware/slo.py, parse_and_validate_input and
// validate_seg_dict), the manifest JSON Swift stores, the SLO's ETag, and the
// mapping of a byte range of the concatenation onto the segments.
//
// Everything here is pure and thread-safe; large_object.cc and slo_write.cc
// do the lookups and the reading.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace onestack::object::api {

// The metadata an SLO manifest row carries besides x-static-large-object.
// The row itself lists the SLO's size and ETag (as Swift's container
// listing shows them); Swift keeps the same two in this system metadata.
// The manifest blob's own size and MD5 (what ?multipart-manifest=get
// returns, and what the auditor checks the blob against) are ours.
inline constexpr const char* kSloEtagMeta = "x-object-sysmeta-slo-etag";
inline constexpr const char* kSloSizeMeta = "x-object-sysmeta-slo-size";
inline constexpr const char* kSloManifestEtagMeta = "x-object-sysmeta-slo-manifest-etag";
inline constexpr const char* kSloManifestSizeMeta = "x-object-sysmeta-slo-manifest-size";

// A segment's "range" as a manifest gives it: "M-N", "M-" or "-N", both ends
// inclusive (swob.Range syntax after "bytes=").
struct SegmentRange {
  std::optional<uint64_t> first;
  std::optional<uint64_t> last;
};

// Parses `spec` as swob.Range("bytes=" + spec) does. nullopt when malformed;
// a spec naming several ranges parses into more than one element.
std::optional<std::vector<SegmentRange>> parse_segment_ranges(std::string_view spec);

// The part of an object of `size` bytes that `r` selects, as [begin, end),
// following swob's ranges_for_length (a suffix longer than the object is the
// whole object). nullopt when unsatisfiable.
std::optional<std::pair<uint64_t, uint64_t>> resolve_segment_range(const SegmentRange& r,
                                                                   uint64_t size);

// One item of a manifest PUT body.
struct SegmentSpec {
  bool is_data = false;
  std::string data;       // decoded bytes of an inline data segment
  std::string path;       // as the client wrote it ("/cont/obj" or "cont/obj")
  std::string container;  // split from `path`
  std::string object;
  std::optional<std::string> etag;    // null or absent: not checked
  std::optional<int64_t> size_bytes;  // null or absent: not checked
  std::optional<SegmentRange> range;
};

// Parses and checks a manifest PUT body. `container`/`object` name the
// manifest itself, which may not be one of its own segments. On failure,
// kInvalidArgument whose message is Swift's 400 body: "Manifest must be valid
// JSON.\n", "Manifest must be a list.\n", or one "Index N: ...\n" line per
// bad segment.
Result<std::vector<SegmentSpec>> parse_manifest_put(std::string_view body,
                                                    std::string_view container,
                                                    std::string_view object);

// One entry of a stored manifest (what ?multipart-manifest=get returns).
struct StoredSegment {
  bool is_data = false;
  std::string data;    // raw bytes of an inline data segment
  std::string name;    // "/container/object"
  uint64_t bytes = 0;  // size of the whole segment object
  std::string hash;    // the segment object's etag (an SLO's own etag for a sub-SLO)
  std::string content_type;
  std::string last_modified;                           // "2024-01-02T03:04:05.000000"
  std::optional<std::pair<uint64_t, uint64_t>> range;  // first, last (inclusive)
  bool sub_slo = false;                                // the segment is itself an SLO manifest

  // How many bytes this entry contributes to the large object.
  uint64_t length() const;
};

// What a HEAD of a segment found, for check_segment().
struct SegmentHead {
  std::string status;  // "" when found, else Swift's status line ("404 Not Found")
  uint64_t size = 0;
  std::string etag;
  std::string content_type;
  int64_t timestamp_us = 0;
  bool slo = false;
};

// A segment Swift refuses: its (quoted) name and why.
struct SegmentProblem {
  std::string name;
  std::string reason;
};

// Checks `spec` against what its HEAD found, as validate_seg_dict does:
// missing, unsatisfiable range, smaller than `min_segment_size` (unless
// `last`), size or etag mismatch are appended to `problems`. Returns the
// entry to store (also when problems were found, unless the segment is
// missing).
std::optional<StoredSegment> check_segment(const SegmentSpec& spec, const SegmentHead& head,
                                           bool last, uint64_t min_segment_size,
                                           std::vector<SegmentProblem>* problems);

// The stored manifest, formatted as Swift's json.dumps writes it.
std::string serialize_manifest(const std::vector<StoredSegment>& segs);
// Parses a stored manifest. kInternal when it is not one.
Result<std::vector<StoredSegment>> parse_stored_manifest(std::string_view json);
// ?multipart-manifest=get&format=raw: the manifest in PUT form
// ({"etag", "path", "range", "size_bytes"} or {"data"}), keys sorted.
std::string raw_manifest(const std::vector<StoredSegment>& segs);

// The SLO's ETag (unquoted): MD5 of the segments' etags, "etag:first-last;"
// for a ranged segment and the MD5 of the bytes for a data segment.
std::string slo_etag(const std::vector<StoredSegment>& segs);
// The SLO's size: the sum of the entries' lengths.
uint64_t slo_size(const std::vector<StoredSegment>& segs);

// A piece of one entry that a byte range of the concatenation covers:
// `length` bytes at `offset` of the entry's source (an entry's own range
// start is already added; for a data entry, an offset into its bytes).
struct SegmentSlice {
  size_t index;
  uint64_t offset;
  uint64_t length;
};
// Maps [begin, end) of the concatenation of `segs` onto them, in order;
// entries the range does not touch are left out.
std::vector<SegmentSlice> slice_segments(const std::vector<StoredSegment>& segs, uint64_t begin,
                                         uint64_t end);

// Splits "/container/object" (leading slashes ignored); false if there is
// no object part.
bool split_segment_name(std::string_view name, std::string* container, std::string* object);

// A JSON string literal as Python's json.dumps writes it (non-ASCII as \uXXXX).
std::string py_json_string(std::string_view s);
// Standard base64 without line breaks.
std::string base64_encode(std::string_view data);
// Swift's strict_b64decode: only the base64 alphabet, padding optional;
// nullopt when invalid.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace onestack::object::api
