#include "core/http/server.h"

#include <spdlog/spdlog.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <thread>

#include "core/ids.h"
#include "core/log.h"

namespace onestack::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

struct Server::Listener {
  ListenerConfig config;
  std::unique_ptr<tcp::acceptor> acceptor;
  size_t metrics_base = 0;
  Route fallback;  // config.fallback as a route (its metrics are "unmatched")
};

struct Server::SessionEntry {
  asio::io_context* ctx;
  std::function<void()> cancel;
};

namespace {

// The Date header's value, formatted once per second per I/O thread.
const std::string& http_date() {
  thread_local std::time_t last = -1;
  thread_local std::string value;
  std::time_t t = std::time(nullptr);
  if (t != last) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&t, &tm);
    size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    value.assign(buf, n);
    last = t;
  }
  return value;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
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

// The BodyReader of a streaming route: a Beast buffer_body parser that fills
// the handler's buffer straight from the socket (and from whatever body bytes
// arrived with the header).
template <typename Stream>
class StreamingBody final : public BodyReader {
 public:
  StreamingBody(Stream& stream, beast::flat_buffer& buffer,
                beast::http::request_parser<beast::http::buffer_body>& parser,
                const ServerLimits& limits, bool expect_continue)
      : stream_(stream),
        buffer_(buffer),
        parser_(parser),
        limits_(limits),
        expect_continue_(expect_continue) {}

  awaitable<Result<size_t>> read(char* buf, size_t len) override {
    if (parser_.is_done() || len == 0) co_return size_t{0};
    if (expect_continue_ && !continue_sent_) {
      continue_sent_ = true;
      beast::http::response<beast::http::empty_body> cont{beast::http::status::continue_, 11};
      lowest(stream_).expires_after(limits_.write_timeout);
      auto [wec, wn] = co_await beast::http::async_write(stream_, cont, kTuple);
      (void)wn;
      if (wec) co_return make_error(ErrorCode::kUnavailable, "client went away");
    }
    for (;;) {
      parser_.get().body().data = buf;
      parser_.get().body().size = len;
      lowest(stream_).expires_after(limits_.read_timeout);
      auto [ec, n] = co_await beast::http::async_read_some(stream_, buffer_, parser_, kTuple);
      (void)n;
      if (ec == beast::http::error::need_buffer) ec = {};
      size_t got = len - parser_.get().body().size;
      if (ec == beast::http::error::body_limit) {
        failed_ = true;
        co_return make_error(ErrorCode::kTooLarge, "Request body too large.");
      }
      if (ec == beast::http::error::bad_chunk || ec == beast::http::error::bad_chunk_extension) {
        failed_ = true;
        co_return make_error(ErrorCode::kInvalidArgument, "Malformed chunked body.");
      }
      if (ec) {
        failed_ = true;
        co_return make_error(ErrorCode::kUnavailable, "client went away: " + ec.message());
      }
      if (got > 0 || parser_.is_done()) co_return got;
    }
  }
  std::optional<uint64_t> content_length() const override {
    auto cl = parser_.content_length();
    if (!cl) return std::nullopt;
    return *cl;
  }
  bool done() const override { return parser_.is_done(); }
  // Whether the client may still be holding its body back for a 100 we never
  // sent: then the connection cannot be reused.
  bool withheld() const { return expect_continue_ && !continue_sent_ && !parser_.is_done(); }
  // Whether a read failed (client gone, timeout, bad framing): the rest of
  // the body will never come.
  bool failed() const { return failed_; }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  beast::http::request_parser<beast::http::buffer_body>& parser_;
  const ServerLimits& limits_;
  bool expect_continue_;
  bool continue_sent_ = false;
  bool failed_ = false;
};

// One client connection. Lives in its coroutine frame; see server.h.
template <typename Stream>
class Connection {
 public:
  // `idle` is true while the connection waits for a request; stop() closes
  // only idle connections. It lives in the caller's frame.
  Connection(Server* server, Server::Listener* listener, Stream& stream, std::string remote,
             bool secure, bool* idle)
      : server_(server),
        listener_(listener),
        stream_(stream),
        remote_(std::move(remote)),
        secure_(secure),
        idle_(idle) {}

  awaitable<void> serve();

