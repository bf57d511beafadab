#include "object/api/slo_manifest.h"
#include "object/api/middleware.h"

#include <gtest/gtest.h>

#include "object/service/blob_io.h"

namespace onestack::object::api {
namespace {

std::string put_error(std::string_view body, std::string_view container = "c",
                      std::string_view object = "manifest") {
  auto r = parse_manifest_put(body, container, object);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "" : r.error().message;
}

TEST(SloManifestPut, AcceptsPathEtagSizeAndRange) {
  auto r = parse_manifest_put(
      R"([{"path": "/segs/a", "etag": "e1", "size_bytes": 10, "range": "2-5"},
          {"path": "segs/b/c", "etag": null, "size_bytes": "7"}])",
      "c", "m");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const SegmentSpec& a = (*r)[0];
  EXPECT_EQ(a.container, "segs");
  EXPECT_EQ(a.object, "a");
  EXPECT_EQ(a.etag, "e1");
  EXPECT_EQ(a.size_bytes, 10);
  ASSERT_TRUE(a.range);
  EXPECT_EQ(a.range->first, 2u);
  EXPECT_EQ(a.range->last, 5u);
  const SegmentSpec& b = (*r)[1];
  EXPECT_EQ(b.container, "segs");
  EXPECT_EQ(b.object, "b/c");
  EXPECT_FALSE(b.etag);
  EXPECT_EQ(b.size_bytes, 7);
  EXPECT_FALSE(b.range);
}

TEST(SloManifestPut, DecodesDataSegments) {
  auto r =
      parse_manifest_put(R"([{"data": "aGVsbG8="}, {"path": "/c/o"}, {"data": "YQ"}])", "c", "m");
  // "YQ" lacks its padding: Swift's strict_b64decode refuses it.
  EXPECT_FALSE(r.ok());
  r = parse_manifest_put(R"([{"data": "aGVsbG8="}, {"path": "/c/o"}])", "c", "m");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)[0].is_data);
  EXPECT_EQ((*r)[0].data, "hello");
}

TEST(SloManifestPut, ReportsSwiftsMessages) {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {"not json", "Manifest must be valid JSON.\n"},
      {R"({"path": "/c/o"})", "Manifest must be a list.\n"},
      {R"([1])", "Index 0: not a JSON object\n"},
      {R"([{"etag": "x"}])", "Index 0: expected keys to include one of 'data' or 'path'\n"},
      {R"([{"path": "/c/o", "name": "x", "hash": "y"}])",
       "Index 0: extraneous keys \"hash\", \"name\"\n"},
      // Swift adds the "at least one object" line whatever else went wrong.
      {R"([{"data": "aGk=", "etag": "x"}, {"path": "/c/o"}])",
       "Index 0: extraneous keys \"etag\"\n"},
      {R"([{"data": "!!"}])",
       "Index 0: data must be valid base64\n"
       "Inline data segments require at least one object-backed segment.\n"},
      {R"([{"path": 5}])", "Index 0: \"path\" must be a string\n"},
      {R"([{"path": "/c/o", "etag": 5}])",
       "Index 0: \"etag\" must be a string or null (if provided)\n"},
      {R"([{"path": "/c/"}])",
       "Index 0: path does not refer to an object. Path must be of the form /container/object.\n"},
      {R"([{"path": "/c/o", "size_bytes": "ten"}])", "Index 0: invalid size_bytes\n"},
      {R"([{"path": "/c/o", "size_bytes": 0}, {"path": "/c/p"}])",
       "Index 0: too small; each segment must be at least 1 byte.\n"},
      {R"([{"path": "/c/manifest"}])", "Index 0: manifest must not include itself as a segment\n"},
      {R"([{"path": "c/manifest"}])", "Index 0: manifest must not include itself as a segment\n"},
      {R"([{"path": "/c/o", "range": "x-y"}])", "Index 0: invalid range\n"},
      {R"([{"path": "/c/o", "range": "5-2"}])", "Index 0: invalid range\n"},
      {R"([{"path": "/c/o", "range": "1-2,4-5"}])",
       "Index 0: multiple ranges (only one allowed)\n"},
      {R"([{"path": "/c/o", "size_bytes": 3, "range": "5-"}])", "Index 0: unsatisfiable range\n"},
      {R"([{"data": "!!"}, {"path": "/c/o"}])", "Index 0: data must be valid base64\n"},
      {R"([{"data": ""}, {"path": "/c/o"}])",
       "Index 0: too small; each segment must be at least 1 byte.\n"},
      {R"([{"data": "aGk="}])",
       "Inline data segments require at least one object-backed segment.\n"},
      {R"([1, {"path": "/c/"}])",
       "Index 0: not a JSON object\nIndex 1: path does not refer to an object. Path must be of "
       "the form /container/object.\n"},
  };
  for (const auto& c : cases) EXPECT_EQ(put_error(c.body), c.message) << c.body;
}

TEST(SloManifestPut, LetsTheLastSegmentBeEmpty) {
  auto r = parse_manifest_put(
      R"([{"path": "/c/o", "size_bytes": 1}, {"path": "/c/p", "size_bytes": 0}])", "c", "m");
  EXPECT_TRUE(r.ok());
}

