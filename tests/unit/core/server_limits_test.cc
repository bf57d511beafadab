// http::Server limits, timeouts and graceful shutdown, with small limits and
// millisecond timeouts so each test runs quickly.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/http/server.h"
#include "core/json.h"
#include "core/worker_pool.h"
#include "server_fixture.h"
#include "support/raw_client.h"
#include "support/test_server.h"

namespace onestack::http::test {
namespace {

using test_support::format_request;
using test_support::RawClient;
using test_support::RawResponse;
using test_support::TestServer;
using test_support::TestServerOptions;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class ServerLimitsTest : public ::testing::Test {
 protected:
  void start(TestServerOptions options = {}) {
    server_ = std::make_unique<TestServer>(make_test_router(&state_), std::move(options));
  }
  uint16_t port() const { return server_->port(); }

  WorkerPool pool_{2};
  HandlerState state_;
  std::unique_ptr<TestServer> server_;  // declared last: stops first
};

void expect_error_title(const RawResponse& r, std::string_view title) {
  auto o = parse_json_object(r.body);
  ASSERT_TRUE(o.ok()) << r.body;
  const auto& t = o->at("error").as_object().at("title");
  EXPECT_TRUE(t.is_string() && t.as_string() == title) << r.body;
}

// Beast's parser checks Content-Length against its body limit while it parses
// the header; the server must still answer 413 rather than just close.
TEST_F(ServerLimitsTest, RejectsAContentLengthOverTheLimitBeforeTheHandler) {
  TestServerOptions options;
  options.limits.max_body_bytes = 1024;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("POST", "/count", std::string(2000, 'x'))));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  expect_error_title(*r, "too_large");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, AcceptsABodyExactlyAtTheLimit) {
  TestServerOptions options;
  options.limits.max_body_bytes = 1024;
  start(std::move(options));
  auto r = test_support::http_request(port(), "PUT", "/items/x", std::string(1024, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "stored 1024 bytes");
}

TEST_F(ServerLimitsTest, RejectsAChunkedBodyThatGrowsOverTheLimit) {
  TestServerOptions options;
  options.limits.max_body_bytes = 1024;
  start(std::move(options));
  RawClient c(port());
  std::string chunk(600, 'x');
  ASSERT_TRUE(
      c.send("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "258\r\n" +
             chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  expect_error_title(*r, "too_large");
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);
}

// The client must get 413, not 100 Continue and not a silent close.
TEST_F(ServerLimitsTest, AnswersAnOversizedExpectedBodyWithoutContinue) {
  TestServerOptions options;
  options.limits.max_body_bytes = 1024;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(
      c.send("PUT /items/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: 5000\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, RejectsHeadersOverTheByteLimitAndCloses) {
  TestServerOptions options;
  options.limits.max_header_bytes = 1024;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/items/x", {}, {"X-Big: " + std::string(1500, 'a')})));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->status == 413 || r->status == 431) << r->status;
  expect_error_title(*r, "too_large");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(std::regex_match(r->header("x-openstack-request-id"), request_id_shape()));
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, AnswersAHugeHeaderBeforeClosing) {
  TestServerOptions options;
  options.limits.max_header_bytes = 1024;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(
      c.send(format_request("GET", "/items/x", {}, {"X-Big: " + std::string(200000, 'a')})));
  auto r = c.read_response();
  ASSERT_TRUE(r) << "413 lost; got: " << c.pending().substr(0, 200);
  EXPECT_TRUE(r->status == 413 || r->status == 431) << r->status;
}

TEST_F(ServerLimitsTest, AcceptsHeadersJustUnderTheByteLimit) {
  TestServerOptions options;
  options.limits.max_header_bytes = 1024;
  start(std::move(options));
  auto r = test_support::http_request(port(), "GET", "/items/x", {},
                                      {"X-Big: " + std::string(900, 'a')});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerLimitsTest, RejectsTooManyHeaderFieldsAndCloses) {
  TestServerOptions options;
  options.limits.max_header_count = 10;
  start(std::move(options));
  std::vector<std::string> headers;
  for (int i = 0; i < 20; ++i) headers.push_back("X-H" + std::to_string(i) + ": v");
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/items/x", {}, headers)));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->status == 413 || r->status == 431) << r->status;
  expect_error_title(*r, "too_large");
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);

  headers.resize(8);  // with Host: 9 fields
  auto ok = test_support::http_request(port(), "GET", "/items/x", {}, headers);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerLimitsTest, ClosesAnIdleKeepAliveConnectionAfterTheIdleTimeout) {
  TestServerOptions options;
  options.limits.idle_timeout = 200ms;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/items/x")));
  ASSERT_TRUE(c.read_response());
  auto t0 = Clock::now();
  EXPECT_TRUE(c.wait_closed(3s));
  auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 2s);
  EXPECT_TRUE(c.pending().empty()) << c.pending();
}

TEST_F(ServerLimitsTest, CutsOffAClientThatStallsHalfwayThroughTheHeader) {
  TestServerOptions options;
  options.limits.idle_timeout = 200ms;
  options.limits.read_timeout = 200ms;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send("GET /items/x HTTP/1.1\r\nHost: x\r\nX-Partial: "));
  auto t0 = Clock::now();
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, CutsOffABodyThatStallsWithTheReadTimeout) {
  TestServerOptions options;
  options.limits.idle_timeout = 10s;  // must not be the one that fires
  options.limits.read_timeout = 200ms;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send("PUT /items/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
  auto t0 = Clock::now();
  EXPECT_TRUE(c.wait_closed(3s));
  auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, StopLetsAnInFlightTimerHandlerFinishWithConnectionClose) {
  state_.slow_delay = 300ms;
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/slow")));
  ASSERT_TRUE(wait_until([&] { return state_.slow_entered.load() == 1; }));
  server_->stop();
  auto r = c.read_response(3s);
  ASSERT_TRUE(r) << "in-flight response lost on stop";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "slow done");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_TRUE(server_->wait_stopped(3s));
}

TEST_F(ServerLimitsTest, StopLetsAnInFlightPoolJobFinishWithConnectionClose) {
  state_.slow_delay = 300ms;
  state_.pool = &pool_;
  TestServerOptions options;
  options.io_threads = 2;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/pool")));
  ASSERT_TRUE(wait_until([&] { return state_.slow_entered.load() == 1; }));
  server_->stop();
  auto r = c.read_response(3s);
  ASSERT_TRUE(r) << "in-flight response lost on stop";
  EXPECT_EQ(r->body, "pool done");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(server_->wait_stopped(3s));
}

TEST_F(ServerLimitsTest, StopClosesIdleKeepAliveConnectionsPromptly) {
  TestServerOptions options;
  options.io_threads = 2;  // connections land on both io threads
  start(std::move(options));
  std::vector<RawClient> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back(port());
    ASSERT_TRUE(clients.back().send(format_request("GET", "/items/x")));
    ASSERT_TRUE(clients.back().read_response());
  }
  RawClient never_sent(port());  // connected, no request yet
  ASSERT_TRUE(never_sent.connected());
  auto t0 = Clock::now();
  server_->stop();
  for (auto& c : clients) EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_TRUE(never_sent.wait_closed(2s));
  EXPECT_TRUE(server_->wait_stopped(2s));
  EXPECT_LT(Clock::now() - t0, 1s);  // the idle timeout is a minute
}