 private:
  awaitable<bool> exchange();
  // Writes the response; returns whether the connection can be reused.
  awaitable<bool> send(Request& req, Response res, bool keep_alive, size_t metrics_slot,
                       std::chrono::steady_clock::time_point start);
  // Writes `source` after the headers; returns bytes sent and whether the
  // whole body went out.
  awaitable<std::pair<uint64_t, bool>> send_stream(BodySource& source, bool chunked);
  awaitable<bool> write_bytes(std::string_view data);
  awaitable<bool> send_file(int fd, uint64_t offset, uint64_t length);
  // Runs the matched route's handler, turning a stray exception into a 500.
  awaitable<Response> run_handler(const Route& route, Request& req);
  // Reads and discards what a streaming handler left of its body (bounded);
  // false when the connection cannot be reused.
  awaitable<bool> drain(StreamingBody<Stream>& body);
  Response error(const Error& e) { return listener_->config.error_responder(e); }
  awaitable<void> reject(const Error& e);

  Server* server_;
  Server::Listener* listener_;
  Stream& stream_;
  std::string remote_;
  bool secure_;
  bool* idle_;
  unsigned version_ = 11;  // of the request being answered: 10 or 11
  bool linger_ = false;    // a request was refused from its header
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
  // After refusing a request from its header, a lingering close: what the
  // client is still sending (that request's body) is read and dropped for a
  // moment, so the kernel does not answer it with a reset that can destroy
  // the answer before the client reads it.
  if (!linger_) co_return;
  auto& tcp_stream = lowest(stream_);
  std::array<char, 1024> sink;
  size_t dropped = 0;
  tcp_stream.expires_after(std::chrono::seconds(1));
  while (dropped < 1024 * 1024) {
    auto [ec, n] = co_await tcp_stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec) break;
    dropped += n;
  }
}

template <typename Stream>
awaitable<void> Connection<Stream>::reject(const Error& e) {
  linger_ = true;
  Request req;
  req.request_id = "req-" + new_request_uuid();
  req.remote = remote_;
  (void)co_await send(req, error(e), false,
                      listener_->metrics_base + listener_->config.router->routes().size(),
                      std::chrono::steady_clock::now());
}

