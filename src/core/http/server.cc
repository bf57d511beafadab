#include "core/http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>
#include <thread>

#include "core/ids.h"
#include "core/log.h"

namespace onestack::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

struct Server::Listener {
  ListenerConfig config;
  std::unique_ptr<tcp::acceptor> acceptor;
  size_t metrics_base = 0;
};

struct Server::SessionEntry {
  asio::io_context* ctx;
  std::function<void()> cancel;
};

namespace {

std::string http_date() {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

// Splits the request target into path and decoded query parameters.
bool parse_target(std::string_view target, Request* req) {
  size_t q = target.find('?');
  req->path = std::string(target.substr(0, q));
  if (req->path.empty() || req->path[0] != '/') return false;
  if (q == std::string_view::npos) return true;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key, value;
    std::string raw_key(item.substr(0, eq));
    std::string raw_value(eq == std::string_view::npos ? "" : item.substr(eq + 1));
    for (auto* s : {&raw_key, &raw_value}) {
      for (auto& c : *s) {
        if (c == '+') c = ' ';
      }
    }
    if (!percent_decode(raw_key, &key) || !percent_decode(raw_value, &value)) return false;
    req->query.add(std::move(key), std::move(value), eq != std::string_view::npos);
  }
  return true;
}

template <typename Stream>
auto& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

}  // namespace

// One client connection. Lives in its coroutine frame; see server.h.
template <typename Stream>
class Connection {
 public:
  // `idle` is true while the connection waits for a request; stop() closes
  // only idle connections. It lives in the caller's frame.
  Connection(Server* server, Server::Listener* listener, Stream& stream, std::string remote,
             bool secure, bool* idle)
      : server_(server), listener_(listener), stream_(stream), remote_(std::move(remote)),
        secure_(secure), idle_(idle) {}

  awaitable<void> serve();

 private:
  awaitable<bool> exchange();
  awaitable<void> send(Request& req, Response res, bool keep_alive, size_t metrics_slot,
                       std::chrono::steady_clock::time_point start);
  Response error(const Error& e) { return listener_->config.error_responder(e); }
  awaitable<void> reject(const Error& e);

  Server* server_;
  Server::Listener* listener_;
  Stream& stream_;
  std::string remote_;
  bool secure_;
  bool* idle_;
  beast::flat_buffer buffer_;
};

