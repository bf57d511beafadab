// The HTTP server: why this exists.
//
// One io_context per core, each run by one thread; listeners accept on the
// first and hand sockets round-robin to all. A connection is one coroutine
// that reads a request header, applies the limits, answers Expect:
// 100-continue, reads the (bounded) body, attaches the request id and the
// caller's AuthContext, routes, runs the handler, writes the response, logs
// one access line and records metrics, then loops for keep-alive. Every read
// and write has a deadline. stop() drains: no new connections, idle ones
// closed, busy ones finish their current response, then run() returns.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/auth/token_validator.h"
#include "core/http/metrics.h"
#include "core/http/router.h"
#include "core/worker_pool.h"

namespace onestack::http {

struct ServerLimits {
  size_t max_header_bytes = 16 * 1024;
  // Swift's proxy takes up to 201 (MAX_HEADER_COUNT x 1.6): 90 metadata
  // items and the usual headers fit with room to spare.
  size_t max_header_count = 201;
  size_t max_body_bytes = 1024 * 1024;  // buffered (JSON) bodies
  // Streamed bodies (object uploads): Swift's max_file_size plus its slack.
  uint64_t max_stream_body_bytes = 5368709122ULL;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{30'000};
};

// Turns an Error into the service dialect's response (Keystone's JSON body,
// Swift's text). Called for routing, limit and auth failures the core itself
// detects, and by handlers for their own errors.
using ErrorResponder = std::function<Response(const Error&)>;

struct ListenerConfig {
  std::string service;  // "identity": the metrics and access-log label
  std::string host = "127.0.0.1";
  uint16_t port = 0;               // 0 picks a free port
  const Router* router = nullptr;  // not owned; outlives the server
  ErrorResponder error_responder;
  // Called on every response of this listener just before it is written,
  // the core's own 404/405/413 answers included (Swift gives each one a
  // transaction id). May be empty.
  std::function<void(const Request&, Response&)> finalize;
  // Answers a request whose path no route matches (with the body buffered
  // and the token validated, as a route's handler), instead of the core's
  // 404: a dialect may have its own rules for such paths (Swift answers
  // 412 "Bad URL" or 400 for some). May be empty.
  Handler fallback;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null for plain HTTP
};

class Server {
 public:
  // `threads` I/O threads (0: one per core). `validator` may be null (no
  // token handling); it is not owned and must outlive the server.
  Server(size_t threads, ServerLimits limits, const auth::TokenValidator* validator);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds a listener; returns the bound port. kUnavailable if the address
  // cannot be bound. Call before run().
  Result<uint16_t> add_listener(ListenerConfig config);

  // Serves until stop() or SIGINT/SIGTERM (if `handle_signals`), then drains
  // and returns. Blocks the calling thread.
  void run(bool handle_signals);

  // Starts a graceful shutdown. Thread-safe, idempotent.
  void stop();

  Metrics& metrics() { return metrics_; }

  // The pool that runs blocking work the server itself needs: the
  // validator's sync() (token_validator.h). Not owned; set before run().
  // Without one, a validator that needs sync() is never synced.
  void set_blocking_pool(WorkerPool* pool) { blocking_pool_ = pool; }

  struct Listener;  // internal: one bound listener and its state

 private:
  struct SessionEntry;
  template <typename Stream>
  friend class Connection;

  boost::asio::io_context& next_context();
  void register_session(uint64_t id, boost::asio::io_context* ctx, std::function<void()> cancel);
  void unregister_session(uint64_t id);
  void close_idle_sessions();

  ServerLimits limits_;
  const auth::TokenValidator* validator_;
  WorkerPool* blocking_pool_ = nullptr;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  Metrics metrics_;
  std::atomic<size_t> next_ctx_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_session_id_{1};

  std::mutex sessions_mu_;  // guards sessions_
  std::unordered_map<uint64_t, SessionEntry*> sessions_;
};

}  // namespace onestack::http
