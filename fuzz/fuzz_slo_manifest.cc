// SLO manifests: the PUT body as a client sends it (parse_manifest_put) and
// the JSON onestack stores (parse_stored_manifest), with what is computed
// from a parsed manifest: its serialisation, ETag, size and slices.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "object/api/slo_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onestack::object::api;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto put = parse_manifest_put(body, "cont", "manifest");
  if (put.ok()) {
    std::vector<StoredSegment> segs;
    for (size_t i = 0; i < put->size(); ++i) {
      const SegmentSpec& spec = (*put)[i];
      SegmentHead head;
      head.size =
          spec.size_bytes && *spec.size_bytes >= 0 ? static_cast<uint64_t>(*spec.size_bytes) : 10;
      head.etag = spec.etag ? *spec.etag : "d41d8cd98f00b204e9800998ecf8427e";
      head.content_type = "application/octet-stream";
      head.timestamp_us = 1700000000000000;
      std::vector<SegmentProblem> problems;
      if (auto seg = check_segment(spec, head, i + 1 == put->size(), 1, &problems)) {
        segs.push_back(std::move(*seg));
      }
    }
    std::string stored = serialize_manifest(segs);
    auto again = parse_stored_manifest(stored);
    if (!again.ok() || again->size() != segs.size()) std::abort();
    (void)raw_manifest(segs);
    (void)slo_etag(segs);
    uint64_t total = slo_size(segs);
    (void)slice_segments(segs, 0, total);
    if (total > 2) (void)slice_segments(segs, 1, total - 1);
  }
  auto stored = parse_stored_manifest(body);
  if (stored.ok()) {
    uint64_t total = slo_size(*stored);
    (void)slo_etag(*stored);
    (void)serialize_manifest(*stored);
    (void)slice_segments(*stored, 0, total);
    if (total > 2) (void)slice_segments(*stored, total / 2, total);
  }
  std::string container, object;
  (void)split_segment_name(body, &container, &object);
  return 0;
}
