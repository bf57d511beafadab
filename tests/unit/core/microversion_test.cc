#include "core/http/microversion.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace onestack::http {
namespace {

constexpr ServiceVersions kCompute{"compute", {{2, 1}, {2, 95}}, "X-OpenStack-Nova-API-Version"};
constexpr ServiceVersions kVolume{"volume", {{3, 0}, {3, 71}}};
constexpr ServiceVersions kImage{"image", {}};

using Headers = std::vector<std::pair<std::string, std::string>>;

beast_http::fields make_fields(const Headers& headers) {
  beast_http::fields f;
  for (const auto& [name, value] : headers) f.insert(name, value);
  return f;
}

std::vector<std::string> all_values(const beast_http::fields& f, std::string_view name) {
  std::vector<std::string> out;
  auto [begin, end] = f.equal_range(name);
  for (auto it = begin; it != end; ++it) out.emplace_back(it->value());
  return out;
}

// ---- Version and parse_version ----

TEST(MicroversionVersion, OrdersByMajorThenMinorNumerically) {
  EXPECT_LT((Version{2, 9}), (Version{2, 10}));
  EXPECT_LT((Version{2, 95}), (Version{3, 0}));
  EXPECT_EQ((Version{2, 1}), (Version{2, 1}));
  EXPECT_TRUE((VersionRange{{2, 1}, {2, 95}}.contains({2, 1})));
  EXPECT_TRUE((VersionRange{{2, 1}, {2, 95}}.contains({2, 95})));
  EXPECT_FALSE((VersionRange{{2, 1}, {2, 95}}.contains({2, 96})));
}

TEST(MicroversionVersion, RendersAsMajorDotMinor) {
  EXPECT_EQ((Version{2, 95}).to_string(), "2.95");
  EXPECT_EQ((Version{3, 0}).to_string(), "3.0");
  EXPECT_TRUE(Version{}.is_null());
}

struct ParseCase {
  const char* name;
  const char* text;
  std::optional<Version> want;  // nullopt: an error of `code`
  ErrorCode code = ErrorCode::kInvalidArgument;
};

class MicroversionParse : public ::testing::TestWithParam<ParseCase> {};

TEST_P(MicroversionParse, AsTheTableSays) {
  const ParseCase& c = GetParam();
  auto r = parse_version(c.text);
  if (c.want) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, *c.want);
  } else {
    ASSERT_FALSE(r.ok()) << r->to_string();
    EXPECT_EQ(r.error().code, c.code);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, MicroversionParse,
    ::testing::Values(
        ParseCase{"Simple", "2.1", Version{2, 1}},
        ParseCase{"MultiDigitMinor", "2.95", Version{2, 95}},
        ParseCase{"ZeroMinor", "3.0", Version{3, 0}},
        ParseCase{"MultiDigitMajor", "10.12", Version{10, 12}},
        ParseCase{"NineDigits", "2.999999999", Version{2, 999999999}},
        ParseCase{"MajorOnly", "2", std::nullopt}, ParseCase{"TrailingDot", "2.", std::nullopt},
        ParseCase{"LeadingDot", ".1", std::nullopt},
        ParseCase{"LeadingZeroMajor", "02.1", std::nullopt},
        ParseCase{"LeadingZeroMinor", "2.01", std::nullopt},
        ParseCase{"ZeroMajor", "0.1", std::nullopt}, ParseCase{"NullVersion", "0.0", std::nullopt},
        ParseCase{"PlusSign", "+2.1", std::nullopt}, ParseCase{"MinusSign", "-2.1", std::nullopt},
        ParseCase{"ThreeParts", "2.1.1", std::nullopt}, ParseCase{"Letters", "2.x", std::nullopt},
        ParseCase{"VPrefix", "v2.1", std::nullopt}, ParseCase{"Whitespace", " 2.1", std::nullopt},
        ParseCase{"Empty", "", std::nullopt}, ParseCase{"Latest", "latest", std::nullopt},
        ParseCase{"TooLargeIsUnsupportedNotMalformed", "2.9999999999", std::nullopt,
                  ErrorCode::kNotAcceptable}),
    [](const ::testing::TestParamInfo<ParseCase>& info) { return std::string(info.param.name); });

// ---- negotiate_version ----

struct NegotiateCase {
  const char* name;
  const ServiceVersions* service;
  Headers headers;
  std::optional<Version> want;  // nullopt: an error of `code` and `message`
  ErrorCode code = ErrorCode::kInvalidArgument;
  const char* message = "";  // checked when not empty
};