template <typename Stream>
awaitable<void> Connection<Stream>::serve() {
  for (;;) {
    if (server_->stopping_.load()) break;
    bool keep = co_await exchange();
    if (!keep) break;
  }
  beast::error_code ignored;
  lowest(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
}

template <typename Stream>
awaitable<void> Connection<Stream>::reject(const Error& e) {
  Request req;
  req.request_id = "req-" + new_uuid();
  req.remote = remote_;
  co_await send(req, error(e), false, listener_->metrics_base + listener_->config.router->routes().size(),
                std::chrono::steady_clock::now());
}

template <typename Stream>
awaitable<bool> Connection<Stream>::exchange() {
  const ServerLimits& limits = server_->limits_;
  beast::http::request_parser<beast::http::empty_body> header_parser;
  header_parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  header_parser.body_limit(limits.max_body_bytes);

  *idle_ = true;
  if (server_->stopping_.load()) co_return false;
  lowest(stream_).expires_after(limits.idle_timeout);
  auto [ec, n] = co_await beast::http::async_read_header(stream_, buffer_, header_parser, kTuple);
  (void)n;
  auto start = std::chrono::steady_clock::now();
  if (ec == beast::http::error::header_limit) {
    co_await reject(make_error(ErrorCode::kTooLarge, "Request header fields too large."));
    co_return false;
  }
  if (ec == beast::http::error::body_limit) {
    // Beast checks Content-Length against the body limit while parsing the
    // header already.
    co_await reject(make_error(ErrorCode::kTooLarge, "Request body too large."));
    co_return false;
  }
  if (ec) co_return false;  // closed, timed out, or garbage: nothing to answer
  *idle_ = false;

  auto& hdr = header_parser.get();
  Request req;
  req.request_id = "req-" + new_uuid();
  req.remote = remote_;
  req.secure = secure_;
  req.method = hdr.method();
  req.method_name = std::string(hdr.method_string());
  req.target = std::string(hdr.target());
  size_t count = 0;
  for (auto it = hdr.begin(); it != hdr.end(); ++it) ++count;
  if (count > limits.max_header_count) {
    co_await reject(make_error(ErrorCode::kTooLarge, "Too many request header fields."));
    co_return false;
  }
  if (!parse_target(req.target, &req)) {
    co_await reject(make_error(ErrorCode::kInvalidArgument, "Malformed request target."));
    co_return false;
  }
  bool keep_alive = hdr.keep_alive();

  if (auto cl = header_parser.content_length(); cl && *cl > limits.max_body_bytes) {
    co_await reject(make_error(ErrorCode::kTooLarge, "Request body too large."));
    co_return false;
  }
  if (beast::iequals(hdr[beast::http::field::expect], "100-continue")) {
    beast::http::response<beast::http::empty_body> cont{beast::http::status::continue_, 11};
    lowest(stream_).expires_after(limits.write_timeout);
    auto [wec, wn] = co_await beast::http::async_write(stream_, cont, kTuple);
    (void)wn;
    if (wec) co_return false;
  }

  beast::http::request_parser<beast::http::string_body> parser{std::move(header_parser)};
  parser.body_limit(limits.max_body_bytes);
  if (!parser.is_done()) {
    lowest(stream_).expires_after(limits.read_timeout);
    auto [bec, bn] = co_await beast::http::async_read(stream_, buffer_, parser, kTuple);
    (void)bn;
    if (bec == beast::http::error::body_limit) {
      co_await reject(make_error(ErrorCode::kTooLarge, "Request body too large."));
      co_return false;
    }
    if (bec) co_return false;
  }
  auto msg = parser.release();
  req.headers = std::move(msg.base());
  req.body = std::move(msg.body());

  const Router& router = *listener_->config.router;
  size_t slot = listener_->metrics_base + router.routes().size();  // "unmatched"
  Response res;
  std::string_view path = req.path;
  if (path == "/healthcheck" &&
      (req.method == beast::http::verb::get || req.method == beast::http::verb::head)) {
    res = Response::with_body(beast::http::status::ok, "OK", "text/plain");
  } else if (path == "/metrics" &&
             (req.method == beast::http::verb::get || req.method == beast::http::verb::head)) {
    res = Response::with_body(beast::http::status::ok, server_->metrics_.render(),
                              "text/plain; version=0.0.4");
  } else {
    auto m = router.match(req.method, path);
    if (m.kind == Router::MatchKind::kNoPath) {
      res = error(make_error(ErrorCode::kNotFound, "The resource could not be found."));
    } else if (m.kind == Router::MatchKind::kNoMethod) {
      res = error(make_error(ErrorCode::kMethodNotAllowed,
                             "The method " + req.method_name + " is not allowed for this resource."));
      res.headers.set(beast::http::field::allow, m.allow);
    } else {
      slot = listener_->metrics_base + m.route->index;
      req.path_params = std::move(m.params);
      auto token = req.header("X-Auth-Token");
      if (!token.empty() && server_->validator_) {
        auto ctx = server_->validator_->validate(token, false);
        if (ctx.ok()) {
          req.auth = std::move(ctx).value();
        } else {
          req.auth_error = std::move(ctx).error();
        }
      }
      bool failed = false;
      try {
        res = co_await m.route->handler(req);
      } catch (const std::exception& e) {
        spdlog::error("{} {} {}: unhandled exception: {}", req.request_id, req.method_name,
                      req.path, e.what());
        failed = true;
      }
      if (failed) res = error(make_error(ErrorCode::kInternal, "An unexpected error occurred."));
    }
  }
  keep_alive = keep_alive && !server_->stopping_.load();
  co_await send(req, std::move(res), keep_alive, slot, start);
  co_return keep_alive;
}

template <typename Stream>
awaitable<void> Connection<Stream>::send(Request& req, Response res, bool keep_alive,
                                         size_t metrics_slot,
                                         std::chrono::steady_clock::time_point start) {
  beast::http::response<beast::http::string_body> out{res.status, 11};
  for (auto& f : res.headers) out.insert(f.name_string(), f.value());
  out.set("x-openstack-request-id", req.request_id);
  out.set(beast::http::field::date, http_date());
  out.keep_alive(keep_alive);
  size_t body_size = res.body.size();
  bool head = req.method == beast::http::verb::head;
  unsigned status = static_cast<unsigned>(res.status);
  bool no_body = status == 204 || status == 304 || status < 200;
  if (no_body) {
    out.erase(beast::http::field::content_length);
  } else if (head) {
    if (out.find(beast::http::field::content_length) == out.end()) {
      out.set(beast::http::field::content_length, std::to_string(body_size));
    }
  } else {
    out.body() = std::move(res.body);
    out.prepare_payload();
  }
  lowest(stream_).expires_after(server_->limits_.write_timeout);
  beast::http::serializer<false, beast::http::string_body> sr{out};
  if (head) sr.split(true);
  beast::error_code ec;
  if (head) {
    auto [hec, hn] = co_await beast::http::async_write_header(stream_, sr, kTuple);
    (void)hn;
    ec = hec;
  } else {
    auto [wec, wn] = co_await beast::http::async_write(stream_, sr, kTuple);
    (void)wn;
    ec = wec;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  server_->metrics_.slot(metrics_slot).record(status, secs);
  access_log().info(
      "service={} method={} path={} status={} bytes={} duration_ms={:.3f} request_id={} remote={}{}",
      listener_->config.service, req.method_name.empty() ? "-" : req.method_name,
      req.path.empty() ? "-" : req.path, status, head || no_body ? 0 : body_size, secs * 1000,
      req.request_id, req.remote, ec ? " write_error=" + ec.message() : "");
}

Server::Server(size_t threads, ServerLimits limits, const auth::TokenValidator* validator)
    : limits_(limits), validator_(validator) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
  }
}

