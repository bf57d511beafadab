#include "server_fixture.h"

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "core/json.h"
#include "core/log.h"
#include "support/test_server.h"

namespace onestack::http::test {

namespace asio = boost::asio;
using asio::awaitable;
using Verb = beast_http::verb;

namespace {

Response text(std::string body) {
  return Response::with_body(beast_http::status::ok, std::move(body), "text/plain");
}

awaitable<Response> echo(HandlerState* st, Request& req) {
  ++st->calls;
  auto body = parse_json_object(req.body);
  if (!body.ok()) co_return test_support::test_error_response(body.error());
  boost::json::object out;
  out["echo"] = std::move(*body);
  out["method"] = req.method_name;
  co_return Response::json(beast_http::status::ok, to_json(out));
}

awaitable<Response> get_item(HandlerState* st, Request& req) {
  ++st->calls;
  co_return text("item:" + req.param(0));
}

awaitable<Response> put_item(HandlerState* st, Request& req) {
  ++st->calls;
  co_return Response::with_body(beast_http::status::created,
                                "stored " + std::to_string(req.body.size()) + " bytes",
                                "text/plain");
}

awaitable<Response> count(HandlerState* st, Request&) {
  ++st->calls;
  ++st->counted;
  co_return Response::empty(beast_http::status::no_content);
}

awaitable<Response> throws(HandlerState* st, Request&) {
  ++st->calls;
  throw std::runtime_error("handler bug");
  co_return Response{};
}

awaitable<Response> whoami(HandlerState* st, Request& req) {
  ++st->calls;
  if (req.auth) co_return text("user:" + req.auth->user_id + " project:" + req.auth->project_id);
  if (req.auth_error) co_return text("error:" + std::string(error_code_name(req.auth_error->code)));
  co_return text("anonymous");
}

awaitable<Response> query(HandlerState* st, Request& req) {
  ++st->calls;
  std::string out;
  for (const auto& i : req.query.items()) {
    out += i.key + (i.has_value ? "=" + i.value : "") + ";";
  }
  co_return text(out);
}

awaitable<Response> slow(HandlerState* st, Request&) {
  ++st->calls;
  ++st->slow_entered;
  asio::steady_timer timer(co_await asio::this_coro::executor, st->slow_delay);
  co_await timer.async_wait(asio::use_awaitable);
  co_return text("slow done");
}

awaitable<Response> pool_job(HandlerState* st, Request&) {
  ++st->calls;
  ++st->slow_entered;
  auto delay = st->slow_delay;
  auto job = [&delay] {
    std::this_thread::sleep_for(delay);
    return std::string("pool done");
  };
  std::string result = co_await st->pool->run(job);
  co_return text(result);
}

awaitable<Response> vary(HandlerState* st, Request&) {
  ++st->calls;
  Response r = text("varied");
  r.headers.insert(beast_http::field::vary, "Accept");
  r.headers.insert(beast_http::field::vary, "X-Auth-Token");
  co_return r;
}

awaitable<Response> file(HandlerState* st, Request& req) {
  ++st->calls;
  co_return text("file:" + req.param(0));
}

awaitable<Response> scheme(HandlerState* st, Request& req) {
  ++st->calls;
  co_return text(req.secure ? "https" : "http");
}

// The server writes an access line per request; at "warning" the suite's
// output stays readable. ONESTACK_TEST_LOG_LEVEL=info shows them.
class LogLevelEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* level = std::getenv("ONESTACK_TEST_LOG_LEVEL");
    init_logging(level ? level : "warning");
  }
};

[[maybe_unused]] ::testing::Environment* const kLogLevel =
    ::testing::AddGlobalTestEnvironment(new LogLevelEnvironment);

// Adapts a named coroutine taking the state to the Handler signature.
template <awaitable<Response> (*F)(HandlerState*, Request&)>
Handler bind(HandlerState* st) {
  return [st](Request& req) { return F(st, req); };
}

}  // namespace

Router make_test_router(HandlerState* st) {
  Router r;
  r.add(Verb::post, "/echo", bind<echo>(st));
  r.add(Verb::get, "/items/{id}", bind<get_item>(st));
  r.add(Verb::put, "/items/{id}", bind<put_item>(st));
  r.add(Verb::post, "/count", bind<count>(st));
  r.add(Verb::get, "/throw", bind<throws>(st));
  r.add(Verb::get, "/whoami", bind<whoami>(st));
  r.add(Verb::get, "/query", bind<query>(st));
  r.add(Verb::get, "/slow", bind<slow>(st));
  r.add(Verb::get, "/pool", bind<pool_job>(st));
  r.add(Verb::get, "/vary", bind<vary>(st));
  r.add(Verb::get, "/files/{path+}", bind<file>(st));
  r.add(Verb::get, "/scheme", bind<scheme>(st));
  return r;
}

Result<auth::AuthContext> FakeValidator::validate(std::string_view token, bool) const {
  ++calls;
  if (token != "good") return make_error(ErrorCode::kUnauthenticated, "bad token");
  auth::AuthContext ctx;
  ctx.user_id = "u1";
  ctx.project_id = "p1";
  ctx.role_names = {"member"};
  return ctx;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace onestack::http::test
