// Names and metadata as Swift's constraints check them
// (swift/common/constraints.py: check_utf8, check_metadata, the name
// lengths the proxy enforces), and the metadata helpers around them.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "object/api/common.h"

namespace onestack::object::api {
namespace {

struct Utf8Case {
  const char* what;
  std::string bytes;
  bool valid;
};

TEST(ValidUtf8, AcceptsWellFormedUtf8AndRejectsEverythingElse) {
  const Utf8Case cases[] = {
      {"empty", "", true},
      {"ascii", "photos/2024/cat.jpg", true},
      {"two bytes", "caf\xc3\xa9", true},
      {"three bytes", "\xe2\x82\xac", true},
      {"four bytes", "\xf0\x9f\x98\x80", true},
      {"last code point", "\xf4\x8f\xbf\xbf", true},
      {"stray continuation", "\x80", false},
      {"truncated two", "\xc3", false},
      {"truncated three", "\xe2\x82", false},
      {"truncated four", "\xf0\x9f\x98", false},
      {"overlong slash", "\xc0\xaf", false},
      {"overlong three", "\xe0\x80\xaf", false},
      {"overlong four", "\xf0\x80\x80\xaf", false},
      {"surrogate", "\xed\xa0\x80", false},
      {"past U+10FFFF", "\xf4\x90\x80\x80", false},
      {"five-byte lead", "\xf8\x88\x80\x80\x80", false},
      {"0xff", "a\xff", false},
      {"bad continuation", "\xc3\x28", false},
  };
  for (const auto& c : cases) EXPECT_EQ(valid_utf8(c.bytes), c.valid) << c.what;
}

struct NamesCase {
  const char* what;
  Target target;
  ErrorCode code;  // kInternal stands for "accepted"
};

TEST(CheckNames, RejectsBadUtf8AndNulWith412WhateverTheLength) {
  const std::string nul("a\0b", 3);
  const NamesCase cases[] = {
      {"plain", {"AUTH_p", "c", "o"}, ErrorCode::kInternal},
      {"account only", {"AUTH_p", "", ""}, ErrorCode::kInternal},
      {"unicode", {"AUTH_p", "caf\xc3\xa9", "\xf0\x9f\x98\x80/x"}, ErrorCode::kInternal},
      {"NUL in object", {"AUTH_p", "c", nul}, ErrorCode::kPreconditionFailed},
      {"NUL in container", {"AUTH_p", nul, "o"}, ErrorCode::kPreconditionFailed},
      {"NUL in account", {nul, "c", "o"}, ErrorCode::kPreconditionFailed},
      {"bad UTF-8 object", {"AUTH_p", "c", "\xc0\xaf"}, ErrorCode::kPreconditionFailed},
      {"bad UTF-8 container", {"AUTH_p", "\xff", "o"}, ErrorCode::kPreconditionFailed},
      // Lengths are checked only where Swift checks them (check_name_length).
      {"object 1025", {"AUTH_p", "c", std::string(1025, 'o')}, ErrorCode::kInternal},
      {"long and bad",
       {"AUTH_p", "c", std::string(2000, 'o') + "\xff"},
       ErrorCode::kPreconditionFailed},
  };
  for (const auto& c : cases) {
    Status st = check_names(c.target);
    ErrorCode got = st.ok() ? ErrorCode::kInternal : st.error().code;
    EXPECT_EQ(static_cast<int>(got), static_cast<int>(c.code)) << c.what;
  }
}

struct LengthCase {
  const char* what;
  Target target;
  NameLevel level;
  bool accepted;
};

TEST(CheckNameLength, ChecksOnlyTheLevelAskedFor) {
  const LengthCase cases[] = {
      {"account 256", {std::string(256, 'a'), "c", "o"}, NameLevel::kAccount, true},
      {"account 257", {std::string(257, 'a'), "c", "o"}, NameLevel::kAccount, false},
      {"container 256", {"AUTH_p", std::string(256, 'c'), "o"}, NameLevel::kContainer, true},
      {"container 257", {"AUTH_p", std::string(257, 'c'), "o"}, NameLevel::kContainer, false},
      {"object 1024", {"AUTH_p", "c", std::string(1024, 'o')}, NameLevel::kObject, true},
      {"object 1025", {"AUTH_p", "c", std::string(1025, 'o')}, NameLevel::kObject, false},
      // A long name at another level is not this check's business.
      {"object level, long container",
       {"AUTH_p", std::string(300, 'c'), "o"},
       NameLevel::kObject,
       true},
      {"container level, long object",
       {"AUTH_p", "c", std::string(2000, 'o')},
       NameLevel::kContainer,
       true},
  };
  Limits limits;
  for (const auto& c : cases) {
    Status st = check_name_length(limits, c.target, c.level);
    EXPECT_EQ(st.ok(), c.accepted) << c.what;
    if (!st.ok()) {
      EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << c.what;
    }
  }
}

TEST(CheckNameLength, AnswersObjectsInPlainTextAndTheRestInSwobsHtml) {
  Limits limits;
  Status obj =
      check_name_length(limits, {"AUTH_p", "c", std::string(1025, 'o')}, NameLevel::kObject);
  ASSERT_FALSE(obj.ok());
  EXPECT_EQ(obj.error().media_type, "text/plain");
  Status cont =
      check_name_length(limits, {"AUTH_p", std::string(257, 'c'), ""}, NameLevel::kContainer);
  ASSERT_FALSE(cont.ok());
  EXPECT_TRUE(cont.error().media_type.empty());
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(CheckNameLength, CountsCharactersNotBytesAsSwiftOnPython3Does) {
  Limits limits;
  // 256 two-byte characters: 512 bytes, 256 characters.
  EXPECT_TRUE(
      check_name_length(limits, {"AUTH_p", repeat("\xc3\xa9", 256), "o"}, NameLevel::kContainer)
          .ok());
  EXPECT_TRUE(
      check_name_length(limits, {"AUTH_p", "c", repeat("\xe2\x82\xac", 1024)}, NameLevel::kObject)
          .ok());
  Status st =
      check_name_length(limits, {"AUTH_p", repeat("\xc3\xa9", 257), "o"}, NameLevel::kContainer);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "Container name length of 257 longer than 256");
  st = check_name_length(limits, {"AUTH_p", "c", repeat("\xf0\x9f\x98\x80", 1025)},
                         NameLevel::kObject);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "Object name length of 1025 longer than 1024");
}

TEST(CheckNameLength, UsesTheConfiguredLimitsAndSwiftsMessages) {
  Limits limits;
  limits.max_account_name_length = 4;
  limits.max_container_name_length = 3;
  limits.max_object_name_length = 2;
  EXPECT_TRUE(check_name_length(limits, {"AUTH", "abc", "xy"}, NameLevel::kAccount).ok());
  Status st = check_name_length(limits, {"AUTH_", "abc", "xy"}, NameLevel::kAccount);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "Account name length of 5 longer than 4");
  st = check_name_length(limits, {"AUTH", "abcd", "xy"}, NameLevel::kContainer);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "Container name length of 4 longer than 3");
  st = check_name_length(limits, {"AUTH", "abc", "xyz"}, NameLevel::kObject);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "Object name length of 3 longer than 2");
  st = check_names({"AUTH", "abc", std::string("x\0", 2)});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "Invalid UTF8 or contains NULL");
}

