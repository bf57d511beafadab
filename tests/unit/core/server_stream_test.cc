// Streamed request bodies (BodyReader) and streamed responses (BodySource),
// end to end over real sockets on 127.0.0.1: a body larger than the buffered
// limit read in pieces, chunked decoding, the lazy 100-continue, draining or
// hanging up on what a handler left unread, the streaming limit, and response
// bodies from memory pieces, file ranges (sendfile, and the TLS copy path) and
// sources that fail midway.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/http/server.h"
#include "core/json.h"
#include "server_fixture.h"
#include "support/raw_client.h"
#include "support/test_server.h"

namespace onestack::http::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using asio::awaitable;
using test_support::format_request;
using test_support::RawClient;
using test_support::RawResponse;
using test_support::TestServer;
using test_support::TestServerOptions;
using Verb = beast_http::verb;
using namespace std::chrono_literals;

constexpr size_t kMiB = 1024 * 1024;

// Deterministic bytes that differ at every offset within a 256-byte window
// and drift over larger spans, so a shifted or repeated range shows.
std::string pattern(size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed + i / 4093) & 0xff);
  return s;
}

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;

uint64_t fnv1a(uint64_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string digest_text(uint64_t bytes, uint64_t hash) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "bytes=%" PRIu64 " fnv=%016" PRIx64, bytes, hash);
  return buf;
}

std::string digest_of(std::string_view data) {
  return digest_text(data.size(), fnv1a(kFnvOffset, data));
}

// What the streaming handlers share with the tests. Outlives the server.
struct StreamState {
  std::atomic<int> calls{0};
  std::atomic<int> gate_entered{0};    // PUT /gated handlers that started
  std::atomic<bool> gate_open{false};  // lets them go on to read
  std::atomic<int> pieces_pulled{0};   // BodySource::next() calls
  std::string file_path;               // the file /source/file* serves from
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
};

Response text(std::string body) {
  return Response::with_body(beast_http::status::ok, std::move(body), "text/plain");
}

struct BodyDigest {
  uint64_t bytes = 0;
  uint64_t hash = kFnvOffset;
  int reads = 0;
};

// Reads the whole body `buf_size` bytes at a time.
awaitable<Result<BodyDigest>> read_all(BodyReader* body, size_t buf_size) {
  std::vector<char> buf(buf_size);
  BodyDigest d;
  for (;;) {
    auto n = co_await body->read(buf.data(), buf.size());
    if (!n.ok()) co_return n.error();
    if (*n == 0) break;
    ++d.reads;
    d.bytes += *n;
    d.hash = fnv1a(d.hash, std::string_view(buf.data(), *n));
  }
  co_return d;
}

// PUT /upload[?buf=N]: reads the body N bytes at a time (64 KiB by default)
// and answers its digest; X-Reads, X-Declared-Length and X-Done report what
// the BodyReader said.
awaitable<Response> upload(StreamState* st, Request& req) {
  ++st->calls;
  size_t buf = 64 * 1024;
  if (auto b = req.query.get("buf")) buf = std::stoul(std::string(*b));
  auto d = co_await read_all(req.body_reader, buf);
  if (!d.ok()) co_return test_support::test_error_response(d.error());
  Response r = text(digest_text(d->bytes, d->hash));
  r.headers.set("X-Reads", std::to_string(d->reads));
  auto cl = req.body_reader->content_length();
  r.headers.set("X-Declared-Length", cl ? std::to_string(*cl) : "chunked");
  r.headers.set("X-Done", req.body_reader->done() ? "yes" : "no");
  co_return r;
}

// PUT /partial: reads only X-Read-Bytes bytes of the body and answers
// "read <n>:<the first 16 of them>".
awaitable<Response> partial(StreamState* st, Request& req) {
  ++st->calls;
  size_t want = std::stoul(std::string(req.header("X-Read-Bytes")));
  std::string got(want, '\0');
  size_t have = 0;
  while (have < want) {
    auto n = co_await req.body_reader->read(got.data() + have, want - have);
    if (!n.ok()) co_return test_support::test_error_response(n.error());
    if (*n == 0) break;
    have += *n;
  }
  got.resize(have);
  co_return text("read " + std::to_string(have) + ":" + got.substr(0, 16));
}

