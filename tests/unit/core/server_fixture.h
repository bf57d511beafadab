// Routes, handlers and a fake TokenValidator shared by the HTTP server tests.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <regex>
#include <string>

#include "core/auth/token_validator.h"
#include "core/http/router.h"
#include "core/worker_pool.h"

namespace onestack::http::test {

// What the handlers count and how slow ones behave. Outlives the server.
struct HandlerState {
  std::atomic<int> calls{0};         // every handler call
  std::atomic<int> counted{0};       // POST /count
  std::atomic<int> slow_entered{0};  // /slow and /pool handlers that started
  std::chrono::milliseconds slow_delay{300};
  WorkerPool* pool = nullptr;  // for GET /pool; not owned
};

// The test service's routes:
//   POST /echo            JSON object body -> {"echo": body, "method": ...}
//   GET  /items/{id}      "item:<id>" as text/plain
//   PUT  /items/{id}      "stored <n> bytes"
//   POST /count           counts calls, answers 204
//   GET  /throw           throws std::runtime_error
//   GET  /whoami          "user:<id>", "error:<code>" or "anonymous"
//   GET  /query           the decoded query as "k=v;" pairs
//   GET  /slow            waits slow_delay on a timer, then "slow done"
//   GET  /pool            sleeps slow_delay on the worker pool, then "pool done"
//   GET  /vary            two Vary response headers
//   GET  /files/{path+}   "file:<path>"
//   GET  /scheme          "https" when the request came over TLS, else "http"
Router make_test_router(HandlerState* state);

// Accepts the token "good" (user "u1", project "p1"); rejects everything
// else with kUnauthenticated. Counts calls.
class FakeValidator : public auth::TokenValidator {
 public:
  Result<auth::AuthContext> validate(std::string_view token, bool allow_expired) const override;
  mutable std::atomic<int> calls{0};
};

// Polls `pred` every millisecond until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// "req-" followed by a dashed uuid4.
inline const std::regex& request_id_shape() {
  static const std::regex re(
      "req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  return re;
}

}  // namespace onestack::http::test
