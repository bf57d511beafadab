#include "core/json.h"

#include <gtest/gtest.h>

#include <string>

namespace onestack {
namespace {

std::string nested_arrays(int depth) {
  return "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

TEST(ParseJsonObject, ParsesAnObject) {
  auto o = parse_json_object(R"({"user": {"name": "admin", "enabled": true}})");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_TRUE(o->contains("user"));
}

struct BadJson {
  const char* name;
  std::string text;
};

class ParseJsonObjectRejects : public ::testing::TestWithParam<BadJson> {};

TEST_P(ParseJsonObjectRejects, WithInvalidArgument) {
  auto o = parse_json_object(GetParam().text);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(o.error().message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseJsonObjectRejects,
    ::testing::Values(BadJson{"Empty", ""}, BadJson{"Whitespace", "   "},
                      BadJson{"Array", "[1, 2]"}, BadJson{"String", "\"x\""},
                      BadJson{"Number", "42"}, BadJson{"Null", "null"},
                      BadJson{"Truncated", "{\"a\": "}, BadJson{"TrailingGarbage", "{\"a\": 1} x"},
                      BadJson{"TwoObjects", "{}{}"}, BadJson{"TrailingComma", "{\"a\": 1,}"},
                      BadJson{"SingleQuotes", "{'a': 1}"},
                      BadJson{"InvalidUtf8InString", std::string("{\"a\": \"\xff\xfe\"}")},
                      BadJson{"TruncatedUtf8Sequence", std::string("{\"a\": \"\xc3\"}")},
                      BadJson{"OverlongUtf8Slash", std::string("{\"a\": \"\xc0\xaf\"}")},
                      BadJson{"TooDeep", nested_arrays(40)}),
    [](const ::testing::TestParamInfo<BadJson>& info) { return std::string(info.param.name); });

TEST(ParseJsonObject, NonObjectErrorSaysTheBodyMustBeAnObject) {
  auto o = parse_json_object("[]");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("object"), std::string::npos);
}

TEST(ParseJsonObject, AcceptsNestingUpToTheLimitAndRejectsOneMore) {
  // The object itself is one level; the arrays inside add the rest.
  EXPECT_TRUE(parse_json_object(nested_arrays(7), 8).ok());
  EXPECT_FALSE(parse_json_object(nested_arrays(8), 8).ok());
}

TEST(ParseJsonObject, AcceptsValidMultiByteUtf8) {
  auto o = parse_json_object("{\"name\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(**get_string(*o, "name"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(ParseJson, ParsesAnyValueWithItsOwnDepthLimit) {
  auto v = parse_json("[1, 2, 3]");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_array());
  EXPECT_TRUE(parse_json(std::string(60, '[') + std::string(60, ']')).ok());
  EXPECT_FALSE(parse_json(std::string(70, '[') + std::string(70, ']')).ok());
}

TEST(JsonGetters, ReturnValuesWhenPresentAndTyped) {
  auto o = parse_json_object(R"({"s": "text", "b": false, "o": {"k": 1}})");
  ASSERT_TRUE(o.ok());
  auto s = get_string(*o, "s");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ(**s, "text");
  auto b = get_bool(*o, "b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->has_value());
  EXPECT_FALSE(**b);
  auto obj = get_object(*o, "o");
  ASSERT_TRUE(obj.ok());
  ASSERT_NE(*obj, nullptr);
  EXPECT_TRUE((*obj)->contains("k"));
}

TEST(JsonGetters, ReturnNothingWhenAbsent) {
  boost::json::object o;
  auto s = get_string(o, "missing");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_value());
  auto b = get_bool(o, "missing");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
  auto obj = get_object(o, "missing");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(*obj, nullptr);
}

TEST(JsonGetters, NameTheKeyWhenTheTypeIsWrong) {
  auto o = parse_json_object(R"({"n": 1, "nul": null, "arr": [], "s": "x"})");
  ASSERT_TRUE(o.ok());
  for (const char* key : {"n", "nul", "arr"}) {
    auto s = get_string(*o, key);
    ASSERT_FALSE(s.ok()) << key;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message.find(std::string("'") + key + "'"), std::string::npos);
  }
  auto b = get_bool(*o, "s");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("'s'"), std::string::npos);
  auto obj = get_object(*o, "arr");
  ASSERT_FALSE(obj.ok());
  EXPECT_NE(obj.error().message.find("'arr'"), std::string::npos);
}

TEST(ToJson, SerialisesCompactlyAndRoundTrips) {
  boost::json::value v = {{"a", 1}, {"b", {true, nullptr}}};
  std::string s = to_json(v);
  EXPECT_EQ(s.find(' '), std::string::npos);
  auto back = parse_json(s);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v);
}

}  // namespace
}  // namespace onestack
