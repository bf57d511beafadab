// End-to-end tests of http::Server over real sockets on 127.0.0.1: routing,
// framing, the built-in endpoints, auth attachment and error handling.
#include "core/http/server.h"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"
#include "server_fixture.h"
#include "support/raw_client.h"
#include "support/test_server.h"

namespace onestack::http::test {
namespace {

using test_support::http_request;
using test_support::RawClient;
using test_support::RawResponse;
using test_support::TestServer;
using test_support::TestServerOptions;
using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void start(TestServerOptions options = {}) {
    server_ = std::make_unique<TestServer>(make_test_router(&state_), std::move(options));
  }
  uint16_t port() const { return server_->port(); }

  // Sends `request` on a fresh connection and returns the response.
  RawResponse roundtrip(std::string_view method, std::string_view target,
                        std::string_view body = {}, const std::vector<std::string>& headers = {}) {
    auto r = http_request(port(), method, target, body, headers);
    EXPECT_TRUE(r.has_value()) << method << " " << target << ": no response";
    return r.value_or(RawResponse{});
  }

  HandlerState state_;
  FakeValidator validator_;
  std::unique_ptr<TestServer> server_;
};

// The test error format: {"error":{"code":N,"title":"...","message":"..."}}.
void expect_error_body(const RawResponse& r, int code, std::string_view title) {
  EXPECT_EQ(r.status, code);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  auto o = parse_json_object(r.body);
  ASSERT_TRUE(o.ok()) << r.body;
  auto* err = (*o).if_contains("error");
  ASSERT_TRUE(err && err->is_object()) << r.body;
  EXPECT_EQ(err->as_object().at("code"), code) << r.body;
  const auto& t = err->as_object().at("title");
  EXPECT_TRUE(t.is_string() && t.as_string() == title) << r.body;
  EXPECT_TRUE(err->as_object().at("message").is_string());
}

TEST_F(ServerTest, EchoesAJsonBody) {
  start();
  auto r =
      roundtrip("POST", "/echo", R"({"name":"x","n":[1,2]})", {"Content-Type: application/json"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.body, R"({"echo":{"name":"x","n":[1,2]},"method":"POST"})");
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
}

TEST_F(ServerTest, HandlerErrorsUseTheHandlersResponse) {
  start();
  auto r = roundtrip("POST", "/echo", "[1]");
  expect_error_body(r, 400, "invalid_argument");
}

TEST_F(ServerTest, ServesTwoRequestsOnOneKeepAliveConnection) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(test_support::format_request("GET", "/items/a")));
  auto first = c.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "item:a");
  EXPECT_NE(first->header("Connection"), "close");
  ASSERT_TRUE(c.send(test_support::format_request("GET", "/items/b")));
  auto second = c.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "item:b");
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrder) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(test_support::format_request("GET", "/items/1") +
                     test_support::format_request("PUT", "/items/2", "abc") +
                     test_support::format_request("GET", "/items/3")));
  auto a = c.read_response();
  auto b = c.read_response();
  auto d = c.read_response();
  ASSERT_TRUE(a && b && d);
  EXPECT_EQ(a->body, "item:1");
  EXPECT_EQ(b->status, 201);
  EXPECT_EQ(b->body, "stored 3 bytes");
  EXPECT_EQ(d->body, "item:3");
}

TEST_F(ServerTest, DecodesAChunkedRequestBody) {
  start();
  RawClient c(port());
  ASSERT_TRUE(
      c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "7\r\n{\"msg\":\r\n"
             "5;ext=1\r\n\"hi\"}\r\n"
             "0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"echo":{"msg":"hi"},"method":"POST"})");
}

TEST_F(ServerTest, SendsContinueBeforeReadingAnExpectedBody) {
  start();
  RawClient c(port());
  const std::string body = R"({"a":true})";
  ASSERT_TRUE(
      c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: " +
             std::to_string(body.size()) + "\r\n\r\n"));
  auto cont = c.read_response(2s);
  ASSERT_TRUE(cont) << "no interim response";
  EXPECT_EQ(cont->status, 100);
  EXPECT_TRUE(cont->raw.starts_with("HTTP/1.1 100 Continue\r\n")) << cont->raw;
  ASSERT_TRUE(c.send(body));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"echo":{"a":true},"method":"POST"})");
}