// ---- metadata ----

http::Request with_headers(std::initializer_list<std::pair<const char*, std::string>> headers) {
  http::Request req;
  for (const auto& [k, v] : headers) req.headers.insert(k, v);
  return req;
}

TEST(MetadataUpdates, CollectsPrefixedHeadersLowerCasedWithTheirValues) {
  http::Request req = with_headers({{"X-Container-Meta-Color", "Blue"},
                                    {"x-container-meta-SIZE", "Large Value"},
                                    {"X-Object-Meta-Other", "ignored"},
                                    {"Content-Type", "text/plain"},
                                    {"X-Container-Read", ".r:*"}});
  auto m = metadata_updates(Limits{}, req, "x-container-meta-", {});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(*m, (store::Metadata{{"x-container-meta-color", "Blue"},
                                 {"x-container-meta-size", "Large Value"}}));
}

TEST(MetadataUpdates, TurnsRemovalsAndEmptyValuesIntoEmptyValues) {
  http::Request req = with_headers({{"X-Remove-Container-Meta-Color", "anything"},
                                    {"X-Container-Meta-Gone", ""},
                                    {"X-Remove-Container-Meta-", "x"},
                                    {"X-Remove-Versions-Location", "1"},
                                    {"X-Container-Read", ".r:*"}});
  auto m = metadata_updates(Limits{}, req, "x-container-meta-",
                            {"x-container-read", "x-container-write", "x-versions-location"});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(*m, (store::Metadata{{"x-container-meta-color", ""},
                                 {"x-container-meta-gone", ""},
                                 {"x-versions-location", ""},
                                 {"x-container-read", ".r:*"}}));
}

TEST(MetadataUpdates, WorksForEveryPrefix) {
  http::Request req = with_headers({{"X-Account-Meta-A", "1"},
                                    {"X-Remove-Account-Meta-B", "x"},
                                    {"X-Object-Meta-C", "3"},
                                    {"X-Remove-Object-Meta-D", "x"}});
  auto account = metadata_updates(Limits{}, req, "x-account-meta-", {});
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(*account, (store::Metadata{{"x-account-meta-a", "1"}, {"x-account-meta-b", ""}}));
  auto object = metadata_updates(Limits{}, req, "x-object-meta-", {});
  ASSERT_TRUE(object.ok());
  EXPECT_EQ(*object, (store::Metadata{{"x-object-meta-c", "3"}, {"x-object-meta-d", ""}}));
}