class MicroversionNegotiation : public ::testing::TestWithParam<NegotiateCase> {};

TEST_P(MicroversionNegotiation, AsTheTableSays) {
  const NegotiateCase& c = GetParam();
  auto r = negotiate_version(make_fields(c.headers), *c.service);
  if (c.want) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, *c.want) << r->to_string();
  } else {
    ASSERT_FALSE(r.ok()) << r->to_string();
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    if (*c.message) {
      EXPECT_EQ(r.error().message, c.message);
    }
  }
}

constexpr const char* kStd = "OpenStack-API-Version";
constexpr const char* kNova = "X-OpenStack-Nova-API-Version";
constexpr ErrorCode kBad = ErrorCode::kInvalidArgument;
constexpr ErrorCode kUnsupported = ErrorCode::kNotAcceptable;

INSTANTIATE_TEST_SUITE_P(
    Table, MicroversionNegotiation,
    ::testing::Values(
        // Absent, exact, latest.
        NegotiateCase{"AbsentHeaderGivesMinimum", &kCompute, {}, Version{2, 1}},
        NegotiateCase{"AbsentHeaderGivesVolumeMinimum", &kVolume, {}, Version{3, 0}},
        NegotiateCase{"ExactVersion", &kCompute, {{kStd, "compute 2.53"}}, Version{2, 53}},
        NegotiateCase{"ExactMinimum", &kCompute, {{kStd, "compute 2.1"}}, Version{2, 1}},
        NegotiateCase{"ExactMaximum", &kCompute, {{kStd, "compute 2.95"}}, Version{2, 95}},
        NegotiateCase{"HeaderNameIsCaseInsensitive",
                      &kCompute,
                      {{"openstack-api-version", "compute 2.7"}},
                      Version{2, 7}},
        NegotiateCase{"LatestGivesMaximum", &kCompute, {{kStd, "compute latest"}}, Version{2, 95}},
        NegotiateCase{
            "ExtraWhitespaceIsIgnored", &kCompute, {{kStd, "  compute \t 2.12  "}}, Version{2, 12}},
        // Service type matching.
        NegotiateCase{"ServiceTypeUpperCase", &kCompute, {{kStd, "COMPUTE 2.5"}}, Version{2, 5}},
        NegotiateCase{"ServiceTypeMixedCase", &kVolume, {{kStd, "Volume 3.42"}}, Version{3, 42}},
        NegotiateCase{
            "OtherServiceOnlyGivesMinimum", &kCompute, {{kStd, "volume 3.5"}}, Version{2, 1}},
        NegotiateCase{"OtherServicesMalformedEntryIsIgnored",
                      &kCompute,
                      {{kStd, "volume bogus, compute 2.7"}},
                      Version{2, 7}},
        NegotiateCase{
            "ServiceTypePrefixDoesNotMatch", &kCompute, {{kStd, "computer 2.7"}}, Version{2, 1}},
        NegotiateCase{
            "EntryWithoutVersionIsSkipped", &kCompute, {{kStd, "compute"}}, Version{2, 1}},
        // Several entries.
        NegotiateCase{"CommaSeparatedPicksOurService",
                      &kVolume,
                      {{kStd, "compute 2.7, volume 3.10, image 2.1"}},
                      Version{3, 10}},
        NegotiateCase{"LastEntryForOurServiceWins",
                      &kCompute,
                      {{kStd, "compute 2.3, compute 2.9"}},
                      Version{2, 9}},
        NegotiateCase{"RepeatedHeaderLinesFoldLikeOneList",
                      &kCompute,
                      {{kStd, "compute 2.4"}, {kStd, "volume 3.1"}},
                      Version{2, 4}},
        NegotiateCase{"LastRepeatedLineWins",
                      &kCompute,
                      {{kStd, "compute 2.4"}, {kStd, "compute 2.8"}},
                      Version{2, 8}},
        NegotiateCase{
            "EmptyEntriesAreSkipped", &kCompute, {{kStd, ", compute 2.6 ,,"}}, Version{2, 6}},
        // Legacy header.
        NegotiateCase{"LegacyHeader", &kCompute, {{kNova, "2.11"}}, Version{2, 11}},
        NegotiateCase{"LegacyHeaderLowerCase",
                      &kCompute,
                      {{"x-openstack-nova-api-version", "2.11"}},
                      Version{2, 11}},
        NegotiateCase{"LegacyLatest", &kCompute, {{kNova, "latest"}}, Version{2, 95}},
        NegotiateCase{"LegacyLastValueWins", &kCompute, {{kNova, "2.3, 2.8"}}, Version{2, 8}},
        NegotiateCase{"LegacyEmptyValueIsMalformed", &kCompute, {{kNova, ""}}, std::nullopt, kBad},
        NegotiateCase{"LegacyOutOfRange", &kCompute, {{kNova, "2.96"}}, std::nullopt, kUnsupported},
        NegotiateCase{
            "LegacyHeaderOfNovaIsIgnoredByVolume", &kVolume, {{kNova, "2.11"}}, Version{3, 0}},
        // Both headers.
        NegotiateCase{"StandardWinsOverLegacy",
                      &kCompute,
                      {{kNova, "2.10"}, {kStd, "compute 2.20"}},
                      Version{2, 20}},
        NegotiateCase{"LegacyUsedWhenStandardNamesOnlyOthers",
                      &kCompute,
                      {{kStd, "volume 3.0"}, {kNova, "2.10"}},
                      Version{2, 10}},
        NegotiateCase{"MalformedStandardWinsOverValidLegacy",
                      &kCompute,
                      {{kStd, "compute 2.x"}, {kNova, "2.10"}},
                      std::nullopt,
                      kBad},
        // Malformed values.
        NegotiateCase{"MalformedMessageIsNovas",
                      &kCompute,
                      {{kStd, "compute 2"}},
                      std::nullopt,
                      kBad,
                      "API Version String 2 is of invalid format. Must be of format "
                      "MajorNum.MinorNum."},
        NegotiateCase{
            "MalformedTrailingDot", &kCompute, {{kStd, "compute 2."}}, std::nullopt, kBad},
        NegotiateCase{"MalformedLeadingDot", &kCompute, {{kStd, "compute .1"}}, std::nullopt, kBad},
        NegotiateCase{
            "MalformedLeadingZero", &kCompute, {{kStd, "compute 02.1"}}, std::nullopt, kBad},
        NegotiateCase{"MalformedSign", &kCompute, {{kStd, "compute +2.1"}}, std::nullopt, kBad},
        NegotiateCase{
            "MalformedThreeParts", &kCompute, {{kStd, "compute 2.1.1"}}, std::nullopt, kBad},
        NegotiateCase{"MalformedTwoVersions",
                      &kCompute,
                      {{kStd, "compute 2.1 2.2"}},
                      std::nullopt,
                      kBad,
                      "API Version String 2.1 2.2 is of invalid format. Must be of format "
                      "MajorNum.MinorNum."},
        NegotiateCase{
            "LatestIsCaseSensitive", &kCompute, {{kStd, "compute LATEST"}}, std::nullopt, kBad},
        NegotiateCase{
            "ZeroMajorIsMalformed", &kCompute, {{kStd, "compute 0.1"}}, std::nullopt, kBad},
        // Out of range.
        NegotiateCase{"BelowMinimum",
                      &kCompute,
                      {{kStd, "compute 2.0"}},
                      std::nullopt,
                      kUnsupported,
                      "Version 2.0 is not supported by the API. Minimum is 2.1 and maximum is "
                      "2.95."},
        NegotiateCase{"BelowMinimumMajor",
                      &kVolume,
                      {{kStd, "volume 2.9"}},
                      std::nullopt,
                      kUnsupported,
                      "Version 2.9 is not supported by the API. Minimum is 3.0 and maximum is "
                      "3.71."},
        NegotiateCase{"AboveMaximum",
                      &kCompute,
                      {{kStd, "compute 2.96"}},
                      std::nullopt,
                      kUnsupported,
                      "Version 2.96 is not supported by the API. Minimum is 2.1 and maximum is "
                      "2.95."},
        NegotiateCase{
            "AboveMaximumMajor", &kCompute, {{kStd, "compute 3.0"}}, std::nullopt, kUnsupported},
        NegotiateCase{"HugeNumberIsUnsupported",
                      &kCompute,
                      {{kStd, "compute 2.99999999999"}},
                      std::nullopt,
                      kUnsupported,
                      "Version 2.99999999999 is not supported by the API. Minimum is 2.1 and "
                      "maximum is 2.95."},
        // A service without microversions.
        NegotiateCase{
            "UnversionedServiceIgnoresHeaders", &kImage, {{kStd, "image 2.1"}}, Version{}}),
    [](const ::testing::TestParamInfo<NegotiateCase>& info) {
      return std::string(info.param.name);
    });