TEST(SegmentRange, ResolvesAsSwobDoes) {
  auto one = [](std::string_view spec, uint64_t size) {
    auto r = parse_segment_ranges(spec);
    EXPECT_TRUE(r && r->size() == 1) << spec;
    return resolve_segment_range((*r)[0], size);
  };
  EXPECT_EQ(one("2-5", 10), std::make_pair(uint64_t{2}, uint64_t{6}));
  EXPECT_EQ(one("2-", 10), std::make_pair(uint64_t{2}, uint64_t{10}));
  EXPECT_EQ(one("-3", 10), std::make_pair(uint64_t{7}, uint64_t{10}));
  EXPECT_EQ(one("-30", 10), std::make_pair(uint64_t{0}, uint64_t{10}));
  EXPECT_EQ(one("5-100", 10), std::make_pair(uint64_t{5}, uint64_t{10}));
  EXPECT_FALSE(one("10-", 10));
  EXPECT_FALSE(one("-0", 10));
  EXPECT_FALSE(parse_segment_ranges(""));
  EXPECT_FALSE(parse_segment_ranges("-"));
  EXPECT_FALSE(parse_segment_ranges("3"));
  EXPECT_EQ(parse_segment_ranges(" 1 - 2 ")->size(), 1u);
}

SegmentHead found(uint64_t size, std::string etag) {
  SegmentHead h;
  h.size = size;
  h.etag = std::move(etag);
  h.content_type = "text/plain";
  h.timestamp_us = 1700000000'500000;
  return h;
}

TEST(SloCheckSegment, ListsSwiftsProblems) {
  std::vector<SegmentProblem> problems;
  SegmentSpec spec;
  spec.path = "/c/a b";
  spec.etag = "wrong";
  spec.size_bytes = 4;
  auto s = check_segment(spec, found(5, "right"), false, 1, &problems);
  ASSERT_TRUE(s);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].name, "/c/a%20b");
  EXPECT_EQ(problems[0].reason, "Size Mismatch");
  EXPECT_EQ(problems[1].reason, "Etag Mismatch");

  problems.clear();
  SegmentHead missing;
  missing.status = "404 Not Found";
  EXPECT_FALSE(check_segment(spec, missing, false, 1, &problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].reason, "404 Not Found");

  problems.clear();
  SegmentSpec empty;
  empty.path = "c/e";
  check_segment(empty, found(0, "d41d8cd98f00b204e9800998ecf8427e"), false, 1, &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].reason, "Too small; each segment must be at least 1 byte.");
  problems.clear();
  check_segment(empty, found(0, "d41d8cd98f00b204e9800998ecf8427e"), true, 1, &problems);
  EXPECT_TRUE(problems.empty());
}

TEST(SloCheckSegment, NormalizesRanges) {
  std::vector<SegmentProblem> problems;
  SegmentSpec spec;
  spec.path = "c/o";
  spec.range = SegmentRange{std::nullopt, 4};
  auto s = check_segment(spec, found(10, "e"), false, 1, &problems);
  ASSERT_TRUE(s);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(s->name, "/c/o");
  ASSERT_TRUE(s->range);
  EXPECT_EQ(*s->range, std::make_pair(uint64_t{6}, uint64_t{9}));
  EXPECT_EQ(s->length(), 4u);
  EXPECT_EQ(s->last_modified, "2023-11-14T22:13:21.000000");

  // A range covering the whole object is dropped.
  spec.range = SegmentRange{0, 100};
  s = check_segment(spec, found(10, "e"), false, 1, &problems);
  EXPECT_FALSE(s->range);
  EXPECT_EQ(s->length(), 10u);

  spec.range = SegmentRange{10, std::nullopt};
  check_segment(spec, found(10, "e"), false, 1, &problems);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].reason, "Unsatisfiable Range");
}

StoredSegment seg(std::string name, uint64_t bytes, std::string hash) {
  StoredSegment s;
  s.name = std::move(name);
  s.bytes = bytes;
  s.hash = std::move(hash);
  s.content_type = "application/octet-stream";
  s.last_modified = "2024-01-02T03:04:05.000000";
  return s;
}

TEST(SloEtag, IsTheMd5OfTheSegmentEtagsAsSwiftComputesIt) {
  std::vector<StoredSegment> segs = {seg("/c/1", 10, "etagoftheobjectsegment1"),
                                     seg("/c/2", 10, "etagoftheobjectsegment2")};
  // echo -n 'etagoftheobjectsegment1etagoftheobjectsegment2' | md5sum
  EXPECT_EQ(slo_etag(segs), md5_hex("etagoftheobjectsegment1etagoftheobjectsegment2"));
  segs[0].range = std::make_pair(uint64_t{1}, uint64_t{2});
  segs[1].range = std::make_pair(uint64_t{3}, uint64_t{4});
  EXPECT_EQ(slo_etag(segs), md5_hex("etagoftheobjectsegment1:1-2;etagoftheobjectsegment2:3-4;"));
  StoredSegment data;
  data.is_data = true;
  data.data = "interstitial";
  segs.push_back(data);
  EXPECT_EQ(slo_etag(segs), md5_hex("etagoftheobjectsegment1:1-2;etagoftheobjectsegment2:3-4;" +
                                    md5_hex("interstitial")));
  EXPECT_EQ(slo_size(segs), 2u + 2u + 12u);
}

