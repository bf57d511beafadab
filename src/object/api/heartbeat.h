// A 200 (or 202) whose body is the outcome of a long job, sent the way
// Swift's bulk and SLO middlewares send theirs (bulk.py, slo.py with
// heartbeat=on): the status and headers go out at once with a chunked body;
// while the job runs, one heartbeat piece every `interval` keeps the client
// from timing out; when it ends, its result follows, set off by "\r\n\r\n"
// when a heartbeat went before it.
//
// The job runs on the connection's executor as a coroutine of its own and
// owns everything it uses, so a client that goes away mid-job stops the
// heartbeat, not the job: what it asked for is still done.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/http/response.h"

namespace onestack::object::api {

struct HeartbeatOptions {
  std::chrono::milliseconds interval{10000};  // Swift's yield_frequency
  std::string first_beat = " ";               // the XML declaration for XML bodies
  std::string beat = " ";
  bool first_at_once = false;  // slo.py beats once before any work
};

using Job = std::function<boost::asio::awaitable<std::string>()>;

// A chunked body that runs `job` when the connection first pulls it.
std::shared_ptr<http::BodySource> heartbeat_body(Job job, HeartbeatOptions options);
// A chunked body that is `result` (a job that already ended, as Swift's
// generators end when they fail before any work).
std::shared_ptr<http::BodySource> finished_body(std::string result);

}  // namespace onestack::object::api