template <typename Stream>
awaitable<bool> Connection<Stream>::exchange() {
  const ServerLimits& limits = server_->limits_;
  beast::http::request_parser<beast::http::empty_body> header_parser;
  header_parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  // The larger of the two limits: which one applies depends on the route,
  // known only once the header is in.
  header_parser.body_limit(std::max<uint64_t>(limits.max_body_bytes, limits.max_stream_body_bytes));

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
  static const auto& parse_errors =
      beast::http::make_error_code(beast::http::error::bad_method).category();
  if (ec && ec.category() == parse_errors && ec != beast::http::error::end_of_stream &&
      ec != beast::http::error::partial_message) {
    // A request the parser refuses (a bad Content-Length, a garbled request
    // line or header): 400 and the connection closes, as eventlet answers,
    // rather than a reset the client cannot tell from a crash.
    co_await reject(make_error(ErrorCode::kInvalidArgument, ""));
    co_return false;
  }
  if (ec) co_return false;  // closed or timed out: nothing to answer
  *idle_ = false;

  auto& hdr = header_parser.get();
  version_ = hdr.version();
  Request req;
  req.request_id = "req-" + new_request_uuid();
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

  const Router& router = *listener_->config.router;
  size_t slot = listener_->metrics_base + router.routes().size();  // "unmatched"
  std::string_view path = req.path;
  Router::Match m;
  // A service router may answer /healthcheck itself (Swift's carries
  // X-Trans-Id); otherwise the core does.
  m = router.match(req.method, path);
  bool builtin = (path == "/healthcheck" || path == "/metrics") &&
                 (req.method == beast::http::verb::get || req.method == beast::http::verb::head) &&
                 m.kind != Router::MatchKind::kFound;
  bool expect_continue = beast::iequals(hdr[beast::http::field::expect], "100-continue");

  Response res;
  if (m.kind == Router::MatchKind::kFound && m.route->options.stream_body) {
    // Beast compares a Content-Length with the body limit only as the header
    // completes, when the limit was the larger of the two.
    if (auto cl = header_parser.content_length(); cl && *cl > limits.max_stream_body_bytes) {
      co_await reject(make_error(ErrorCode::kTooLarge, "Request body too large."));
      co_return false;
    }
    slot = listener_->metrics_base + m.route->index;
    req.path_params = std::move(m.params);
    beast::http::request_parser<beast::http::buffer_body> parser{std::move(header_parser)};
    parser.body_limit(limits.max_stream_body_bytes);
    req.headers = parser.get().base();
    StreamingBody<Stream> body(stream_, buffer_, parser, limits, expect_continue);
    req.body_reader = &body;
    res = co_await run_handler(*m.route, req);
    req.body_reader = nullptr;
    if (!body.done()) keep_alive = keep_alive && co_await drain(body);
  } else {
    if (auto cl = header_parser.content_length(); cl && *cl > limits.max_body_bytes) {
      co_await reject(make_error(ErrorCode::kTooLarge, "Request body too large."));
      co_return false;
    }
    if (expect_continue) {
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

    if (builtin && path == "/healthcheck") {
      res = Response::with_body(beast::http::status::ok, "OK", "text/plain");
    } else if (builtin) {
      res = Response::with_body(beast::http::status::ok, server_->metrics_.render(),
                                "text/plain; version=0.0.4");
    } else if (m.kind == Router::MatchKind::kNoPath && listener_->config.fallback) {
      res = co_await run_handler(listener_->fallback, req);
    } else if (m.kind == Router::MatchKind::kNoPath) {
      res = error(make_error(ErrorCode::kNotFound, "The resource could not be found."));
    } else if (m.kind == Router::MatchKind::kNoMethod) {
      res =
          error(make_error(ErrorCode::kMethodNotAllowed,
                           "The method " + req.method_name + " is not allowed for this resource."));
      res.headers.set(beast::http::field::allow, m.allow);
    } else {
      slot = listener_->metrics_base + m.route->index;
      req.path_params = std::move(m.params);
      res = co_await run_handler(*m.route, req);
    }
  }
  keep_alive = keep_alive && !server_->stopping_.load();
  bool sent = co_await send(req, std::move(res), keep_alive, slot, start);
  co_return keep_alive&& sent;
}

template <typename Stream>
awaitable<Response> Connection<Stream>::run_handler(const Route& route, Request& req) {
  // Swift clients send X-Storage-Token as often as X-Auth-Token.
  auto token = req.header("X-Auth-Token");
  if (token.empty()) token = req.header("X-Storage-Token");
  if (!token.empty() && server_->validator_) {
    const auth::TokenValidator* validator = server_->validator_;
    if (validator->needs_sync() && server_->blocking_pool_ != nullptr) {
      Status synced =
          co_await server_->blocking_pool_->run([validator] { return validator->sync(); });
      if (!synced.ok()) co_return error(std::move(synced).error());
    }
    auto ctx = validator->validate(token, false);
    if (ctx.ok()) {
      req.auth = std::move(ctx).value();
    } else if (ctx.error().code == ErrorCode::kUnavailable) {
      // The identity data cannot be read (a shared database gone): the
      // token is neither good nor bad yet, so the answer is 503, not 401.
      co_return error(std::move(ctx).error());
    } else {
      req.auth_error = std::move(ctx).error();
    }
  }
  bool failed = false;
  Response res;
  try {
    res = co_await route.handler(req);
  } catch (const std::exception& e) {
    spdlog::error("{} {} {}: unhandled exception: {}", req.request_id, req.method_name, req.path,
                  e.what());
    failed = true;
  }
  if (failed) res = error(make_error(ErrorCode::kInternal, "An unexpected error occurred."));
  co_return res;
}

template <typename Stream>
awaitable<bool> Connection<Stream>::drain(StreamingBody<Stream>& body) {
  // A client still waiting for "100 Continue" has not sent its body; one
  // that sent a large body we refused is cheaper to hang up on.
  constexpr uint64_t kMaxDrain = 1 << 20;
  if (body.withheld() || body.failed()) co_return false;
  if (auto cl = body.content_length(); cl && *cl > kMaxDrain) co_return false;
  char scratch[16 * 1024];
  uint64_t drained = 0;
  while (!body.done() && drained <= kMaxDrain) {
    auto n = co_await body.read(scratch, sizeof scratch);
    if (!n.ok()) co_return false;
    drained += *n;
  }
  co_return body.done();
}

template <typename Stream>
awaitable<bool> Connection<Stream>::write_bytes(std::string_view data) {
  lowest(stream_).expires_after(server_->limits_.write_timeout);
  auto [ec, n] =
      co_await asio::async_write(stream_, asio::buffer(data.data(), data.size()), kTuple);
  (void)n;
  co_return !ec;
}

template <typename Stream>
awaitable<bool> Connection<Stream>::send_file(int fd, uint64_t offset, uint64_t length) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    // Plain TCP: the kernel copies page cache to socket (sendfile), waiting
    // for writability when the socket buffer is full.
    auto& sock = lowest(stream_).socket();
    boost::system::error_code ec;
    sock.native_non_blocking(true, ec);
    if (ec) co_return false;
    off_t off = static_cast<off_t>(offset);
    uint64_t left = length;
    while (left > 0) {
      ssize_t n = ::sendfile(sock.native_handle(), fd, &off,
                             static_cast<size_t>(std::min<uint64_t>(left, 1u << 30)));
      if (n > 0) {
        left -= static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) co_return false;  // the file is shorter than promised
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) co_return false;
      // Wait for room in the socket buffer, under the write deadline.
      asio::steady_timer deadline(sock.get_executor(), server_->limits_.write_timeout);
      auto which = co_await (sock.async_wait(tcp::socket::wait_write, use_awaitable) ||
                             deadline.async_wait(use_awaitable));
      if (which.index() != 0) co_return false;
    }
    co_return true;
  } else {
    // TLS: the bytes must pass through the cipher, so read them up.
    std::string buf(std::min<uint64_t>(length, 256 * 1024), '\0');
    uint64_t pos = offset, end = offset + length;
    while (pos < end) {
      ssize_t n = ::pread(fd, buf.data(), std::min<uint64_t>(buf.size(), end - pos),
                          static_cast<off_t>(pos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) co_return false;
      if (!co_await write_bytes(std::string_view(buf.data(), static_cast<size_t>(n)))) {
        co_return false;
      }
      pos += static_cast<uint64_t>(n);
    }
    co_return true;
  }
}