TEST_F(ServerTest, EveryResponseCarriesAFreshRequestIdAndADate) {
  TestServerOptions options;
  options.limits.max_header_count = 5;
  start(std::move(options));
  std::vector<RawResponse> responses = {
      roundtrip("GET", "/items/x"),
      roundtrip("GET", "/nowhere"),
      roundtrip("DELETE", "/items/x"),
      roundtrip("GET", "/throw"),
      roundtrip("GET", "/healthcheck"),
      roundtrip("GET", "/metrics"),
      roundtrip("HEAD", "/items/x"),
      roundtrip("POST", "/count", "x"),
      roundtrip("GET", "/query?%zz"),
      roundtrip("GET", "/items/x", {}, {"A: 1", "B: 2", "C: 3", "D: 4", "E: 5"}),
  };
  std::set<std::string> ids;
  for (const auto& r : responses) {
    std::string id = r.header("x-openstack-request-id");
    EXPECT_TRUE(std::regex_match(id, request_id_shape())) << r.status << ": '" << id << "'";
    ids.insert(id);
    EXPECT_TRUE(std::regex_match(
        r.header("Date"), std::regex("(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d [A-Z][a-z]{2} \\d{4} "
                                     "\\d\\d:\\d\\d:\\d\\d GMT")))
        << r.header("Date");
  }
  EXPECT_EQ(ids.size(), responses.size());
}

TEST_F(ServerTest, HeadSendsHeadersWithContentLengthAndNoBody) {
  start();
  RawClient c(port());
  // A GET right behind the HEAD shows no body bytes followed the HEAD's head.
  ASSERT_TRUE(c.send(test_support::format_request("HEAD", "/items/abc") +
                     test_support::format_request("GET", "/items/next")));
  auto head = c.read_response(5s, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), "8");  // "item:abc"
  EXPECT_EQ(head->header("Content-Type"), "text/plain");
  auto get = c.read_response();
  ASSERT_TRUE(get);
  EXPECT_TRUE(get->raw.starts_with("HTTP/1.1 200")) << get->raw;
  EXPECT_EQ(get->body, "item:next");
}

TEST_F(ServerTest, HeadOfAnUnknownPathGets404HeadersOnly) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(test_support::format_request("HEAD", "/nowhere") +
                     test_support::format_request("GET", "/items/next")));
  auto head = c.read_response(5s, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
  EXPECT_NE(head->header("Content-Length"), "0");
  auto get = c.read_response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "item:next");
}

TEST_F(ServerTest, KeepsTheConnectionAfter404And405) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(test_support::format_request("GET", "/nowhere") +
                     test_support::format_request("DELETE", "/items/x") +
                     test_support::format_request("GET", "/items/x")));
  auto a = c.read_response();
  auto b = c.read_response();
  auto d = c.read_response();
  ASSERT_TRUE(a && b && d);
  EXPECT_EQ(a->status, 404);
  EXPECT_EQ(b->status, 405);
  EXPECT_EQ(d->body, "item:x");
}

TEST_F(ServerTest, AnswersAClientThatHalfClosesAfterItsRequest) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(test_support::format_request("PUT", "/items/x", "abcd")));
  c.shutdown_write();
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "stored 4 bytes");
  EXPECT_TRUE(c.wait_closed(2s));
}

TEST_F(ServerTest, UnknownPathGetsTheErrorRespondersNotFound) {
  start();
  auto r = roundtrip("GET", "/no/such/thing");
  expect_error_body(r, 404, "not_found");
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerTest, WrongMethodGets405WithAllow) {
  start();
  auto r = roundtrip("DELETE", "/items/x");
  expect_error_body(r, 405, "method_not_allowed");
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, PUT");  // HEAD falls back to GET
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerTest, PassesDecodedPathParametersToTheHandler) {
  start();
  EXPECT_EQ(roundtrip("GET", "/items/a%20b").body, "item:a b");
  EXPECT_EQ(roundtrip("GET", "/files/dir/sub/x%2Fy").body, "file:dir/sub/x/y");
  expect_error_body(roundtrip("GET", "/items/%zz"), 404, "not_found");
}

TEST_F(ServerTest, ParsesAndDecodesTheQueryString) {
  start();
  auto r = roundtrip("GET", "/query?name=a%20b&flag&plus=x+y&empty=&&enc%3D=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "name=a b;flag;plus=x y;empty=;enc==1;");
}

TEST_F(ServerTest, RejectsAMalformedQueryWith400) {
  start();
  auto r = roundtrip("GET", "/query?bad=%zz");
  expect_error_body(r, 400, "invalid_argument");
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerTest, HealthcheckAnswersGetAndHead) {
  start();
  auto get = roundtrip("GET", "/healthcheck");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "OK");
  auto head = roundtrip("HEAD", "/healthcheck");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "2");
  EXPECT_TRUE(head.body.empty());
}