struct MetaLimitCase {
  const char* what;
  std::string header;
  std::string value;
  bool ok;
};

TEST(MetadataUpdates, EnforcesNameAndValueLengths) {
  const std::string p = "X-Object-Meta-";
  const MetaLimitCase cases[] = {
      {"name 128", p + std::string(128, 'n'), "v", true},
      {"name 129", p + std::string(129, 'n'), "v", false},
      {"value 256", p + "k", std::string(256, 'v'), true},
      {"value 257", p + "k", std::string(257, 'v'), false},
      {"empty name", p, "v", false},
  };
  for (const auto& c : cases) {
    http::Request req = with_headers({{c.header.c_str(), c.value}});
    auto m = metadata_updates(Limits{}, req, "x-object-meta-", {});
    EXPECT_EQ(m.ok(), c.ok) << c.what;
    if (!m.ok()) {
      EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument) << c.what;
    }
  }
}

TEST(MetadataUpdates, UsesTheConfiguredLengthLimits) {
  Limits limits;
  limits.max_meta_name_length = 3;
  limits.max_meta_value_length = 2;
  EXPECT_TRUE(
      metadata_updates(limits, with_headers({{"X-Object-Meta-abc", "vv"}}), "x-object-meta-", {})
          .ok());
  EXPECT_FALSE(
      metadata_updates(limits, with_headers({{"X-Object-Meta-abcd", "v"}}), "x-object-meta-", {})
          .ok());
  EXPECT_FALSE(
      metadata_updates(limits, with_headers({{"X-Object-Meta-a", "vvv"}}), "x-object-meta-", {})
          .ok());
}

store::Metadata items(size_t n, size_t value_size) {
  store::Metadata m;
  for (size_t i = 0; i < n; ++i) {
    char key[48];
    std::snprintf(key, sizeof key, "x-object-meta-k%03zu", i);
    m[key] = std::string(value_size, 'v');
  }
  return m;
}

TEST(CheckMetadataLimits, AllowsNinetyItemsAndRejectsNinetyOne) {
  EXPECT_TRUE(check_metadata_limits(Limits{}, items(90, 1), "x-object-meta-").ok());
  Status st = check_metadata_limits(Limits{}, items(91, 1), "x-object-meta-");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().message, "Too many metadata items; max 90");
}

TEST(CheckMetadataLimits, CountsNameAndValueBytesAgainstTheOverallSize) {
  // 16 items of name "k000".."k015" (4 bytes) and 252-byte values: 4096.
  EXPECT_TRUE(check_metadata_limits(Limits{}, items(16, 252), "x-object-meta-").ok());
  store::Metadata over = items(16, 252);
  over["x-object-meta-k000"] += "v";
  Status st = check_metadata_limits(Limits{}, over, "x-object-meta-");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "Total metadata too large; max 4096");
}

TEST(CheckMetadataLimits, CountsOnlyKeysWithThePrefix) {
  store::Metadata m = items(90, 1);
  m["x-container-read"] = ".r:*";
  m["content-type"] = "text/plain";
  m["x-object-sysmeta-thing"] = std::string(5000, 's');
  EXPECT_TRUE(check_metadata_limits(Limits{}, m, "x-object-meta-").ok());
  EXPECT_FALSE(check_metadata_limits(Limits{}, items(91, 1), "x-object-meta-").ok());
  EXPECT_TRUE(check_metadata_limits(Limits{}, items(91, 1), "x-container-meta-").ok());
}

TEST(MergeMetadata, SetsNewValuesAndRemovesEmptyOnes) {
  store::Metadata meta{{"x-container-meta-a", "1"}, {"x-container-meta-b", "2"}};
  merge_metadata(meta, {{"x-container-meta-a", ""},
                        {"x-container-meta-b", "3"},
                        {"x-container-meta-c", "4"},
                        {"x-container-meta-absent", ""}});
  EXPECT_EQ(meta, (store::Metadata{{"x-container-meta-b", "3"}, {"x-container-meta-c", "4"}}));
}

TEST(TitleCase, CapitalisesEachDashSeparatedWord) {
  EXPECT_EQ(title_case("x-object-meta-color"), "X-Object-Meta-Color");
  EXPECT_EQ(title_case("content-type"), "Content-Type");
  EXPECT_EQ(title_case("x-container-meta-a-b--c"), "X-Container-Meta-A-B--C");
  EXPECT_EQ(title_case(""), "");
}

TEST(PutMetaHeaders, WritesTitleCasedHeaders) {
  http::Response res;
  put_meta_headers(res, {{"x-object-meta-color", "blue"}, {"content-disposition", "inline"}});
  EXPECT_EQ(res.headers["X-Object-Meta-Color"], "blue");
  EXPECT_EQ(res.headers["Content-Disposition"], "inline");
}

}  // namespace
}  // namespace onestack::object::api