TEST(SloStoredManifest, RoundTripsInSwiftsFormat) {
  std::vector<StoredSegment> segs = {seg("/c/1", 10, "h1"), seg("/c/\xc3\xa9", 20, "h2")};
  segs[1].range = std::make_pair(uint64_t{5}, uint64_t{9});
  segs[1].sub_slo = true;
  StoredSegment data;
  data.is_data = true;
  data.data = "hi";
  segs.push_back(data);
  std::string text = serialize_manifest(segs);
  EXPECT_EQ(text,
            "[{\"name\": \"/c/1\", \"bytes\": 10, \"hash\": \"h1\", \"content_type\": "
            "\"application/octet-stream\", \"last_modified\": \"2024-01-02T03:04:05.000000\"}, "
            "{\"name\": \"/c/\\u00e9\", \"bytes\": 20, \"hash\": \"h2\", \"content_type\": "
            "\"application/octet-stream\", \"last_modified\": \"2024-01-02T03:04:05.000000\", "
            "\"range\": \"5-9\", \"sub_slo\": true}, {\"data\": \"aGk=\"}]");
  auto back = parse_stored_manifest(text);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[1].name, "/c/\xc3\xa9");
  EXPECT_EQ((*back)[1].range, segs[1].range);
  EXPECT_TRUE((*back)[1].sub_slo);
  EXPECT_EQ((*back)[2].data, "hi");
  EXPECT_EQ(slo_etag(*back), slo_etag(segs));
  EXPECT_EQ(raw_manifest(segs),
            "[{\"etag\": \"h1\", \"path\": \"/c/1\", \"size_bytes\": 10}, "
            "{\"etag\": \"h2\", \"path\": \"/c/\\u00e9\", \"range\": \"5-9\", \"size_bytes\": 20}, "
            "{\"data\": \"aGk=\"}]");
  EXPECT_FALSE(parse_stored_manifest("{}").ok());
  EXPECT_FALSE(parse_stored_manifest(R"([{"name": "/c/o"}])").ok());
  EXPECT_FALSE(
      parse_stored_manifest(R"([{"name": "/c/o", "bytes": 3, "hash": "h", "range": "1-5"}])").ok());
}

TEST(SloSlices, MapRangesAcrossSegments) {
  // Segments of 10, a 4-byte range (2-5) of a 20-byte one, and 3 data bytes.
  std::vector<StoredSegment> segs = {seg("/c/1", 10, "a"), seg("/c/2", 20, "b")};
  segs[1].range = std::make_pair(uint64_t{2}, uint64_t{5});
  StoredSegment data;
  data.is_data = true;
  data.data = "xyz";
  segs.push_back(data);
  ASSERT_EQ(slo_size(segs), 17u);

  auto whole = slice_segments(segs, 0, 17);
  ASSERT_EQ(whole.size(), 3u);
  EXPECT_EQ(whole[0].offset, 0u);
  EXPECT_EQ(whole[0].length, 10u);
  EXPECT_EQ(whole[1].offset, 2u);
  EXPECT_EQ(whole[1].length, 4u);
  EXPECT_EQ(whole[2].offset, 0u);
  EXPECT_EQ(whole[2].length, 3u);

  auto across = slice_segments(segs, 8, 13);
  ASSERT_EQ(across.size(), 2u);
  EXPECT_EQ(across[0].index, 0u);
  EXPECT_EQ(across[0].offset, 8u);
  EXPECT_EQ(across[0].length, 2u);
  EXPECT_EQ(across[1].index, 1u);
  EXPECT_EQ(across[1].offset, 2u);
  EXPECT_EQ(across[1].length, 3u);

  auto tail = slice_segments(segs, 15, 17);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].index, 2u);
  EXPECT_EQ(tail[0].offset, 1u);
  EXPECT_EQ(tail[0].length, 2u);

  EXPECT_TRUE(slice_segments(segs, 17, 17).empty());
  // Zero-length entries are skipped.
  std::vector<StoredSegment> with_empty = {seg("/c/e", 0, "e"), seg("/c/1", 10, "a")};
  auto s = slice_segments(with_empty, 0, 10);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].index, 1u);
}

TEST(SloEncoding, MatchesPython) {
  EXPECT_EQ(py_quote("/c/a b&c\xc3\xa9~"), "/c/a%20b%26c%C3%A9~");
  EXPECT_EQ(py_json_string("a\"\\\n\x01/\xf0\x9f\x98\x80"),
            "\"a\\\"\\\\\\n\\u0001/\\ud83d\\ude00\"");
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_FALSE(base64_decode("Zm9vYg"));
  EXPECT_FALSE(base64_decode("Zm9v\nYg=="));
  EXPECT_FALSE(base64_decode("Zm9vY"));
  EXPECT_FALSE(base64_decode("=Zm9v"));
}

}  // namespace
}  // namespace onestack::object::api