template <typename Stream>
awaitable<std::pair<uint64_t, bool>> Connection<Stream>::send_stream(BodySource& source,
                                                                     bool chunked) {
  uint64_t sent = 0;
  for (;;) {
    auto piece = co_await source.next();
    if (!piece.ok()) {
      spdlog::warn("response body failed after {} bytes: {}", sent, piece.error().message);
      co_return std::pair{sent, false};
    }
    const BodySource::Piece& p = *piece;
    if (p.end) break;
    uint64_t len = p.fd >= 0 ? p.length : p.data.size();
    if (len == 0) continue;
    if (chunked) {
      char head[32];
      int hn = std::snprintf(head, sizeof head, "%llx\r\n", static_cast<unsigned long long>(len));
      if (!co_await write_bytes(std::string_view(head, static_cast<size_t>(hn)))) {
        co_return std::pair{sent, false};
      }
    }
    bool ok =
        p.fd >= 0 ? co_await send_file(p.fd, p.offset, p.length) : co_await write_bytes(p.data);
    if (!ok) co_return std::pair{sent, false};
    if (chunked && !co_await write_bytes("\r\n")) co_return std::pair{sent, false};
    sent += len;
  }
  if (chunked && !co_await write_bytes("0\r\n\r\n")) co_return std::pair{sent, false};
  co_return std::pair{sent, true};
}