TEST(MicroversionHeaderValues, NegotiateWithoutBeastFields) {
  std::vector<std::string_view> standard = {"volume 3.1", "compute 2.33"};
  std::vector<std::string_view> legacy = {"2.2"};
  auto r = negotiate_version(standard, legacy, kCompute);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (Version{2, 33}));
  auto none = negotiate_version({}, {}, kCompute);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, (Version{2, 1}));
}

// ---- set_version_headers ----

TEST(MicroversionResponseHeaders, SetsStandardAndLegacyHeadersForNova) {
  Response r;
  set_version_headers(r, kCompute, {2, 53});
  EXPECT_EQ(all_values(r.headers, kStd), std::vector<std::string>{"compute 2.53"});
  EXPECT_EQ(all_values(r.headers, kNova), std::vector<std::string>{"2.53"});
  EXPECT_EQ(all_values(r.headers, "Vary"),
            std::vector<std::string>{"OpenStack-API-Version, X-OpenStack-Nova-API-Version"});
}

TEST(MicroversionResponseHeaders, SetsOnlyTheStandardHeaderWithoutLegacy) {
  Response r;
  set_version_headers(r, kVolume, {3, 0});
  EXPECT_EQ(all_values(r.headers, kStd), std::vector<std::string>{"volume 3.0"});
  EXPECT_TRUE(all_values(r.headers, kNova).empty());
  EXPECT_EQ(all_values(r.headers, "Vary"), std::vector<std::string>{"OpenStack-API-Version"});
}

