#include "core/http/router.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace onestack::http {
namespace {

using Verb = beast_http::verb;
using Kind = Router::MatchKind;

boost::asio::awaitable<Response> noop(Request&) { co_return Response{}; }

Router make_router() {
  Router r;
  r.add(Verb::get, "/", noop);
  r.add(Verb::get, "/v3/auth/tokens", noop);
  r.add(Verb::head, "/v3/auth/tokens", noop);
  r.add(Verb::delete_, "/v3/auth/tokens", noop);
  r.add(Verb::get, "/v3/projects", noop);
  r.add(Verb::post, "/v3/projects", noop);
  r.add(Verb::get, "/v3/projects/{project_id}", noop);
  r.add(Verb::patch, "/v3/projects/{project_id}", noop);
  r.add(Verb::delete_, "/v3/projects/{project_id}", noop);
  r.add(Verb::put, "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", noop);
  r.add(Verb::get, "/v1/{account}/{container}/{object+}", noop);
  r.add(Verb::put, "/v1/{account}/{container}/{object+}", noop);
  return r;
}

struct MatchCase {
  const char* name;
  Verb method;
  const char* path;
  Kind kind;
  const char* pattern;  // matched route's pattern (kFound)
  std::vector<std::string> params;
  const char* allow;  // kNoMethod
};

class RouterMatches : public ::testing::TestWithParam<MatchCase> {};

TEST_P(RouterMatches, AsTheTableSays) {
  static const Router router = make_router();
  const MatchCase& c = GetParam();
  auto m = router.match(c.method, c.path);
  ASSERT_EQ(m.kind, c.kind) << c.path;
  if (c.kind == Kind::kFound) {
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->pattern, c.pattern);
    EXPECT_EQ(m.params, c.params);
  } else {
    EXPECT_EQ(m.route, nullptr);
  }
  if (c.kind == Kind::kNoMethod) {
    EXPECT_EQ(m.allow, c.allow);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, RouterMatches,
    ::testing::Values(
        MatchCase{"Root", Verb::get, "/", Kind::kFound, "/", {}, ""},
        MatchCase{"Literal", Verb::get, "/v3/projects", Kind::kFound, "/v3/projects", {}, ""},
        MatchCase{"LiteralWithTrailingSlash",
                  Verb::get,
                  "/v3/projects/",
                  Kind::kFound,
                  "/v3/projects",
                  {},
                  ""},
        MatchCase{"SameLiteralOtherMethod",
                  Verb::post,
                  "/v3/projects",
                  Kind::kFound,
                  "/v3/projects",
                  {},
                  ""},
        MatchCase{"OneParam",
                  Verb::get,
                  "/v3/projects/abc",
                  Kind::kFound,
                  "/v3/projects/{project_id}",
                  {"abc"},
                  ""},
        MatchCase{"OneParamTrailingSlash",
                  Verb::patch,
                  "/v3/projects/abc/",
                  Kind::kFound,
                  "/v3/projects/{project_id}",
                  {"abc"},
                  ""},
        MatchCase{"ParamsInPatternOrder",
                  Verb::put,
                  "/v3/projects/p1/users/u1/roles/r1",
                  Kind::kFound,
                  "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
                  {"p1", "u1", "r1"},
                  ""},
        MatchCase{"ParamIsPercentDecoded",
                  Verb::get,
                  "/v3/projects/a%20b%2Fc",
                  Kind::kFound,
                  "/v3/projects/{project_id}",
                  {"a b/c"},
                  ""},
        MatchCase{"PlusStaysAPlusInPaths",
                  Verb::get,
                  "/v3/projects/a+b",
                  Kind::kFound,
                  "/v3/projects/{project_id}",
                  {"a+b"},
                  ""},
        MatchCase{"LowerCaseEscapes",
                  Verb::get,
                  "/v3/projects/%c3%a9",
                  Kind::kFound,
                  "/v3/projects/{project_id}",
                  {"\xc3\xa9"},
                  ""},
        MatchCase{"RestTakesOneSegment",
                  Verb::get,
                  "/v1/AUTH_a/c/o",
                  Kind::kFound,
                  "/v1/{account}/{container}/{object+}",
                  {"AUTH_a", "c", "o"},
                  ""},
        MatchCase{"RestTakesSlashesAndDecodes",
                  Verb::get,
                  "/v1/AUTH_a/c/dir/sub/x%20y",
                  Kind::kFound,
                  "/v1/{account}/{container}/{object+}",
                  {"AUTH_a", "c", "dir/sub/x y"},
                  ""},
        MatchCase{"RestKeepsEmptyInnerSegments",
                  Verb::put,
                  "/v1/a/c/x//y",
                  Kind::kFound,
                  "/v1/{account}/{container}/{object+}",
                  {"a", "c", "x//y"},
                  ""},
        MatchCase{"RestNeedsAtLeastOneSegment", Verb::get, "/v1/a/c", Kind::kNoPath, "", {}, ""},
        MatchCase{"RestNeedsANonEmptySegment", Verb::get, "/v1/a/c/", Kind::kNoPath, "", {}, ""},
        MatchCase{"EmptyParamSegmentDoesNotMatch",
                  Verb::get,
                  "/v3/projects//users",
                  Kind::kNoPath,
                  "",
                  {},
                  ""},
        MatchCase{"UnknownPath", Verb::get, "/v3/nothing", Kind::kNoPath, "", {}, ""},
        MatchCase{"TooManySegments", Verb::get, "/v3/projects/a/b", Kind::kNoPath, "", {}, ""},
        MatchCase{"LiteralsAreCaseSensitive", Verb::get, "/V3/projects", Kind::kNoPath, "", {}, ""},
        MatchCase{
            "BadEscapeDoesNotMatch", Verb::get, "/v3/projects/%zz", Kind::kNoPath, "", {}, ""},
        MatchCase{"TruncatedEscapeDoesNotMatch",
                  Verb::get,
                  "/v3/projects/abc%2",
                  Kind::kNoPath,
                  "",
                  {},
                  ""},
        MatchCase{
            "LonePercentDoesNotMatch", Verb::get, "/v3/projects/%", Kind::kNoPath, "", {}, ""},
        MatchCase{
            "BadEscapeInRestDoesNotMatch", Verb::get, "/v1/a/c/x/%g1", Kind::kNoPath, "", {}, ""},
        MatchCase{"WrongMethodListsAllowed",
                  Verb::put,
                  "/v3/projects",
                  Kind::kNoMethod,
                  "",
                  {},
                  "GET, HEAD, POST"},
        MatchCase{"WrongMethodOnParamRoute",
                  Verb::post,
                  "/v3/projects/abc",
                  Kind::kNoMethod,
                  "",
                  {},
                  "GET, HEAD, PATCH, DELETE"},
        MatchCase{"WrongMethodOnRest",
                  Verb::delete_,
                  "/v1/a/c/o",
                  Kind::kNoMethod,
                  "",
                  {},
                  "GET, HEAD, PUT"},
        MatchCase{"WrongMethodOnEscapedParam",
                  Verb::post,
                  "/v3/projects/a%20b",
                  Kind::kNoMethod,
                  "",
                  {},
                  "GET, HEAD, PATCH, DELETE"},
        MatchCase{"BadEscapeIsNoPathForEveryMethod",
                  Verb::post,
                  "/v3/projects/%zz",
                  Kind::kNoPath,
                  "",
                  {},
                  ""},
        MatchCase{"BadEscapeInRestIsNoPathForEveryMethod",
                  Verb::delete_,
                  "/v1/a/c/%4",
                  Kind::kNoPath,
                  "",
                  {},
                  ""},
        MatchCase{"HeadFallsBackToGet",
                  Verb::head,
                  "/v3/projects/abc",
                  Kind::kFound,
                  "/v3/projects/{project_id}",
                  {"abc"},
                  ""},
        MatchCase{"HeadFallbackKeepsRestParams",
                  Verb::head,
                  "/v1/a/c/d/o",
                  Kind::kFound,
                  "/v1/{account}/{container}/{object+}",
                  {"a", "c", "d/o"},
                  ""},
        MatchCase{"ExplicitHeadRouteWinsOverGet",
                  Verb::head,
                  "/v3/auth/tokens",
                  Kind::kFound,
                  "/v3/auth/tokens",
                  {},
                  ""},
        MatchCase{"AllowListsExplicitHead",
                  Verb::post,
                  "/v3/auth/tokens",
                  Kind::kNoMethod,
                  "",
                  {},
                  "GET, HEAD, DELETE"},
        MatchCase{"HeadWithoutGetIsNotAllowed",
                  Verb::head,
                  "/v3/projects/p/users/u/roles/r",
                  Kind::kNoMethod,
                  "",
                  {},
                  "PUT"}),
    [](const ::testing::TestParamInfo<MatchCase>& info) { return std::string(info.param.name); });

// A Swift object name may end in "/" (pseudo-directory markers such as
// "photos/"); the rest parameter has to carry it through, or a PUT of "dir/"
// would create "dir". The router strips trailing empty segments before
// matching, which is right for Keystone's collections; the rest parameter
// takes the raw tail of the path instead.
TEST(Router, RestParameterKeepsATrailingSlash) {
  Router router = make_router();
  auto m = router.match(Verb::put, "/v1/AUTH_a/c/photos/");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params, (std::vector<std::string>{"AUTH_a", "c", "photos/"}));
  m = router.match(Verb::put, "/v1/AUTH_a/c/a/b/");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params, (std::vector<std::string>{"AUTH_a", "c", "a/b/"}));
}

