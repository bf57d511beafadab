#include "support/test_server.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <cstdlib>

namespace onestack::test_support {

namespace beast_http = http::beast_http;

beast_http::status status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return beast_http::status::not_found;
    case ErrorCode::kConflict: return beast_http::status::conflict;
    case ErrorCode::kUnauthenticated: return beast_http::status::unauthorized;
    case ErrorCode::kForbidden: return beast_http::status::forbidden;
    case ErrorCode::kInvalidArgument: return beast_http::status::bad_request;
    case ErrorCode::kPreconditionFailed: return beast_http::status::precondition_failed;
    case ErrorCode::kRangeNotSatisfiable: return beast_http::status::range_not_satisfiable;
    case ErrorCode::kTooLarge: return beast_http::status::payload_too_large;
    case ErrorCode::kInsufficientStorage: return beast_http::status::insufficient_storage;
    case ErrorCode::kUnavailable: return beast_http::status::service_unavailable;
    case ErrorCode::kMethodNotAllowed: return beast_http::status::method_not_allowed;
    case ErrorCode::kNotImplemented: return beast_http::status::not_implemented;
    case ErrorCode::kNotAcceptable: return beast_http::status::not_acceptable;
    case ErrorCode::kLengthRequired: return beast_http::status::length_required;
    case ErrorCode::kUnprocessable: return beast_http::status::unprocessable_entity;
    case ErrorCode::kOverQuota: return beast_http::status::forbidden;
    case ErrorCode::kInternal: return beast_http::status::internal_server_error;
  }
  return beast_http::status::internal_server_error;
}

http::Response test_error_response(const Error& e) {
  auto status = status_for(e.code);
  boost::json::value body = {{"error",
                              {{"code", static_cast<int>(status)},
                               {"title", std::string(error_code_name(e.code))},
                               {"message", e.message}}}};
  return http::Response::json(status, boost::json::serialize(body));
}

TestServer::TestServer(http::Router router, TestServerOptions options)
    : router_(std::move(router)), done_future_(done_.get_future().share()) {
  server_ = std::make_unique<http::Server>(options.io_threads, options.limits, options.validator);
  http::ListenerConfig config;
  config.service = options.service;
  config.host = "127.0.0.1";
  config.port = 0;
  config.router = &router_;
  config.error_responder = options.error_responder;
  config.tls = options.tls;
  auto port = server_->add_listener(std::move(config));
  if (!port.ok()) {
    std::fprintf(stderr, "TestServer: %s\n", port.error().message.c_str());
    std::abort();
  }
  port_ = *port;
  thread_ = std::thread([this] {
    server_->run(false);
    done_.set_value();
  });
}

TestServer::~TestServer() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void TestServer::stop() { server_->stop(); }

bool TestServer::wait_stopped(std::chrono::milliseconds timeout) {
  return done_future_.wait_for(timeout) == std::future_status::ready;
}

}  // namespace onestack::test_support