TEST(MicroversionResponseHeaders, AppendsToAnExistingVary) {
  Response r;
  r.headers.set(beast_http::field::vary, "Accept-Encoding");
  set_version_headers(r, kVolume, {3, 5});
  EXPECT_EQ(all_values(r.headers, "Vary"),
            std::vector<std::string>{"Accept-Encoding, OpenStack-API-Version"});
}

TEST(MicroversionResponseHeaders, MergesSeveralVaryLinesIntoOne) {
  Response r;
  r.headers.insert(beast_http::field::vary, "Accept-Encoding");
  r.headers.insert(beast_http::field::vary, "Accept, Origin");
  set_version_headers(r, kCompute, {2, 1});
  EXPECT_EQ(all_values(r.headers, "Vary"),
            std::vector<std::string>{"Accept-Encoding, Accept, Origin, OpenStack-API-Version, "
                                     "X-OpenStack-Nova-API-Version"});
}

TEST(MicroversionResponseHeaders, DoesNotRepeatANameVaryAlreadyLists) {
  Response r;
  r.headers.set(beast_http::field::vary, "openstack-api-version");
  set_version_headers(r, kVolume, {3, 5});
  set_version_headers(r, kVolume, {3, 6});
  EXPECT_EQ(all_values(r.headers, "Vary"), std::vector<std::string>{"openstack-api-version"});
  EXPECT_EQ(all_values(r.headers, kStd), std::vector<std::string>{"volume 3.6"});
}

TEST(MicroversionResponseHeaders, LeavesVaryStarAlone) {
  Response r;
  r.headers.set(beast_http::field::vary, "*");
  set_version_headers(r, kCompute, {2, 1});
  EXPECT_EQ(all_values(r.headers, "Vary"), std::vector<std::string>{"*"});
}

TEST(MicroversionResponseHeaders, SetsNothingForTheNullVersion) {
  Response r;
  set_version_headers(r, kImage, {});
  EXPECT_EQ(r.headers.begin(), r.headers.end());
}

// ---- version_document_fields ----

TEST(MicroversionVersionDocument, ListsMaximumAsVersionAndMinimumAsMinVersion) {
  auto f = version_document_fields(kCompute.range);
  EXPECT_EQ(f.version, "2.95");
  EXPECT_EQ(f.min_version, "2.1");
}

TEST(MicroversionVersionDocument, IsEmptyForAnUnversionedService) {
  auto f = version_document_fields(kImage.range);
  EXPECT_EQ(f.version, "");
  EXPECT_EQ(f.min_version, "");
}

}  // namespace
}  // namespace onestack::http