TEST(Router, WholePathDecodingSplitsAtAnEncodedSlashAndKeepsBadEscapes) {
  Router r;
  r.add(Verb::get, "/v1/{account}/{container}", noop);
  r.add(Verb::get, "/v1/{account}/{container}/{object+}", noop);
  // By default "%2F" stays inside its segment and a bad escape matches nothing.
  auto m = r.match(Verb::get, "/v1/a/c%2Fd");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params, (std::vector<std::string>{"a", "c/d"}));
  EXPECT_EQ(r.match(Verb::get, "/v1/a/c/o%zz").kind, Kind::kNoPath);

  r.decode_whole_path(true);
  m = r.match(Verb::get, "/v1/a/c%2Fd");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params, (std::vector<std::string>{"a", "c", "d"}));
  m = r.match(Verb::get, "/v1/a/c/100%25/o%zz%4");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params, (std::vector<std::string>{"a", "c", "100%/o%zz%4"}));
  m = r.match(Verb::get, "/v1/a/c%2f%2fo");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params, (std::vector<std::string>{"a", "c", "/o"}));
}

TEST(Router, MatchesInTheOrderRoutesWereAdded) {
  Router r;
  r.add(Verb::get, "/v3/users/me", noop);
  r.add(Verb::get, "/v3/users/{user_id}", noop);
  auto literal = r.match(Verb::get, "/v3/users/me");
  ASSERT_EQ(literal.kind, Kind::kFound);
  EXPECT_EQ(literal.route->pattern, "/v3/users/me");
  auto param = r.match(Verb::get, "/v3/users/other");
  ASSERT_EQ(param.kind, Kind::kFound);
  EXPECT_EQ(param.route->pattern, "/v3/users/{user_id}");
  EXPECT_EQ(param.params, std::vector<std::string>{"other"});
}

