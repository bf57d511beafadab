// An http::Server for tests: serves a Router on 127.0.0.1, port 0, from a
// background thread, so a test can talk to it over real sockets and then
// stop it. Limits and timeouts are per test, so timeout tests can use
// milliseconds instead of the production defaults.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "core/auth/token_validator.h"
#include "core/http/router.h"
#include "core/http/server.h"
#include "core/result.h"

namespace onestack::test_support {

// Maps an ErrorCode to the HTTP status the test error format uses.
http::beast_http::status status_for(ErrorCode code);

// A small stand-in for a service's error dialect:
// {"error":{"code":413,"title":"too_large","message":"..."}} with the matching
// status and Content-Type application/json. Thread-safe.
http::Response test_error_response(const Error& e);

struct TestServerOptions {
  size_t io_threads = 1;
  http::ServerLimits limits;
  const auth::TokenValidator* validator = nullptr;  // not owned; outlives the server
  std::shared_ptr<boost::asio::ssl::context> tls;   // null: plain HTTP
  std::string service = "test";
  http::ErrorResponder error_responder = test_error_response;
};

class TestServer {
 public:
  // Binds 127.0.0.1:0 with `router` (which the TestServer owns) and starts
  // run() on a background thread. Aborts the test binary if it cannot bind.
  explicit TestServer(http::Router router, TestServerOptions options = {});
  // stop(), then waits for run() to return.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }
  http::Server& server() { return *server_; }
  const http::Router& router() const { return router_; }

  // Starts a graceful shutdown; returns at once. Idempotent, thread-safe.
  void stop();
  // Waits up to `timeout` for run() to return; true if it did.
  bool wait_stopped(std::chrono::milliseconds timeout);

 private:
  http::Router router_;  // declared before server_: the server points at it
  std::unique_ptr<http::Server> server_;
  uint16_t port_ = 0;
  std::promise<void> done_;
  std::shared_future<void> done_future_;
  std::thread thread_;
};

}  // namespace onestack::test_support