// PUT /refuse: 401 without touching the body.
awaitable<Response> refuse(StreamState* st, Request&) {
  ++st->calls;
  co_return test_support::test_error_response(make_error(ErrorCode::kUnauthenticated, "no token"));
}

// PUT /gated: waits until the test opens the gate, then reads like /upload.
awaitable<Response> gated(StreamState* st, Request& req) {
  ++st->calls;
  ++st->gate_entered;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!st->gate_open.load()) {
    timer.expires_after(1ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  auto d = co_await read_all(req.body_reader, 64 * 1024);
  if (!d.ok()) co_return test_support::test_error_response(d.error());
  co_return text(digest_text(d->bytes, d->hash));
}

// PUT /buffered: an ordinary buffered route, answers "buffered <n>".
awaitable<Response> buffered(StreamState* st, Request& req) {
  ++st->calls;
  co_return text("buffered " + std::to_string(req.body.size()));
}

// GET /whoami and PUT /whoami (streaming): who the server says the caller is.
awaitable<Response> whoami(StreamState* st, Request& req) {
  ++st->calls;
  if (req.auth) co_return text("user:" + req.auth->user_id);
  if (req.auth_error) co_return text("error:" + std::string(error_code_name(req.auth_error->code)));
  co_return text("anonymous");
}

// Hands out its pieces in order, then the end (or, with `fail`, an error in
// place of the end). Owns the file descriptor its file pieces refer to.
class PieceSource final : public BodySource {
 public:
  struct Item {
    std::string data;
    bool file = false;  // a range of the source's file instead of `data`
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  PieceSource(StreamState* st, std::vector<Item> items, std::optional<uint64_t> size,
              bool fail = false)
      : st_(st), items_(std::move(items)), size_(size), fail_(fail) {
    for (const auto& i : items_) {
      if (i.file && fd_ < 0) fd_ = ::open(st_->file_path.c_str(), O_RDONLY | O_CLOEXEC);
    }
  }
  ~PieceSource() override {
    if (fd_ >= 0) ::close(fd_);
  }
  std::optional<uint64_t> size() const override { return size_; }
  awaitable<Result<Piece>> next() override {
    ++st_->pieces_pulled;
    Piece p;
    if (next_ == items_.size()) {
      if (fail_) co_return make_error(ErrorCode::kUnavailable, "disk went away");
      p.end = true;
      co_return p;
    }
    const Item& i = items_[next_++];
    if (i.file) {
      if (fd_ < 0) co_return make_error(ErrorCode::kInternal, "cannot open the test file");
      p.fd = fd_;
      p.offset = i.offset;
      p.length = i.length;
    } else {
      p.data = i.data;
    }
    co_return p;
  }

 private:
  StreamState* st_;
  std::vector<Item> items_;
  std::optional<uint64_t> size_;
  bool fail_;
  size_t next_ = 0;
  int fd_ = -1;
};

// The memory pieces GET /source/memory and /source/chunked send; an empty
// piece in the middle must not end a chunked body early.
std::vector<PieceSource::Item> memory_items() {
  return {{"hello, "}, {""}, {pattern(100 * 1024, 7)}, {" world"}};
}

std::string memory_body() { return "hello, " + pattern(100 * 1024, 7) + " world"; }

Response stream_response(std::shared_ptr<BodySource> source) {
  Response r;
  r.headers.set(beast_http::field::content_type, "application/octet-stream");
  r.stream = std::move(source);
  return r;
}

awaitable<Response> source_memory(StreamState* st, Request&) {
  ++st->calls;
  co_return stream_response(
      std::make_shared<PieceSource>(st, memory_items(), memory_body().size()));
}

awaitable<Response> source_chunked(StreamState* st, Request&) {
  ++st->calls;
  co_return stream_response(std::make_shared<PieceSource>(st, memory_items(), std::nullopt));
}

awaitable<Response> source_file(StreamState* st, Request&) {
  ++st->calls;
  PieceSource::Item range{"", true, st->file_offset, st->file_length};
  co_return stream_response(
      std::make_shared<PieceSource>(st, std::vector<PieceSource::Item>{range}, st->file_length));
}

// Memory, a file range and memory again, of undeclared size.
awaitable<Response> source_file_chunked(StreamState* st, Request&) {
  ++st->calls;
  std::vector<PieceSource::Item> items = {
      {"<head>"}, {"", true, st->file_offset, st->file_length}, {"<tail>"}};
  co_return stream_response(std::make_shared<PieceSource>(st, std::move(items), std::nullopt));
}

// Promises 1000 bytes, sends 300, then fails.
awaitable<Response> source_fail(StreamState* st, Request&) {
  ++st->calls;
  co_return stream_response(std::make_shared<PieceSource>(
      st, std::vector<PieceSource::Item>{{std::string(300, 'a')}}, 1000, /*fail=*/true));
}

// 300 bytes of undeclared size, then fails.
awaitable<Response> source_fail_chunked(StreamState* st, Request&) {
  ++st->calls;
  co_return stream_response(std::make_shared<PieceSource>(
      st, std::vector<PieceSource::Item>{{std::string(300, 'a')}}, std::nullopt, /*fail=*/true));
}

template <awaitable<Response> (*F)(StreamState*, Request&)>
Handler bind(StreamState* st) {
  return [st](Request& req) { return F(st, req); };
}

Router make_stream_router(StreamState* st) {
  RouteOptions streamed;
  streamed.stream_body = true;
  Router r;
  r.add(Verb::put, "/upload", bind<upload>(st), streamed);
  r.add(Verb::put, "/partial", bind<partial>(st), streamed);
  r.add(Verb::put, "/refuse", bind<refuse>(st), streamed);
  r.add(Verb::put, "/gated", bind<gated>(st), streamed);
  r.add(Verb::put, "/whoami", bind<whoami>(st), streamed);
  r.add(Verb::get, "/whoami", bind<whoami>(st));
  r.add(Verb::put, "/buffered", bind<buffered>(st));
  r.add(Verb::get, "/source/memory", bind<source_memory>(st));
  r.add(Verb::get, "/source/chunked", bind<source_chunked>(st));
  r.add(Verb::get, "/source/file", bind<source_file>(st));
  r.add(Verb::get, "/source/file-chunked", bind<source_file_chunked>(st));
  r.add(Verb::get, "/source/fail", bind<source_fail>(st));
  r.add(Verb::get, "/source/fail-chunked", bind<source_fail_chunked>(st));
  return r;
}

// A temp directory, removed with the object.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/onestack_stream_testXXXXXX";
    if (mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ServerStreamTest : public ::testing::Test {
 protected:
  void start(TestServerOptions options = {}) {
    server_ = std::make_unique<TestServer>(make_stream_router(&state_), std::move(options));
  }
  // A gated handler left waiting by a failed test must not hold up the stop.
  void TearDown() override { state_.gate_open = true; }
  uint16_t port() const { return server_->port(); }

  // Writes a 4 MiB file and points the /source/file routes at
  // [`offset`, `offset` + `length`) of it; returns those bytes.
  std::string serve_file_range(uint64_t offset, uint64_t length) {
    file_content_ = pattern(4 * kMiB, 3);
    state_.file_path = dir_.path() + "/object";
    std::ofstream(state_.file_path, std::ios::binary) << file_content_;
    state_.file_offset = offset;
    state_.file_length = length;
    return file_content_.substr(offset, length);
  }

  TempDir dir_;
  std::string file_content_;
  StreamState state_;
  FakeValidator validator_;
  std::unique_ptr<TestServer> server_;  // declared last: stops first
};

void expect_error_title(const RawResponse& r, std::string_view title) {
  auto o = parse_json_object(r.body);
  ASSERT_TRUE(o.ok()) << r.body;
  const auto& t = o->at("error").as_object().at("title");
  EXPECT_TRUE(t.is_string() && t.as_string() == title) << r.body;
}

std::string put_head(std::string_view target, uint64_t content_length,
                     std::string_view extra = {}) {
  return "PUT " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

// --- streamed request bodies ---

TEST_F(ServerStreamTest, AStreamingRouteReadsABodyLargerThanTheBufferedLimitInPieces) {
  start();
  const std::string body = pattern(3 * kMiB, 1);
  RawClient c(port());
  ASSERT_TRUE(c.send(put_head("/upload", body.size()) + body));
  auto r = c.read_response(10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, digest_of(body));
  EXPECT_GE(std::stoi(r->header("X-Reads")), 48);  // 3 MiB through a 64 KiB buffer
  EXPECT_EQ(r->header("X-Declared-Length"), std::to_string(body.size()));
  EXPECT_EQ(r->header("X-Done"), "yes");
  EXPECT_NE(r->header("Connection"), "close");
}

TEST_F(ServerStreamTest, TheBufferedLimitStillAppliesToBufferedRoutes) {
  start();
  RawClient c(port());
  // Only the head: the server must refuse before reading any of the body.
  ASSERT_TRUE(c.send(put_head("/buffered", 3 * kMiB)));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  expect_error_title(*r, "too_large");
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerStreamTest, DecodesAChunkedBodyWithExtensionsAcrossSmallReads) {
  start();
  const std::string a = pattern(5000, 1), b = "tiny", d = pattern(70000, 2);
  char hex[32];
  std::string req =
      "PUT /upload?buf=1000 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::snprintf(hex, sizeof hex, "%zx", a.size());
  req += std::string(hex) + ";name=value\r\n" + a + "\r\n";
  req += "4;flag\r\n" + b + "\r\n";
  std::snprintf(hex, sizeof hex, "%zX", d.size());
  req += std::string(hex) + "\r\n" + d + "\r\n0\r\n\r\n";
  RawClient c(port());
  // The next request right behind the body shows the parser stopped at its end.
  ASSERT_TRUE(c.send(req + format_request("GET", "/whoami")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, digest_of(a + b + d));
  EXPECT_EQ(r->header("X-Declared-Length"), "chunked");
  EXPECT_EQ(r->header("X-Done"), "yes");
  EXPECT_GE(std::stoi(r->header("X-Reads")), 76);  // no read returns over 1000 bytes
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "anonymous");
}

TEST_F(ServerStreamTest, MalformedChunkFramingReachesTheHandlerAsInvalidArgument) {
  start();
  RawClient c(port());
  ASSERT_TRUE(
      c.send("PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\nnot-hex\r\nxx\r\n0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  expect_error_title(*r, "invalid_argument");
  EXPECT_EQ(state_.calls.load(), 1);
  // The framing is lost: the connection cannot be reused.
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed(2s));
}

TEST_F(ServerStreamTest, SendsContinueOnlyWhenTheHandlerFirstReads) {
  start();
  const std::string body = pattern(20000, 4);
  RawClient c(port());
  ASSERT_TRUE(c.send(put_head("/gated", body.size(), "Expect: 100-continue\r\n")));
  ASSERT_TRUE(wait_until([&] { return state_.gate_entered.load() == 1; }));
  // The handler runs but has not read: nothing may have been sent yet.
  EXPECT_FALSE(c.read_response(100ms));
  EXPECT_TRUE(c.pending().empty()) << c.pending();
  state_.gate_open = true;
  auto cont = c.read_response(2s);
  ASSERT_TRUE(cont) << "no interim response after the handler read";
  EXPECT_TRUE(cont->raw.starts_with("HTTP/1.1 100 Continue\r\n")) << cont->raw;
  ASSERT_TRUE(c.send(body));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, digest_of(body));
  EXPECT_NE(r->header("Connection"), "close");
  ASSERT_TRUE(c.send(format_request("GET", "/whoami")));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "anonymous");
}

TEST_F(ServerStreamTest, AHandlerThatRefusesWithoutReadingSendsNoContinueAndCloses) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(put_head("/refuse", 5000, "Expect: 100-continue\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_TRUE(r->raw.starts_with("HTTP/1.1 401")) << r->raw;
  // The client still holds its body back: the server cannot reuse the
  // connection, whose next bytes could be that body or a new request.
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(c.pending().find("100 Continue"), std::string::npos) << c.pending();
}

TEST_F(ServerStreamTest, DrainsASmallBodyTheHandlerReadOnlyPartOfAndKeepsTheConnection) {
  start();
  const std::string body = pattern(200 * 1024, 5);
  RawClient c(port());
  ASSERT_TRUE(c.send(put_head("/partial", body.size(), "X-Read-Bytes: 10\r\n") + body +
                     format_request("GET", "/whoami")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "read 10:" + body.substr(0, 10));
  EXPECT_NE(r->header("Connection"), "close");
  auto next = c.read_response();
  ASSERT_TRUE(next) << "the unread body was not drained";
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "anonymous");
  EXPECT_EQ(state_.calls.load(), 2);
}

TEST_F(ServerStreamTest, DrainsTheRestOfAChunkedBodyTheHandlerLeftUnread) {
  start();
  RawClient c(port());
  ASSERT_TRUE(
      c.send("PUT /partial HTTP/1.1\r\nHost: x\r\nX-Read-Bytes: 3\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"
             "6\r\nabcdef\r\n6;x=y\r\nghijkl\r\n0\r\n\r\n" +
             format_request("GET", "/whoami")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "read 3:abc");
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "anonymous");
}

TEST_F(ServerStreamTest, HangsUpOnALargeBodyTheHandlerLeftUnread) {
  start();
  RawClient c(port());
  // Declares 2 MiB, sends 10 bytes: draining would mean waiting for the rest.
  ASSERT_TRUE(c.send(put_head("/partial", 2 * kMiB, "X-Read-Bytes: 10\r\n") + "0123456789"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "read 10:0123456789");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed(2s));
}

// The buffered limit (1 MiB) is the larger one here: the smaller streaming
// limit must still hold for a Content-Length within it.
TEST_F(ServerStreamTest, RejectsAContentLengthOverTheStreamingLimitBeforeTheHandler) {
  TestServerOptions options;
  options.limits.max_stream_body_bytes = 64 * 1024;
  options.limits.read_timeout = 500ms;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send(put_head("/upload", 64 * 1024 + 1, "Expect: 100-continue\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  expect_error_title(*r, "too_large");
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);
  EXPECT_EQ(c.pending().find("100 Continue"), std::string::npos);

  // At the limit exactly, the body goes through.
  const std::string body = pattern(64 * 1024, 6);
  RawClient ok(port());
  ASSERT_TRUE(ok.send(put_head("/upload", body.size()) + body));
  auto fits = ok.read_response();
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 200);
  EXPECT_EQ(fits->body, digest_of(body));
}

TEST_F(ServerStreamTest, RejectsAContentLengthOverBothLimitsBeforeTheHandler) {
  TestServerOptions options;
  options.limits.max_body_bytes = 1024;
  options.limits.max_stream_body_bytes = 64 * 1024;
  start(std::move(options));
  RawClient c(port());
  ASSERT_TRUE(c.send(put_head("/upload", kMiB)));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerStreamTest, AChunkedBodyGrowingOverTheStreamingLimitGets413) {
  TestServerOptions options;
  options.limits.max_stream_body_bytes = 64 * 1024;
  start(std::move(options));
  const std::string chunk = pattern(30 * 1024, 8);
  RawClient c(port());
  // Two chunks fit; the third one's size line crosses the limit. Nothing
  // is sent after it, so the server has read all it was sent when it closes.
  ASSERT_TRUE(
      c.send("PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "7800\r\n" +
             chunk + "\r\n7800\r\n" + chunk + "\r\n7800\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  expect_error_title(*r, "too_large");
  EXPECT_EQ(state_.calls.load(), 1);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed(2s));
}

TEST_F(ServerStreamTest, StorageTokenIsAcceptedLikeAuthToken) {
  TestServerOptions options;
  options.validator = &validator_;
  start(std::move(options));
  auto ask = [&](std::string_view method, std::vector<std::string> headers) {
    auto r = test_support::http_request(port(), method, "/whoami", {}, headers);
    return r ? r->body : std::string("no response");
  };
  for (std::string_view method : {"GET", "PUT"}) {  // buffered and streaming routes
    EXPECT_EQ(ask(method, {"X-Storage-Token: good"}), "user:u1") << method;
    EXPECT_EQ(ask(method, {"X-Storage-Token: forged"}), "error:unauthenticated") << method;
    EXPECT_EQ(ask(method, {"X-Auth-Token: good", "X-Storage-Token: forged"}), "user:u1") << method;
    EXPECT_EQ(ask(method, {}), "anonymous") << method;
  }
  EXPECT_EQ(validator_.calls.load(), 6);
}

// --- streamed responses ---

TEST_F(ServerStreamTest, AKnownSizeSourceIsSentWithContentLength) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/source/memory")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), std::to_string(memory_body().size()));
  EXPECT_FALSE(r->has_header("Transfer-Encoding"));
  EXPECT_EQ(r->header("Content-Type"), "application/octet-stream");
  EXPECT_TRUE(r->body == memory_body()) << "body differs";
  // Nothing extra followed the body: the connection serves the next request.
  ASSERT_TRUE(c.send(format_request("GET", "/whoami")));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "anonymous");
}

TEST_F(ServerStreamTest, AnUnknownSizeSourceIsSentChunked) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/source/chunked") + format_request("GET", "/whoami")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Transfer-Encoding"), "chunked");
  EXPECT_FALSE(r->has_header("Content-Length"));
  EXPECT_EQ(r->body.size(), memory_body().size());
  EXPECT_TRUE(r->body == memory_body()) << "body differs";
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "anonymous");
}