TEST(Router, NumbersRoutesByTheirPositionInTheTable) {
  Router r = make_router();
  ASSERT_EQ(r.routes().size(), 12u);
  for (size_t i = 0; i < r.routes().size(); ++i) EXPECT_EQ(r.routes()[i].index, i);
  auto m = r.match(Verb::post, "/v3/projects");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.route->index, 5u);
  EXPECT_EQ(m.route->method, Verb::post);
}

TEST(Router, EmptyRouterFindsNothing) {
  Router r;
  EXPECT_EQ(r.match(Verb::get, "/").kind, Kind::kNoPath);
  EXPECT_EQ(r.match(Verb::get, "/x").kind, Kind::kNoPath);
}

struct DecodeCase {
  const char* in;
  bool ok;
  const char* out;
};

TEST(PercentDecode, DecodesEscapesAndRejectsBadOnes) {
  const DecodeCase cases[] = {
      {"", true, ""},           {"plain", true, "plain"},
      {"a%20b", true, "a b"},   {"%2F%2f", true, "//"},
      {"%41%42C", true, "ABC"}, {"a+b", true, "a+b"},
      {"%25", true, "%"},       {"%e2%82%ac", true, "\xe2\x82\xac"},
      {"%", false, ""},         {"%4", false, ""},
      {"abc%", false, ""},      {"%G0", false, ""},
      {"%0g", false, ""},       {"%%41", false, ""},
  };
  for (const auto& c : cases) {
    std::string out = "stale";
    EXPECT_EQ(percent_decode(c.in, &out), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(out, c.out) << c.in;
    }
  }
  std::string nul;
  ASSERT_TRUE(percent_decode("a%00b", &nul));
  EXPECT_EQ(nul, std::string("a\0b", 3));
}

}  // namespace
}  // namespace onestack::http

namespace onestack::http {
namespace {

TEST(QueryParams, RemoveDropsEveryValueOfTheKeyAndKeepsTheOrderOfTheRest) {
  QueryParams q;
  q.add("version-id", "1", true);
  q.add("a", "x", true);
  q.add("version-id", "2", true);
  q.add("b", "", false);
  q.remove("version-id");
  EXPECT_FALSE(q.has("version-id"));
  ASSERT_EQ(q.items().size(), 2u);
  EXPECT_EQ(q.items()[0].key, "a");
  EXPECT_EQ(q.items()[1].key, "b");
  q.remove("missing");
  EXPECT_EQ(q.items().size(), 2u);
}

}  // namespace
}  // namespace onestack::http