// When the drain timeout abandons a connection, its coroutine never reaches
// unregister_session(); ~Server() must still free its entry (LeakSanitizer
// checks under the asan preset).
TEST_F(ServerLimitsTest, StopGivesUpOnAStuckHandlerAfterTheDrainTimeout) {
  state_.slow_delay = 10s;
  TestServerOptions options;
  options.limits.drain_timeout = 200ms;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/slow")));
  ASSERT_TRUE(wait_until([&] { return state_.slow_entered.load() == 1; }));
  auto t0 = Clock::now();
  server_->stop();
  EXPECT_TRUE(server_->wait_stopped(3s));
  EXPECT_LT(Clock::now() - t0, 2s);
  server_.reset();  // destroys the abandoned connection with the server
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(c.pending().find("slow done"), std::string::npos);
}

TEST_F(ServerLimitsTest, StopRefusesNewConnections) {
  start();
  server_->stop();
  ASSERT_TRUE(server_->wait_stopped(2s));
  RawClient c(port());
  if (c.connected()) {
    // The port may be reused by the kernel's backlog for a moment; no
    // response may come either way.
    c.send(format_request("GET", "/items/x"));
    EXPECT_FALSE(c.read_response(300ms));
  }
}

TEST_F(ServerLimitsTest, StopWithNothingInFlightReturnsPromptly) {
  start();
  auto t0 = Clock::now();
  server_->stop();
  EXPECT_TRUE(server_->wait_stopped(2s));
  EXPECT_LT(Clock::now() - t0, 1s);
}

}  // namespace
}  // namespace onestack::http::test