Server::~Server() {
  // Connections abandoned at the drain timeout never unregister themselves.
  for (auto& [id, entry] : sessions_) delete entry;
}

asio::io_context& Server::next_context() {
  return *contexts_[next_ctx_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

Result<uint16_t> Server::add_listener(ListenerConfig config) {
  auto l = std::make_unique<Listener>();
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(config.host, ec);
  if (ec) return make_error(ErrorCode::kInvalidArgument, "bad listen address " + config.host);
  tcp::endpoint ep(addr, config.port);
  l->acceptor = std::make_unique<tcp::acceptor>(*contexts_[0]);
  l->acceptor->open(ep.protocol(), ec);
  if (!ec) l->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) l->acceptor->bind(ep, ec);
  if (!ec) l->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable, "cannot listen on " + config.host + ":" +
                                                   std::to_string(config.port) + ": " +
                                                   ec.message());
  }
  std::vector<std::string> labels;
  for (const auto& r : config.router->routes()) {
    labels.push_back(std::string(beast::http::to_string(r.method)) + " " + r.pattern);
  }
  l->metrics_base = metrics_.add_service(config.service, labels);
  l->config = std::move(config);
  uint16_t port = l->acceptor->local_endpoint().port();
  listeners_.push_back(std::move(l));
  return port;
}

void Server::register_session(uint64_t id, asio::io_context* ctx, std::function<void()> cancel) {
  std::lock_guard lock(sessions_mu_);
  sessions_[id] = new SessionEntry{ctx, std::move(cancel)};
}

void Server::unregister_session(uint64_t id) {
  std::lock_guard lock(sessions_mu_);
  auto it = sessions_.find(id);
  if (it != sessions_.end()) {
    delete it->second;
    sessions_.erase(it);
  }
}

void Server::close_idle_sessions() {
  std::lock_guard lock(sessions_mu_);
  for (auto& [id, entry] : sessions_) {
    uint64_t sid = id;
    // Runs on the session's own thread; the session may be gone by then, so
    // look it up again there.
    asio::post(*entry->ctx, [this, sid] {
      std::function<void()> cancel;
      {
        std::lock_guard lock(sessions_mu_);
        auto it = sessions_.find(sid);
        if (it == sessions_.end()) return;
        cancel = it->second->cancel;
      }
      cancel();
    });
  }
}

