// The validate phase of object writes: numbers read as Python reads them,
// and each PUT check with Swift's status, message and media type.
#include "object/api/object_request.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <string>

#include "core/clock.h"

namespace onestack::object::api {
namespace {

TEST(PyInt, ReadsWhatPythonsIntReads) {
  EXPECT_EQ(py_int("42"), 42);
  EXPECT_EQ(py_int("  42\t"), 42);
  EXPECT_EQ(py_int("+7"), 7);
  EXPECT_EQ(py_int("-7"), -7);
  EXPECT_EQ(py_int("1_000"), 1000);
  EXPECT_EQ(py_int("007"), 7);
  for (const char* bad : {"", " ", "1.5", "1e3", "abc", "1__0", "_1", "1_", "+", "0x10", "1 2"}) {
    EXPECT_FALSE(py_int(bad).has_value()) << bad;
  }
}

TEST(PyFloat, ReadsWhatPythonsFloatReads) {
  EXPECT_DOUBLE_EQ(*py_float("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*py_float(" 2 "), 2.0);
  EXPECT_DOUBLE_EQ(*py_float(".5"), 0.5);
  EXPECT_DOUBLE_EQ(*py_float("5."), 5.0);
  EXPECT_DOUBLE_EQ(*py_float("1e3"), 1000.0);
  EXPECT_DOUBLE_EQ(*py_float("-1_0.2_5"), -10.25);
  EXPECT_TRUE(std::isinf(*py_float("inf")));
  EXPECT_TRUE(std::isnan(*py_float("nan")));
  for (const char* bad : {"", ".", "e3", "1e", "abc", "1..2", "1_.5", "0x1p3"}) {
    EXPECT_FALSE(py_float(bad).has_value()) << bad;
  }
}

http::Request put_request(std::initializer_list<std::pair<const char*, std::string>> headers) {
  http::Request req;
  req.method = bhttp::verb::put;
  for (const auto& [k, v] : headers) req.headers.insert(k, v);
  return req;
}

const Target kTarget{"AUTH_p", "c", "o.txt"};

struct PutCase {
  const char* what;
  std::initializer_list<std::pair<const char*, std::string>> headers;
  ErrorCode code;
  const char* message;
  bool plain;
};

TEST(ParseObjectPut, RefusesWhatSwiftsProxyRefusesWithItsWords) {
  const std::string future = std::to_string(std::time(nullptr) + 3600);
  const PutCase cases[] = {
      {"two codings",
       {{"Transfer-Encoding", "gzip, chunked"}},
       ErrorCode::kNotImplemented,
       "Unsupported Transfer-Coding header value specified in Transfer-Encoding header",
       true},
      {"not chunked",
       {{"Transfer-Encoding", "gzip"}},
       ErrorCode::kInvalidArgument,
       "Invalid Transfer-Encoding header value",
       true},
      {"no length", {}, ErrorCode::kLengthRequired, "Missing Content-Length header.", true},
      {"float delete-at",
       {{"Transfer-Encoding", "chunked"}, {"X-Delete-At", "1.5"}},
       ErrorCode::kInvalidArgument,
       "Non-integer X-Delete-At",
       true},
      {"past delete-at",
       {{"Transfer-Encoding", "chunked"}, {"X-Delete-At", "100"}},
       ErrorCode::kInvalidArgument,
       "X-Delete-At in past",
       true},
      {"zero delete-after",
       {{"Transfer-Encoding", "chunked"}, {"X-Delete-After", "0"}},
       ErrorCode::kInvalidArgument,
       "X-Delete-After in past",
       true},
      {"bad delete-after",
       {{"Transfer-Encoding", "chunked"}, {"X-Delete-After", "soon"}},
       ErrorCode::kInvalidArgument,
       "Non-integer X-Delete-After",
       true},
      {"swift_bytes",
       {{"Transfer-Encoding", "chunked"}, {"Content-Type", "text/plain; swift_bytes=3"}},
       ErrorCode::kInvalidArgument,
       "Invalid Content-Type, swift_* is not a valid parameter name.",
       false},
      {"bad type",
       {{"Transfer-Encoding", "chunked"}, {"Content-Type", "text/\xff"}},
       ErrorCode::kInvalidArgument,
       "Invalid Content-Type",
       true},
  };
  Limits limits;
  for (const auto& c : cases) {
    http::Request req = put_request(c.headers);
    auto w = parse_object_put(limits, req, kTarget);
    ASSERT_FALSE(w.ok()) << c.what;
    EXPECT_EQ(static_cast<int>(w.error().code), static_cast<int>(c.code)) << c.what;
    EXPECT_EQ(w.error().message, c.message) << c.what;
    EXPECT_EQ(w.error().media_type == "text/plain", c.plain) << c.what;
  }
}

TEST(ParseObjectPut, ReadsTheWriteItDescribes) {
  FakeClock clock;
  http::Request req = put_request({{"Transfer-Encoding", "chunked"},
                                   {"X-Delete-After", "100"},
                                   {"ETag", "\"ABC\""},
                                   {"If-None-Match", "*"},
                                   {"X-Object-Meta-Color", "blue"},
                                   {"X-Remove-Object-Meta-Size", "x"}});
  auto w = parse_object_put(Limits{}, req, kTarget, clock);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_FALSE(w->content_length.has_value());
  ASSERT_TRUE(w->delete_at.has_value());
  EXPECT_EQ(*w->delete_at, clock.now_unix() + 100);
  EXPECT_EQ(*w->etag, "ABC");  // quotes gone, case kept
  EXPECT_TRUE(w->if_none_match);
  EXPECT_EQ(*w->content_type, "text/plain");  // guessed from "o.txt"
  EXPECT_EQ(w->meta.at("x-object-meta-color"), "blue");
  EXPECT_EQ(w->removed, std::vector<std::string>{"x-object-meta-size"});
}

TEST(ParseObjectPut, CapsAFarXDeleteAtAsSwiftDoes) {
  http::Request req =
      put_request({{"Transfer-Encoding", "chunked"}, {"X-Delete-At", "99999999999"}});
  auto w = parse_object_put(Limits{}, req, kTarget);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w->delete_at, 9999999999);
}

TEST(CheckPutPreconditions, AcceptsOnlyAStarInIfNoneMatch) {
  EXPECT_TRUE(check_put_preconditions(put_request({{"If-None-Match", "*"}})).ok());
  EXPECT_TRUE(check_put_preconditions(put_request({})).ok());
  Status st = check_put_preconditions(put_request({{"If-None-Match", "\"abc\""}}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "If-None-Match only supports *");
  EXPECT_EQ(st.error().media_type, "text/plain");
}

TEST(ParseIfDeleteAt, ReadsASwiftTimestampOrRefuses) {
  auto none = parse_if_delete_at(put_request({}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto some = parse_if_delete_at(put_request({{"X-If-Delete-At", "1796000000.5"}}));
  ASSERT_TRUE(some.ok());
  EXPECT_DOUBLE_EQ(**some, 1796000000.5);
  for (const char* bad : {"soon", "-5", "inf"}) {
    auto r = parse_if_delete_at(put_request({{"X-If-Delete-At", bad}}));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message, "Bad X-If-Delete-At header value");
  }
}

}  // namespace
}  // namespace onestack::object::api
