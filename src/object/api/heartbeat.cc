#include "object/api/heartbeat.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <optional>

#include <spdlog/spdlog.h>

namespace onestack::object::api {

namespace {

namespace asio = boost::asio;

http::BodySource::Piece end_piece() {
  http::BodySource::Piece p;
  p.end = true;
  return p;
}

// What the job and the body share; the job may outlive the body.
struct Outcome {
  explicit Outcome(asio::any_io_executor ex) : wake(std::move(ex)) {}
  std::optional<std::string> result;
  asio::steady_timer wake;
};

class HeartbeatBody final : public http::BodySource {
 public:
  HeartbeatBody(Job job, HeartbeatOptions options)
      : job_(std::move(job)), options_(std::move(options)) {}

  std::optional<uint64_t> size() const override { return std::nullopt; }

  asio::awaitable<Result<Piece>> next() override {
    if (sent_result_) co_return end_piece();
    if (!outcome_) {
      start(co_await asio::this_coro::executor);
      if (options_.first_at_once) {
        piece_ = options_.first_beat;
        ++beats_;
        co_return Piece{.data = piece_};
      }
    }
    // One thread runs both coroutines: nothing ends the job between this
    // check and the wait, and the job's end cancels the wait.
    if (!outcome_->result) {
      outcome_->wake.expires_after(options_.interval);
      boost::system::error_code ec;
      co_await outcome_->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!outcome_->result) {
      piece_ = beats_++ == 0 ? options_.first_beat : options_.beat;
      co_return Piece{.data = piece_};
    }
    sent_result_ = true;
    piece_ = (beats_ > 0 ? "\r\n\r\n" : "") + *outcome_->result;
    co_return Piece{.data = piece_};
  }

 private:
  void start(asio::any_io_executor ex) {
    outcome_ = std::make_shared<Outcome>(ex);
    asio::co_spawn(
        ex,
        [outcome = outcome_, job = std::move(job_)]() -> asio::awaitable<void> {
          std::string result;
          try {
            result = co_await job();
          } catch (const std::exception& e) {
            spdlog::error("object: a long request's job failed: {}", e.what());
          }
          outcome->result = std::move(result);
          outcome->wake.cancel();
        },
        asio::detached);
  }

  Job job_;
  HeartbeatOptions options_;
  std::shared_ptr<Outcome> outcome_;
  std::string piece_;
  int beats_ = 0;
  bool sent_result_ = false;
};

class FinishedBody final : public http::BodySource {
 public:
  explicit FinishedBody(std::string result) : result_(std::move(result)) {}
  std::optional<uint64_t> size() const override { return std::nullopt; }
  asio::awaitable<Result<Piece>> next() override {
    if (sent_) co_return end_piece();
    sent_ = true;
    co_return Piece{.data = result_};
  }

 private:
  std::string result_;
  bool sent_ = false;
};

}  // namespace

std::shared_ptr<http::BodySource> heartbeat_body(Job job, HeartbeatOptions options) {
  return std::make_shared<HeartbeatBody>(std::move(job), std::move(options));
}

std::shared_ptr<http::BodySource> finished_body(std::string result) {
  return std::make_shared<FinishedBody>(std::move(result));
}

}  // namespace onestack::object::api