namespace {

template <typename Stream>
awaitable<void> serve_stream(Server* server, Server::Listener* l, Stream& stream,
                             std::string remote, bool secure, bool* idle) {
  Connection<Stream> conn(server, l, stream, std::move(remote), secure, idle);
  co_await conn.serve();
}

}  // namespace

void Server::stop() {
  if (stopping_.exchange(true)) return;
  for (auto& l : listeners_) {
    asio::post(*contexts_[0], [acc = l->acceptor.get()] {
      boost::system::error_code ignored;
      acc->close(ignored);
    });
  }
  close_idle_sessions();
}

// Accept loop of one listener; runs on context 0.
static awaitable<void> accept_loop(tcp::acceptor* acceptor,
                                   std::function<void(tcp::socket)> on_accept,
                                   std::function<asio::io_context&()> next) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(next(), kTuple);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // EMFILE and friends: back off briefly rather than spin.
      asio::steady_timer t(acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(kTuple);
      continue;
    }
    on_accept(std::move(socket));
  }
}

namespace {

awaitable<void> run_connection(Server* server, Server::Listener* l, tcp::socket socket,
                               uint64_t id, std::shared_ptr<asio::ssl::context> tls,
                               std::function<void(uint64_t, asio::io_context*, std::function<void()>)> reg,
                               std::function<void(uint64_t)> unreg, asio::io_context* ctx,
                               ServerLimits limits) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  std::string remote = ec ? "-" : ep.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  bool idle = true;
  if (!tls) {
    beast::tcp_stream stream(std::move(socket));
    reg(id, ctx, [&stream, &idle] {
      if (idle) stream.cancel();
    });
    co_await serve_stream(server, l, stream, std::move(remote), false, &idle);
  } else {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
    reg(id, ctx, [&stream, &idle] {
      if (idle) beast::get_lowest_layer(stream).cancel();
    });
    beast::get_lowest_layer(stream).expires_after(limits.read_timeout);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
    if (!hec) co_await serve_stream(server, l, stream, std::move(remote), true, &idle);
  }
  unreg(id);
}

}  // namespace

void Server::run(bool handle_signals) {
  std::unique_ptr<asio::signal_set> signals;
  if (handle_signals) {
    signals = std::make_unique<asio::signal_set>(*contexts_[0], SIGINT, SIGTERM);
    signals->async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("signal {} received: draining connections", sig);
      stop();
    });
  }
  for (auto& lp : listeners_) {
    Listener* l = lp.get();
    auto on_accept = [this, l](tcp::socket socket) {
      uint64_t id = next_session_id_.fetch_add(1);
      auto* ctx = static_cast<asio::io_context*>(&socket.get_executor().context());
      asio::co_spawn(
          *ctx,
          run_connection(
              this, l, std::move(socket), id, l->config.tls,
              [this](uint64_t sid, asio::io_context* c, std::function<void()> cancel) {
                register_session(sid, c, std::move(cancel));
              },
              [this](uint64_t sid) { unregister_session(sid); }, ctx, limits_),
          asio::detached);
    };
    asio::co_spawn(*contexts_[0],
                   accept_loop(l->acceptor.get(), on_accept,
                               [this]() -> asio::io_context& { return next_context(); }),
                   asio::detached);
  }
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& c : contexts_) guards.push_back(asio::make_work_guard(*c));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([c = contexts_[i].get()] { c->run(); });
  }
  // The drain watcher: once stopping, wait for sessions to finish (bounded),
  // then release the contexts.
  std::thread drain([this, &guards, &signals] {
    while (!stopping_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto deadline = std::chrono::steady_clock::now() + limits_.drain_timeout;
    for (;;) {
      {
        std::lock_guard lock(sessions_mu_);
        if (sessions_.empty()) break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        spdlog::warn("drain timeout: closing remaining connections");
        break;
      }
      close_idle_sessions();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (signals) {
      asio::post(*contexts_[0], [&signals] {
        boost::system::error_code ignored;
        signals->cancel(ignored);
      });
    }
    for (auto& g : guards) g.reset();
    for (auto& c : contexts_) c->stop();
  });
  contexts_[0]->run();
  for (auto& t : threads) t.join();
  drain.join();
}

}  // namespace onestack::http