template <typename Stream>
awaitable<bool> Connection<Stream>::send(Request& req, Response res, bool keep_alive,
                                         size_t metrics_slot,
                                         std::chrono::steady_clock::time_point start) {
  if (listener_->config.finalize) listener_->config.finalize(req, res);
  bool head = req.method == beast::http::verb::head;
  unsigned status = static_cast<unsigned>(res.status);
  bool no_body = status == 204 || status == 304 || status < 200;
  std::optional<uint64_t> stream_size;
  if (res.stream) stream_size = res.stream->size();
  uint64_t body_size = res.stream ? stream_size.value_or(0) : res.body.size();
  bool streaming = res.stream && !head && !no_body;
  // HTTP/1.0 has no chunked coding (RFC 7230 3.3.1): the body of unknown
  // size ends where the connection does.
  bool chunked = streaming && !stream_size && version_ >= 11;
  if (streaming && !stream_size && !chunked) keep_alive = false;

  // The header block, written by hand: Beast's serializer spent more
  // instructions walking its buffer views than the rest of a cached GET.
  // The framing fields (Transfer-Encoding, Connection, Date) are ours to
  // decide; a handler's Content-Length stands for a HEAD or a streamed body
  // (what a GET would send), never for a body in memory.
  std::string head_block;
  head_block.reserve(512);
  head_block.append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  std::string_view reason = beast::http::obsolete_reason(res.status);
  head_block.append(reason == "<unknown-status>" ? std::string_view("Unknown") : reason);
  head_block.append("\r\n");
  bool has_request_id = false;
  std::optional<std::string_view> given_length;
  for (const auto& f : res.headers) {
    using beast::http::field;
    std::string_view name(f.name_string().data(), f.name_string().size());
    std::string_view value(f.value().data(), f.value().size());
    switch (f.name()) {  // Beast knows a standard field by its enum
      case field::content_length: given_length = value; continue;
      case field::transfer_encoding:
      case field::connection:
      case field::date: continue;
      case field::unknown:
        if (beast::iequals(name, "x-openstack-request-id")) has_request_id = true;
        break;
      default: break;
    }
    append_field(head_block, name, value);
  }
  // A service may name the request its own way (Swift: the transaction id).
  if (!has_request_id) append_field(head_block, "x-openstack-request-id", req.request_id);
  append_field(head_block, "Date", http_date());
  if (!keep_alive) {
    append_field(head_block, "Connection", "close");
  } else if (beast::iequals(req.header("Connection"), "keep-alive")) {
    // A client that asks to keep the connection is told it is kept, as
    // eventlet's and Apache's servers tell it (HTTP/1.0 clients rely on it).
    append_field(head_block, "Connection", "keep-alive");
  }
  if (no_body) {
    // No Content-Length on a 1xx, 204 or 304 unless the handler gives one
    // (Swift's servers send "Content-Length: 0" on their 204s).
    if (given_length) append_field(head_block, "Content-Length", *given_length);
  } else if (head || res.stream) {
    if (chunked) {
      append_field(head_block, "Transfer-Encoding", "chunked");
    } else if (given_length) {
      append_field(head_block, "Content-Length", *given_length);
    } else if (!res.stream || stream_size) {
      append_field(head_block, "Content-Length", std::to_string(body_size));
    }
  } else {
    append_field(head_block, "Content-Length", std::to_string(res.body.size()));
  }
  head_block.append("\r\n");

  lowest(stream_).expires_after(server_->limits_.write_timeout);
  beast::error_code ec;
  bool complete = true;
  if (head || res.stream || no_body) {
    auto [hec, hn] = co_await asio::async_write(stream_, asio::buffer(head_block), kTuple);
    (void)hn;
    ec = hec;
    if (!ec && streaming) {
      auto [sent, ok] = co_await send_stream(*res.stream, chunked);
      body_size = sent;
      complete = ok;
    }
  } else {
    // Header and body in one gathered write.
    std::array<asio::const_buffer, 2> parts{asio::buffer(head_block), asio::buffer(res.body)};
    auto [wec, wn] = co_await asio::async_write(stream_, parts, kTuple);
    (void)wn;
    ec = wec;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  server_->metrics_.slot(metrics_slot).record(status, secs);
  access_log().info(
      "service={} method={} path={} status={} bytes={} duration_ms={:.3f} request_id={} "
      "remote={}{}{}",
      listener_->config.service, req.method_name.empty() ? "-" : req.method_name,
      req.path.empty() ? "-" : req.path, status, head || no_body ? 0 : body_size, secs * 1000,
      req.request_id, req.remote, ec ? " write_error=" + ec.message() : "",
      complete ? "" : " body_incomplete=1");
  co_return !ec && complete && keep_alive;
}

Server::Server(size_t threads, ServerLimits limits, const auth::TokenValidator* validator)
    : limits_(limits), validator_(validator) {
  // sendfile() has no MSG_NOSIGNAL: a client that hangs up mid-body would
  // raise SIGPIPE, whose default action ends the whole process. The failed
  // send is seen as EPIPE instead and ends that connection only.
  ::signal(SIGPIPE, SIG_IGN);
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
  l->fallback = Route{beast::http::verb::unknown,
                      "(unmatched)",
                      config.fallback,
                      config.router->routes().size(),
                      {}};
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

awaitable<void> run_connection(
    Server* server, Server::Listener* l, tcp::socket socket, uint64_t id,
    std::shared_ptr<asio::ssl::context> tls,
    std::function<void(uint64_t, asio::io_context*, std::function<void()>)> reg,
    std::function<void(uint64_t)> unreg, asio::io_context* ctx, ServerLimits limits) {
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
      asio::co_spawn(*ctx,
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
