// Range and conditional requests. The expected answers are swob's
// (swift/common/swob.py: Range, ranges_for_length, Match, and
// Response._response_iter for what an empty list or a zero-length object
// turns into), with one deliberate difference: more than max_ranges specs
// are ignored (the whole object) rather than answered 416.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "object/api/range.h"

namespace onestack::object::api {
namespace {

using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;  // [begin, end)

Ranges pairs(const RangeResult& r) {
  Ranges out;
  for (const auto& b : r.ranges) out.emplace_back(b.begin, b.end);
  return out;
}

const char* name(RangeDecision d) {
  switch (d) {
    case RangeDecision::kWhole: return "whole";
    case RangeDecision::kUnsatisfiable: return "416";
    case RangeDecision::kPartial: return "partial";
  }
  return "?";
}

struct RangeCase {
  const char* header;
  uint64_t size;
  RangeDecision decision;
  Ranges ranges;  // for kPartial
};

void expect_range(const RangeCase& c) {
  RangeResult r = parse_range(c.header, c.size, 50);
  EXPECT_EQ(name(r.decision), std::string(name(c.decision)))
      << "Range: " << c.header << " on " << c.size << " bytes";
  if (c.decision == RangeDecision::kPartial) {
    EXPECT_EQ(pairs(r), c.ranges) << "Range: " << c.header << " on " << c.size << " bytes";
  } else {
    EXPECT_TRUE(r.ranges.empty()) << "Range: " << c.header;
  }
}

constexpr auto kWhole = RangeDecision::kWhole;
constexpr auto k416 = RangeDecision::kUnsatisfiable;
constexpr auto kPartial = RangeDecision::kPartial;

TEST(ParseRange, ServesSingleSuffixAndOpenEndedRangesAsSwobDoes) {
  const RangeCase cases[] = {
      {"bytes=0-9", 100, kPartial, {{0, 10}}},   {"bytes=1-7", 10, kPartial, {{1, 8}}},
      {"bytes=1-7", 5, kPartial, {{1, 5}}},      {"bytes=99-99", 100, kPartial, {{99, 100}}},
      {"bytes=-10", 100, kPartial, {{90, 100}}}, {"bytes=-7", 5, kPartial, {{0, 5}}},
      {"bytes=-100", 100, kPartial, {{0, 100}}}, {"bytes=-200", 100, kPartial, {{0, 100}}},
      {"bytes=90-", 100, kPartial, {{90, 100}}}, {"bytes=0-", 100, kPartial, {{0, 100}}},
      {"bytes=1-", 5, kPartial, {{1, 5}}},
  };
  for (const auto& c : cases) expect_range(c);
}

TEST(ParseRange, ClampsAnEndPastTheSizeToTheLastByte) {
  const RangeCase cases[] = {
      {"bytes=0-999", 100, kPartial, {{0, 100}}},
      {"bytes=5-18446744073709551615", 100, kPartial, {{5, 100}}},
      {"bytes=-18446744073709551615", 100, kPartial, {{0, 100}}},
      // Past 2^64: swob's ints are unbounded, so these still clamp.
      {"bytes=5-99999999999999999999", 100, kPartial, {{5, 100}}},
      {"bytes=-99999999999999999999", 100, kPartial, {{0, 100}}},
  };
  for (const auto& c : cases) expect_range(c);
}

TEST(ParseRange, AnswersUnsatisfiableWhenNoSpecReachesTheObject) {
  const RangeCase cases[] = {
      {"bytes=-0", 100, k416, {}},      {"bytes=100-", 100, k416, {}},
      {"bytes=100-200", 100, k416, {}}, {"bytes=5-10", 2, k416, {}},
      {"bytes=100-,-0", 100, k416, {}}, {"bytes=99999999999999999999-", 100, k416, {}},
  };
  for (const auto& c : cases) expect_range(c);
}

TEST(ParseRange, SkipsUnsatisfiableSpecsBesideGoodOnes) {
  const RangeCase cases[] = {
      {"bytes=100-,0-1", 100, kPartial, {{0, 2}}},
      {"bytes=4-6,100-", 5, kPartial, {{4, 5}}},
      {"bytes=4-6,-100", 5, kPartial, {{4, 5}, {0, 5}}},
      {"bytes=-0,3-4", 100, kPartial, {{3, 5}}},
  };
  for (const auto& c : cases) expect_range(c);
}

TEST(ParseRange, KeepsMultipleRangesInRequestOrder) {
  const RangeCase cases[] = {
      {"bytes=0-1,5-9", 100, kPartial, {{0, 2}, {5, 10}}},
      {"bytes=-20,4-", 200, kPartial, {{180, 200}, {4, 200}}},
      {"bytes=30-150,-10", 90, kPartial, {{30, 90}, {80, 90}}},
      {"bytes=30-150,-10", 200, kPartial, {{30, 151}, {190, 200}}},
      {"bytes=-7, 0-1", 10, kPartial, {{3, 10}, {0, 2}}},
      {"bytes=0-1, -7", 10, kPartial, {{0, 2}, {3, 10}}},
  };
  for (const auto& c : cases) expect_range(c);
}

TEST(ParseRange, IgnoresSpacesAndTheUnitsCaseAsSwobDoes) {
  const RangeCase cases[] = {
      {"bytes = 0-1", 100, kPartial, {{0, 2}}},
      {"Bytes=0-1", 100, kPartial, {{0, 2}}},
      {" bytes=0-1 , 3-4 ", 100, kPartial, {{0, 2}, {3, 5}}},
      {"bytes=0-1,\t3-4", 100, kPartial, {{0, 2}, {3, 5}}},
  };
  for (const auto& c : cases) expect_range(c);
}

TEST(ParseRange, IgnoresAMalformedHeaderAndServesTheWholeObject) {
  // swob.Range raises ValueError for each of these: the header is ignored.
  for (const char* h : {"",
                        "bytes=",
                        "bits=0-1",
                        "nonbytes=foobar,10-2",
                        "bytes=5-3",
                        "bytes=-",
                        "bytes=45",
                        "bytes=a-b",
                        "bytes=foo-bar,3-5",
                        "bytes=4-10,45",
                        "bytes=foobar,3-5",
                        "bytes=nonumber-5",
                        "bytes=--1",
                        "bytes=--0",
                        "bytes=0-1,",
                        "bytes=,0-1",
                        "bytes=0x1-5",
                        "bytes=1-2-3",
                        "bytes=5-+6",
                        "bytes=-+5"}) {
    expect_range({h, 100, kWhole, {}});
  }
}

std::string spec_list(size_t n, uint64_t stride) {
  std::string h = "bytes=";
  for (size_t i = 0; i < n; ++i) {
    if (i) h += ",";
    h += std::to_string(i * stride) + "-" + std::to_string(i * stride + 1);
  }
  return h;
}

TEST(ParseRange, ServesFiftyRangesAndRefusesMoreThanFifty) {
  RangeResult fifty = parse_range(spec_list(50, 10), 1024, 50);
  ASSERT_EQ(fifty.decision, RangeDecision::kPartial);
  EXPECT_EQ(fifty.ranges.size(), 50u);
  // swob's ranges_for_length returns [] (416) for more than MAX_RANGES
  // satisfiable ranges.
  RangeResult many = parse_range(spec_list(51, 10), 1024, 50);
  EXPECT_EQ(many.decision, RangeDecision::kUnsatisfiable);
  EXPECT_TRUE(many.ranges.empty());
  EXPECT_EQ(parse_range(spec_list(3, 10), 1024, 2).decision, RangeDecision::kUnsatisfiable);
}

TEST(ParseRange, AnswersUnsatisfiableForMoreThanTwoOverlappingPairs) {
  const RangeCase cases[] = {
      {"bytes=10-19,15-24", 100, kPartial, {{10, 20}, {15, 25}}},
      {"bytes=10-19,15-24,20-29", 100, kPartial, {{10, 20}, {15, 25}, {20, 30}}},
      // Adjacent ranges do not overlap.
      {"bytes=10-19,20-29,30-39", 100, kPartial, {{10, 20}, {20, 30}, {30, 40}}},
      // Ranges that share a byte do: three pairs.
      {"bytes=10-20,20-30,30-40,40-50", 100, k416, {}},
      {"bytes=0-50,10-20,30-40,45-49", 100, k416, {}},
      // Suffix ranges overlap according to the object's size.
      {"bytes=10-15,15-20,30-39,-9", 100, kPartial, {{10, 16}, {15, 21}, {30, 40}, {91, 100}}},
      {"bytes=10-15,15-20,30-39,-9", 20, k416, {}},
      // swob compares strictly: identical ranges are not counted as overlapping.
      {"bytes=0-9,0-9,0-9,0-9", 100, kPartial, {{0, 10}, {0, 10}, {0, 10}, {0, 10}}},
      // Same start, different ends do overlap.
      {"bytes=0-4,0-9,0-19,0-29", 100, k416, {}},
  };
  for (const auto& c : cases) expect_range(c);
}

TEST(ParseRange, AnswersUnsatisfiableForEightOrMoreRangesOutOfOrder) {
  const RangeCase cases[] = {
      {"bytes=10-19,0-9", 100, kPartial, {{10, 20}, {0, 10}}},
      {"bytes=100-109,200-209,300-309,500-509,400-409,600-609,700-709",
       100000,
       kPartial,
       {{100, 110}, {200, 210}, {300, 310}, {500, 510}, {400, 410}, {600, 610}, {700, 710}}},
      {"bytes=100-109,200-209,300-309,500-509,400-409,600-609,700-709,800-809", 100000, k416, {}},
      {"bytes=80-89,70-79,60-69,50-59,40-49,30-39,20-29,10-19,0-9", 100, k416, {}},
      // Eight ranges in ascending order are fine.
      {"bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14",
       100,
       kPartial,
       {{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}, {12, 13}, {14, 15}}},
      // Ties on the start compare the ends, as swob compares tuples.
      {"bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-13,12-12", 100, k416, {}},
  };
  for (const auto& c : cases) expect_range(c);
}

TEST(ParseRange, TreatsAZeroLengthObjectAsSwobDoes) {
  const RangeCase cases[] = {
      // "The last N bytes" of nothing: the whole (empty) object, a 200.
      {"bytes=-5", 0, kWhole, {}},
      {"bytes=-5,0-", 0, kWhole, {}},
      // Everything that names a byte index, or asks for zero bytes: 416.
      {"bytes=0-", 0, k416, {}},
      {"bytes=0-0", 0, k416, {}},
      {"bytes=-0", 0, k416, {}},
      // Malformed stays ignored.
      {"bytes=5-3", 0, kWhole, {}},
  };
  for (const auto& c : cases) expect_range(c);
}

// ---- conditional requests ----

constexpr const char* kEtag = "d41d8cd98f00b204e9800998ecf8427e";
// Last-Modified of the object under test: Sun, 06 Nov 1994 08:49:37 GMT.
constexpr int64_t kModified = 784111777;

http::Request with_headers(std::initializer_list<std::pair<const char*, std::string>> headers) {
  http::Request req;
  for (const auto& [k, v] : headers) req.headers.set(k, v);
  return req;
}

const char* name(Condition c) {
  switch (c) {
    case Condition::kProceed: return "proceed";
    case Condition::kNotModified: return "304";
    case Condition::kPreconditionFailed: return "412";
  }
  return "?";
}

struct ConditionCase {
  const char* header;
  std::string value;
  bool get_or_head;
  Condition want;
};

void expect_conditions(const ConditionCase& c) {
  http::Request req = with_headers({{c.header, c.value}});
  EXPECT_EQ(std::string(name(check_conditions(req, kEtag, kModified, c.get_or_head))), name(c.want))
      << c.header << ": " << c.value << (c.get_or_head ? " (GET)" : " (PUT)");
}

TEST(CheckConditions, ProceedsWithoutConditionalHeaders) {
  http::Request req;
  EXPECT_EQ(check_conditions(req, kEtag, kModified, true), Condition::kProceed);
  EXPECT_EQ(check_conditions(req, kEtag, kModified, false), Condition::kProceed);
}

TEST(CheckConditions, IfMatchAcceptsQuotedUnquotedStarAndListedEtags) {
  const std::string e = kEtag;
  const ConditionCase cases[] = {
      {"If-Match", "\"" + e + "\"", true, Condition::kProceed},
      {"If-Match", e, true, Condition::kProceed},
      {"If-Match", "*", true, Condition::kProceed},
      {"If-Match", "\"*\"", true, Condition::kProceed},
      {"If-Match", "\"a\", \"" + e + "\"", true, Condition::kProceed},
      {"If-Match", "\"a\",\"" + e + "\",\"b\"", true, Condition::kProceed},
      {"If-Match", "\"a\"   ,  ,   \"" + e + "\"   ", true, Condition::kProceed},
      {"If-Match", "\"a\", *", false, Condition::kProceed},
      {"If-Match", "\"other\"", true, Condition::kPreconditionFailed},
      {"If-Match", "\"a\", \"b\"", true, Condition::kPreconditionFailed},
      {"If-Match", "\"" + e + "x\"", false, Condition::kPreconditionFailed},
      {"If-Match", "\"\"" + e + "\"\"", true, Condition::kPreconditionFailed},
  };
  for (const auto& c : cases) expect_conditions(c);
}

TEST(CheckConditions, IfNoneMatchIsNotModifiedForGetAndFailsOtherMethods) {
  const std::string e = kEtag;
  const ConditionCase cases[] = {
      {"If-None-Match", "\"" + e + "\"", true, Condition::kNotModified},
      {"If-None-Match", e, true, Condition::kNotModified},
      {"If-None-Match", "*", true, Condition::kNotModified},
      {"If-None-Match", "\"a\", \"" + e + "\"", true, Condition::kNotModified},
      {"If-None-Match", "\"" + e + "\"", false, Condition::kPreconditionFailed},
      {"If-None-Match", "*", false, Condition::kPreconditionFailed},
      {"If-None-Match", "\"other\"", true, Condition::kProceed},
      {"If-None-Match", "\"other\"", false, Condition::kProceed},
  };
  for (const auto& c : cases) expect_conditions(c);
}

// The same instant in the three forms RFC 7231 §7.1.1.1 allows.
const char* const kSameInstant[] = {
    "Sun, 06 Nov 1994 08:49:37 GMT",   // IMF-fixdate
    "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850
    "Sun Nov  6 08:49:37 1994",        // asctime
};
const char* const kOneSecondEarlier[] = {
    "Sun, 06 Nov 1994 08:49:36 GMT",
    "Sunday, 06-Nov-94 08:49:36 GMT",
    "Sun Nov  6 08:49:36 1994",
};
const char* const kOneDayLater[] = {
    "Mon, 07 Nov 1994 08:49:37 GMT",
    "Monday, 07-Nov-94 08:49:37 GMT",
    "Mon Nov  7 08:49:37 1994",
};

TEST(CheckConditions, IfModifiedSinceIsNotModifiedUnlessTheObjectIsNewer) {
  for (const char* d : kSameInstant) {
    expect_conditions({"If-Modified-Since", d, true, Condition::kNotModified});
    // Only GET and HEAD answer 304.
    expect_conditions({"If-Modified-Since", d, false, Condition::kProceed});
  }
  for (const char* d : kOneDayLater) {
    expect_conditions({"If-Modified-Since", d, true, Condition::kNotModified});
  }
  for (const char* d : kOneSecondEarlier) {
    expect_conditions({"If-Modified-Since", d, true, Condition::kProceed});
  }
}

TEST(CheckConditions, IfUnmodifiedSinceFailsOnlyWhenTheObjectIsNewer) {
  for (const char* d : kSameInstant) {
    expect_conditions({"If-Unmodified-Since", d, true, Condition::kProceed});
    expect_conditions({"If-Unmodified-Since", d, false, Condition::kProceed});
  }
  for (const char* d : kOneDayLater) {
    expect_conditions({"If-Unmodified-Since", d, true, Condition::kProceed});
  }
  for (const char* d : kOneSecondEarlier) {
    expect_conditions({"If-Unmodified-Since", d, true, Condition::kPreconditionFailed});
    expect_conditions({"If-Unmodified-Since", d, false, Condition::kPreconditionFailed});
  }
}

TEST(CheckConditions, IgnoresDatesItCannotParse) {
  for (const char* d : {"", "yesterday", "1994-11-06T08:49:37Z",
                        "Sun, 06 Nov 1994 08:49:37 GMT junk", "784111777"}) {
    expect_conditions({"If-Modified-Since", d, true, Condition::kProceed});
    expect_conditions({"If-Unmodified-Since", d, true, Condition::kProceed});
  }
}

TEST(CheckConditions, EvaluatesEveryConditionInSwobsOrder) {
  const std::string quoted = std::string("\"") + kEtag + "\"";
  // swob checks each condition whatever the others said (not RFC 7232's
  // "a date only without its entity-tag counterpart"): a matching If-Match
  // does not save an old If-Unmodified-Since ...
  http::Request match_and_old_date =
      with_headers({{"If-Match", quoted}, {"If-Unmodified-Since", kOneSecondEarlier[0]}});
  EXPECT_EQ(check_conditions(match_and_old_date, kEtag, kModified, true),
            Condition::kPreconditionFailed);
  // ... nor does a non-matching If-None-Match an If-Modified-Since that holds.
  http::Request other_and_same_date =
      with_headers({{"If-None-Match", "\"other\""}, {"If-Modified-Since", kSameInstant[0]}});
  EXPECT_EQ(check_conditions(other_and_same_date, kEtag, kModified, true), Condition::kNotModified);
  http::Request mismatch_and_new_date =
      with_headers({{"If-Match", "\"other\""}, {"If-Unmodified-Since", kOneDayLater[0]}});
  EXPECT_EQ(check_conditions(mismatch_and_new_date, kEtag, kModified, true),
            Condition::kPreconditionFailed);
  // A matching If-None-Match answers 304 before a failing If-Match is seen.
  http::Request none_match_and_mismatch =
      with_headers({{"If-None-Match", quoted}, {"If-Match", "\"other\""}});
  EXPECT_EQ(check_conditions(none_match_and_mismatch, kEtag, kModified, true),
            Condition::kNotModified);
}

TEST(IfMatchAny, FindsAStarAmongTheTags) {
  EXPECT_TRUE(if_match_any(with_headers({{"If-Match", "*"}})));
  EXPECT_TRUE(if_match_any(with_headers({{"If-Match", "\"a\", *"}})));
  EXPECT_FALSE(if_match_any(with_headers({{"If-Match", "\"*x\""}})));
  EXPECT_FALSE(if_match_any(with_headers({})));
}

}  // namespace
}  // namespace onestack::object::api