TEST_F(ServerStreamTest, AFilePieceSendsExactlyItsRange) {
  // 3 MiB is more than the socket buffer takes at once: sendfile has to wait.
  const std::string expected = serve_file_range(123457, 3 * kMiB);
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/source/file")));
  auto r = c.read_response(10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), std::to_string(expected.size()));
  EXPECT_EQ(r->body.size(), expected.size());
  EXPECT_TRUE(r->body == expected) << "body differs from the file range";
  ASSERT_TRUE(c.send(format_request("GET", "/whoami")));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "anonymous");
}

TEST_F(ServerStreamTest, AFilePieceInsideAChunkedBodyIsFramedCorrectly) {
  const std::string range = serve_file_range(1000, 300 * 1024);
  start();
  auto r = test_support::http_request(port(), "GET", "/source/file-chunked");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Transfer-Encoding"), "chunked");
  EXPECT_TRUE(r->body == "<head>" + range + "<tail>") << "body differs";
}

TEST_F(ServerStreamTest, HeadOfAStreamedResponseSendsContentLengthAndNoBody) {
  start();
  RawClient c(port());
  // A GET right behind the HEAD shows no body bytes followed the HEAD's head.
  ASSERT_TRUE(c.send(format_request("HEAD", "/source/memory") + format_request("GET", "/whoami")));
  auto head = c.read_response(5s, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(memory_body().size()));
  EXPECT_FALSE(head->has_header("Transfer-Encoding"));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->raw.starts_with("HTTP/1.1 200")) << next->raw.substr(0, 200);
  EXPECT_EQ(next->body, "anonymous");
  EXPECT_EQ(state_.pieces_pulled.load(), 0);
}