TEST_F(ServerTest, MetricsListTheRouteAfterARequest) {
  start();
  roundtrip("GET", "/items/a");
  roundtrip("GET", "/items/b");
  roundtrip("GET", "/nowhere");
  auto m = roundtrip("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_TRUE(m.header("Content-Type").starts_with("text/plain")) << m.header("Content-Type");
  EXPECT_NE(m.body.find("onestack_http_requests_total{service=\"test\",route=\"GET /items/{id}\","
                        "code=\"2xx\"} 2\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("onestack_http_requests_total{service=\"test\",route=\"unmatched\","
                        "code=\"4xx\"} 1\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("onestack_http_request_duration_seconds_count{service=\"test\","
                        "route=\"GET /items/{id}\"} 2\n"),
            std::string::npos)
      << m.body;
}

TEST_F(ServerTest, AThrowingHandlerGets500AndTheConnectionSurvives) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(test_support::format_request("GET", "/throw")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_error_body(*r, 500, "internal");
  EXPECT_EQ(r->body.find("handler bug"), std::string::npos) << "exception text leaked";
  EXPECT_NE(r->header("Connection"), "close");
  ASSERT_TRUE(c.send(test_support::format_request("GET", "/items/after")));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "item:after");
}

TEST_F(ServerTest, AttachesAnAuthContextForAnAcceptedToken) {
  TestServerOptions options;
  options.validator = &validator_;
  start(std::move(options));
  EXPECT_EQ(roundtrip("GET", "/whoami", {}, {"X-Auth-Token: good"}).body, "user:u1 project:p1");
  EXPECT_EQ(roundtrip("GET", "/whoami", {}, {"X-Auth-Token: forged"}).body,
            "error:unauthenticated");
  EXPECT_EQ(roundtrip("GET", "/whoami").body, "anonymous");
  EXPECT_EQ(validator_.calls.load(), 2);
}

TEST_F(ServerTest, LeavesTokensAloneWithoutAValidator) {
  start();
  EXPECT_EQ(roundtrip("GET", "/whoami", {}, {"X-Auth-Token: good"}).body, "anonymous");
}

TEST_F(ServerTest, DoesNotValidateTokensForUnroutedRequests) {
  TestServerOptions options;
  options.validator = &validator_;
  start(std::move(options));
  roundtrip("GET", "/nowhere", {}, {"X-Auth-Token: good"});
  roundtrip("GET", "/healthcheck", {}, {"X-Auth-Token: good"});
  EXPECT_EQ(validator_.calls.load(), 0);
}

TEST_F(ServerTest, AnswersHttp10WithoutKeepAliveAndCloses) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send("GET /items/old HTTP/1.0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "item:old");
  EXPECT_TRUE(c.wait_closed(2s));
}

TEST_F(ServerTest, HonoursConnectionCloseFromTheClient) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(test_support::format_request("GET", "/items/x", {}, {"Connection: close"})));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed(2s));
}

TEST_F(ServerTest, NoContentResponsesHaveNoBodyAndKeepTheConnection) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(test_support::format_request("POST", "/count", "x") +
                     test_support::format_request("GET", "/items/y")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_FALSE(r->has_header("Content-Length"));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "item:y");
}

// Response headers may repeat (Vary, Link, Set-Cookie). The server copies a
// handler's headers with fields::set(), which replaces earlier values of the
// same name; all of them must reach the client.
TEST_F(ServerTest, KeepsRepeatedResponseHeaders) {
  start();
  auto r = roundtrip("GET", "/vary");
  EXPECT_EQ(r.header_count("Vary"), 2u) << r.raw;
}

TEST_F(ServerTest, ServesManyConcurrentConnections) {
  TestServerOptions options;
  options.io_threads = 2;
  start(std::move(options));
  constexpr int kClients = 200;
  std::vector<RawClient> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(port());
    ASSERT_TRUE(clients.back().connected()) << i;
  }
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(
        clients[i].send(test_support::format_request("GET", "/items/" + std::to_string(i))));
  }
  // A second round on the same connections proves they are all kept alive.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kClients; ++i) {
      auto r = clients[i].read_response(10s);
      ASSERT_TRUE(r) << "client " << i << " round " << round;
      EXPECT_EQ(r->body, "item:" + std::to_string(i));
      if (round == 0) {
        ASSERT_TRUE(
            clients[i].send(test_support::format_request("GET", "/items/" + std::to_string(i))));
      }
    }
  }
  EXPECT_EQ(state_.calls.load(), 2 * kClients);
}

TEST_F(ServerTest, ClosesAConnectionThatSendsGarbage) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send("THIS IS NOT HTTP\r\n\r\n"));
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);
}

}  // namespace
}  // namespace onestack::http::test
