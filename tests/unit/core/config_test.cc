#include "core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace onestack {
namespace {

struct ValueCase {
  const char* name;
  const char* text;
  const char* section;
  const char* key;
  const char* expected;  // nullptr: the key is absent
};

class ConfigParsesValues : public ::testing::TestWithParam<ValueCase> {};

TEST_P(ConfigParsesValues, AndReadsTheExpectedOne) {
  const ValueCase& c = GetParam();
  auto cfg = Config::parse(c.text);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  if (c.expected == nullptr) {
    EXPECT_FALSE(cfg->has(c.section, c.key));
    EXPECT_EQ(cfg->get(c.section, c.key, "fallback"), "fallback");
  } else {
    EXPECT_TRUE(cfg->has(c.section, c.key));
    EXPECT_EQ(cfg->get(c.section, c.key, "fallback"), c.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigParsesValues,
    ::testing::Values(
        ValueCase{"KeyBeforeAnySectionIsInDefault", "debug = true\n", "DEFAULT", "debug", "true"},
        ValueCase{"ExplicitDefaultSection", "[DEFAULT]\nlog_level = info\n", "DEFAULT", "log_level",
                  "info"},
        ValueCase{"NamedSection", "[database]\nconnection = sqlite:///x.db\n", "database",
                  "connection", "sqlite:///x.db"},
        ValueCase{"SpacesAroundKeyAndValueAreTrimmed", "[s]\n   key   =   value  \n", "s", "key",
                  "value"},
        ValueCase{"NoSpacesAroundEquals", "[s]\nkey=value\n", "s", "key", "value"},
        ValueCase{"EqualsInsideTheValueIsKept", "[s]\nurl = http://h/?a=b&c=d\n", "s", "url",
                  "http://h/?a=b&c=d"},
        ValueCase{"EmptyValue", "[s]\nkey =\n", "s", "key", ""},
        ValueCase{"HashComment", "[s]\n# key = commented\n", "s", "key", nullptr},
        ValueCase{"SemicolonComment", "[s]\n; key = commented\n", "s", "key", nullptr},
        ValueCase{"IndentedComment", "[s]\n   # key = commented\n", "s", "key", nullptr},
        ValueCase{"BlankLinesAreSkipped", "\n\n[s]\n\n\nkey = v\n\n", "s", "key", "v"},
        ValueCase{"SpacesInsideSectionBrackets", "[ token ]\nexpiration = 3600\n", "token",
                  "expiration", "3600"},
        ValueCase{"LaterValueWins", "[s]\nkey = 1\nkey = 2\n", "s", "key", "2"},
        ValueCase{"SectionsDoNotLeak", "[a]\nkey = 1\n[b]\nother = 2\n", "b", "key", nullptr},
        ValueCase{"ReopenedSectionKeepsEarlierKeys", "[a]\nx = 1\n[b]\ny = 2\n[a]\nz = 3\n", "a",
                  "x", "1"},
        ValueCase{"CrLfLineEndings", "[s]\r\nkey = v\r\n", "s", "key", "v"},
        ValueCase{"NoTrailingNewline", "[s]\nkey = v", "s", "key", "v"},
        ValueCase{"SectionNamesAreCaseSensitive", "[Token]\nx = 1\n", "token", "x", nullptr},
        ValueCase{"ValueWithSpacesInside", "[s]\nname = a b  c\n", "s", "name", "a b  c"}),
    [](const ::testing::TestParamInfo<ValueCase>& info) { return std::string(info.param.name); });

struct BadCase {
  const char* name;
  const char* text;
  int line;
};

class ConfigRejectsMalformedText : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigRejectsMalformedText, NamingTheLine) {
  const BadCase& c = GetParam();
  auto cfg = Config::parse(c.text);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(cfg.error().message.find("line " + std::to_string(c.line)), std::string::npos)
      << cfg.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigRejectsMalformedText,
    ::testing::Values(BadCase{"LineWithoutEquals", "[s]\nkey value\n", 2},
                      BadCase{"UnclosedSection", "# c\n\n[s\nk = v\n", 3},
                      BadCase{"EmptySectionName", "[]\n", 1},
                      BadCase{"EmptyKey", "[s]\nk = v\n = v\n", 3},
                      BadCase{"GarbageAfterGoodLines", "a = 1\nb = 2\nc = 3\n!!!\n", 4}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(Config, EmptyTextIsAValidConfigWithOnlyDefaults) {
  auto cfg = Config::parse("");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->get("DEFAULT", "anything", "d"), "d");
  EXPECT_EQ(*cfg->get_int("token", "expiration", 3600), 3600);
  EXPECT_TRUE(*cfg->get_bool("DEFAULT", "debug", true));
}

struct IntCase {
  const char* value;
  bool ok;
  int64_t expected;
};

TEST(ConfigGetInt, ParsesIntegersAndRejectsEverythingElse) {
  const IntCase cases[] = {
      {"0", true, 0},
      {"3600", true, 3600},
      {"-5", true, -5},
      {"9223372036854775807", true, INT64_MAX},
      {"9223372036854775808", false, 0},  // out of range
      {"12abc", false, 0},
      {"abc", false, 0},
      {"1.5", false, 0},
      {"", false, 0},
  };
  for (const auto& c : cases) {
    Config cfg;
    cfg.set("s", "k", c.value);
    auto r = cfg.get_int("s", "k", 77);
    ASSERT_EQ(r.ok(), c.ok) << "value '" << c.value << "'";
    if (c.ok) {
      EXPECT_EQ(*r, c.expected);
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(r.error().message.find("[s] k"), std::string::npos) << r.error().message;
    }
  }
}

struct BoolCase {
  const char* value;
  bool ok;
  bool expected;
};

TEST(ConfigGetBool, AcceptsTheOsloSpellingsInAnyCase) {
  const BoolCase cases[] = {
      {"true", true, true}, {"True", true, true},   {"YES", true, true},     {"on", true, true},
      {"1", true, true},    {"false", true, false}, {"FALSE", true, false},  {"no", true, false},
      {"Off", true, false}, {"0", true, false},     {"maybe", false, false}, {"", false, false},
      {"2", false, false},
  };
  for (const auto& c : cases) {
    Config cfg;
    cfg.set("s", "flag", c.value);
    auto r = cfg.get_bool("s", "flag", false);
    ASSERT_EQ(r.ok(), c.ok) << "value '" << c.value << "'";
    if (c.ok) {
      EXPECT_EQ(*r, c.expected) << c.value;
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(r.error().message.find("[s] flag"), std::string::npos) << r.error().message;
    }
  }
}

TEST(Config, SetOverridesAParsedValue) {
  auto cfg = Config::parse("[s]\nk = 1\n");
  ASSERT_TRUE(cfg.ok());
  cfg->set("s", "k", "2");
  cfg->set("new", "x", "y");
  EXPECT_EQ(*cfg->get_int("s", "k", 0), 2);
  EXPECT_EQ(cfg->get("new", "x", ""), "y");
}

TEST(Config, LoadFileReadsAFileAndReportsAMissingOne) {
  char path[] = "/tmp/onestack_config_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path);
    f << "[DEFAULT]\ndebug = yes\n[token]\nexpiration = 60\n";
  }
  auto cfg = Config::load_file(path);
  std::remove(path);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_TRUE(*cfg->get_bool("DEFAULT", "debug", false));
  EXPECT_EQ(*cfg->get_int("token", "expiration", 0), 60);

  auto missing = Config::load_file(std::string(path) + ".does-not-exist");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace onestack