TEST_F(ServerStreamTest, ASourceFailingMidwayClosesTheConnectionAfterAShortBody) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/source/fail")));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(c.read_response(3s));  // 1000 bytes promised, never all sent
  EXPECT_TRUE(c.wait_closed(1s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "the client waited for a timeout";
  const std::string& got = c.pending();
  ASSERT_TRUE(got.starts_with("HTTP/1.1 200")) << got.substr(0, 200);
  EXPECT_NE(got.find("Content-Length: 1000\r\n"), std::string::npos);
  size_t body = got.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(got.substr(body + 4), std::string(300, 'a'));
}

TEST_F(ServerStreamTest, AChunkedSourceFailingMidwayNeverSendsTheLastChunk) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send(format_request("GET", "/source/fail-chunked")));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(c.read_response(3s));
  EXPECT_TRUE(c.wait_closed(1s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "the client waited for a timeout";
  const std::string& got = c.pending();
  size_t body = got.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos) << got;
  EXPECT_NE(got.substr(0, body).find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_EQ(got.substr(body + 4), "12c\r\n" + std::string(300, 'a') + "\r\n");
}

// HTTP/1.0 has no chunked coding (RFC 7230 3.3.1): an unknown-size body is
// delimited by closing the connection, even one the client asked to keep.
TEST_F(ServerStreamTest, AnUnknownSizeSourceForAnHttp10ClientEndsWithTheConnection) {
  start();
  RawClient c(port());
  ASSERT_TRUE(c.send("GET /source/chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.read_response();  // no framing: reads until the server closes
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Transfer-Encoding"));
  EXPECT_FALSE(r->has_header("Content-Length"));
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_EQ(r->body.size(), memory_body().size());
  EXPECT_TRUE(r->body == memory_body()) << "body differs";
}

// --- the file path over TLS ---

// A temp directory holding cert.pem and key.pem for CN/SAN "localhost".
class SelfSignedCert {
 public:
  SelfSignedCert() {
    if (dir_.path().empty()) return;
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout '" +
        key() + "' -out '" + cert() + "' >/dev/null 2>&1";
    ok_ = std::system(cmd.c_str()) == 0 && std::filesystem::exists(cert());
  }
  bool ok() const { return ok_; }
  std::string cert() const { return dir_.path() + "/cert.pem"; }
  std::string key() const { return dir_.path() + "/key.pem"; }

 private:
  TempDir dir_;
  bool ok_ = false;
};

// GETs `target` over one verified TLS connection, twice: the second request
// shows the first response ended where its Content-Length said.
std::vector<beast::http::response<beast::http::string_body>> tls_get_twice(
    const std::string& ca_file, uint16_t port, const std::string& target, const std::string& then) {
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  stream.set_verify_callback(ssl::host_name_verification("localhost"));
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  beast::get_lowest_layer(stream).expires_after(10s);
  beast::get_lowest_layer(stream).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  stream.handshake(ssl::stream_base::client);
  beast::flat_buffer buffer;
  std::vector<beast::http::response<beast::http::string_body>> out;
  for (const auto& t : {target, then}) {
    beast::http::request<beast::http::empty_body> req{beast::http::verb::get, t, 11};
    req.set(beast::http::field::host, "localhost");
    beast::http::write(stream, req);
    beast::http::response_parser<beast::http::string_body> parser;
    parser.body_limit(16 * kMiB);
    beast::http::read(stream, buffer, parser);
    out.push_back(parser.release());
  }
  return out;
}

TEST(ServerStreamTls, AFilePieceOverTlsSendsExactlyItsRange) {
  SelfSignedCert cert;
  if (!cert.ok()) GTEST_SKIP() << "openssl could not make a test certificate";
  TempDir dir;
  StreamState state;
  const std::string content = pattern(4 * kMiB, 9);
  state.file_path = dir.path() + "/object";
  std::ofstream(state.file_path, std::ios::binary) << content;
  state.file_offset = 777;
  state.file_length = 3 * kMiB + 5;  // more than one of the server's 256 KiB reads

  auto tls = std::make_shared<ssl::context>(ssl::context::tls_server);
  tls->use_certificate_chain_file(cert.cert());
  tls->use_private_key_file(cert.key(), ssl::context::pem);
  TestServerOptions options;
  options.tls = tls;
  TestServer server(make_stream_router(&state), std::move(options));

  std::vector<beast::http::response<beast::http::string_body>> res;
  ASSERT_NO_THROW(res = tls_get_twice(cert.cert(), server.port(), "/source/file", "/whoami"));
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0].result_int(), 200);
  EXPECT_EQ(res[0][beast::http::field::content_length], std::to_string(state.file_length));
  EXPECT_EQ(res[0].body().size(), state.file_length);
  EXPECT_TRUE(res[0].body() == content.substr(state.file_offset, state.file_length))
      << "body differs from the file range";
  EXPECT_EQ(res[1].body(), "anonymous");
}

}  // namespace
}  // namespace onestack::http::test
