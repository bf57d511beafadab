// The long-job body of bulk and SLO requests: heartbeats while the job
// runs, the result after, and the job carried through when the body goes.
#include "object/api/heartbeat.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace onestack::object::api {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A job that takes `delay` and then answers "done", noting that it ended.
Job slow_job(std::chrono::milliseconds delay, bool* ended) {
  return [delay, ended]() -> asio::awaitable<std::string> {
    asio::steady_timer t(co_await asio::this_coro::executor, delay);
    co_await t.async_wait(asio::use_awaitable);
    *ended = true;
    co_return "done";
  };
}

// Every piece the body gives, up to its end.
asio::awaitable<void> drain(std::shared_ptr<http::BodySource> body, std::vector<std::string>* out) {
  for (;;) {
    auto piece = co_await body->next();
    if (!piece.ok() || piece->end) co_return;
    out->emplace_back(piece->data);
  }
}

TEST(HeartbeatBody, BeatsWhileTheJobRunsThenSendsTheResult) {
  asio::io_context io;
  bool ended = false;
  HeartbeatOptions options{.interval = 20ms, .first_beat = "<?xml?>\n", .beat = " "};
  auto body = heartbeat_body(slow_job(110ms, &ended), options);
  EXPECT_FALSE(body->size());
  std::vector<std::string> pieces;
  asio::co_spawn(io, drain(body, &pieces), asio::detached);
  io.run();
  ASSERT_TRUE(ended);
  ASSERT_GE(pieces.size(), 3u);
  EXPECT_EQ(pieces.front(), "<?xml?>\n");
  for (size_t i = 1; i + 1 < pieces.size(); ++i) EXPECT_EQ(pieces[i], " ");
  EXPECT_EQ(pieces.back(), "\r\n\r\ndone");
}

TEST(HeartbeatBody, AQuickJobIsJustItsResult) {
  asio::io_context io;
  bool ended = false;
  auto body = heartbeat_body(slow_job(1ms, &ended), HeartbeatOptions{.interval = 10s});
  std::vector<std::string> pieces;
  asio::co_spawn(io, drain(body, &pieces), asio::detached);
  io.run();
  EXPECT_EQ(pieces, (std::vector<std::string>{"done"}));
}

TEST(HeartbeatBody, TheJobEndsWhenTheClientLeaves) {
  asio::io_context io;
  bool ended = false;
  {
    auto body = heartbeat_body(slow_job(50ms, &ended), HeartbeatOptions{.interval = 10ms});
    asio::co_spawn(
        io, [body]() -> asio::awaitable<void> { (void)co_await body->next(); }, asio::detached);
    io.run_for(15ms);
  }
  EXPECT_FALSE(ended);
  io.restart();
  io.run();
  EXPECT_TRUE(ended);
}

TEST(FinishedBody, IsOneChunkedPiece) {
  asio::io_context io;
  auto body = finished_body("result");
  EXPECT_FALSE(body->size());
  std::vector<std::string> pieces;
  asio::co_spawn(io, drain(body, &pieces), asio::detached);
  io.run();
  EXPECT_EQ(pieces, (std::vector<std::string>{"result"}));
}

}  // namespace
}  // namespace onestack::object::api
