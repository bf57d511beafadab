// The pure parts of versioning and symlinks: Swift's timestamps, the legacy
// and reserved version names, symlink targets.
#include "object/api/versioning_names.h"

#include <gtest/gtest.h>

namespace onestack::object::api {
namespace {

TEST(SwiftTimestamp, FormatsTenDigitSecondsAndFiveDecimals) {
  EXPECT_EQ(swift_timestamp(1700000000123456), "1700000000.12345");
  EXPECT_EQ(swift_timestamp(1000000), "0000000001.00000");
  EXPECT_EQ(swift_timestamp(0), "0000000000.00000");
}

TEST(SwiftTimestamp, ParsesWhatSwiftAcceptsAndRefusesTheRest) {
  struct Case {
    const char* text;
    std::optional<int64_t> us;
  } cases[] = {
      {"1700000000.12345", 1700000000123450},
      {"1700000000", 1700000000000000},
      {"1700000000.1", 1700000000100000},
      {"1700000000.123456789", 1700000000123450},
      {"0000000001.00000", 1000000},
      {"", std::nullopt},
      {"abc", std::nullopt},
      {"-1", std::nullopt},
      {"1e9", std::nullopt},
      {"17.", std::nullopt},
      {".5", std::nullopt},
      {"12345678901", std::nullopt},
      {"1.2.3", std::nullopt},
      {"null", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_swift_timestamp(c.text), c.us) << c.text;
  }
}

TEST(SwiftTimestamp, RoundTripsThroughItsText) {
  for (int64_t us : {int64_t{1700000000123450}, int64_t{1}, int64_t{9999999999999990}}) {
    auto back = parse_swift_timestamp(swift_timestamp(us));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, us - us % 10);
  }
}

TEST(LegacyVersionName, PrefixesTheHexByteLength) {
  EXPECT_EQ(legacy_version_prefix("myobject"), "008myobject/");
  EXPECT_EQ(legacy_version_name("myobject", 1700000000123456), "008myobject/1700000000.12345");
  // The length counts bytes: "é" is two.
  EXPECT_EQ(legacy_version_prefix("caf\xc3\xa9"), "005caf\xc3\xa9/");
  EXPECT_EQ(legacy_version_prefix(std::string(300, 'a')).substr(0, 3), "12c");
}

TEST(ReservedNames, VersionsContainerStartsWithNul) {
  std::string name = versions_container_name("photos");
  EXPECT_EQ(name, std::string("\0versions\0photos", 16));
}

TEST(ReservedNames, InvertedTimestampsSortNewestFirst) {
  EXPECT_EQ(inverted_timestamp(1700000000123450), "8299999999.87654");
  std::string older = version_object_name("o", 1700000000000000);
  std::string newer = version_object_name("o", 1700000001000000);
  EXPECT_LT(newer, older);
  EXPECT_EQ(older.rfind(version_object_prefix("o"), 0), 0u);
}

TEST(ReservedNames, VersionObjectNamesSplitBack) {
  std::string name = version_object_name("dir/obj", 1700000000123450);
  auto split = split_version_object_name(name);
  ASSERT_TRUE(split);
  EXPECT_EQ(split->first, "dir/obj");
  EXPECT_EQ(split->second, 1700000000123450);
  EXPECT_EQ(swift_timestamp(split->second), "1700000000.12345");
}

TEST(ReservedNames, SplitRefusesOrdinaryNames) {
  EXPECT_FALSE(split_version_object_name("plain"));
  EXPECT_FALSE(split_version_object_name(std::string("\0obj", 4)));
  EXPECT_FALSE(split_version_object_name(std::string("\0obj\0x", 6)));
  EXPECT_FALSE(split_version_object_name(""));
}

TEST(SymlinkTarget, SplitsContainerAndObjectInTheLinksAccount) {
  auto t = parse_symlink_target("c/a/b", "", "AUTH_x");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->account, "AUTH_x");
  EXPECT_EQ(t->container, "c");
  EXPECT_EQ(t->object, "a/b");
}

TEST(SymlinkTarget, HonoursTheTargetAccount) {
  auto t = parse_symlink_target("c/o", "AUTH_other", "AUTH_x");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->account, "AUTH_other");
}

TEST(SymlinkTarget, RefusesWhatIsNotContainerSlashObject) {
  for (const char* bad : {"", "c", "c/", "/o", "/c/o"}) {
    auto t = parse_symlink_target(bad, "", "AUTH_x");
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().code, ErrorCode::kPreconditionFailed);
  }
}

}  // namespace
}  // namespace onestack::object::api
