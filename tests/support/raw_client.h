// A blocking HTTP/1.1 client over a raw TCP socket, for tests that need the
// exact bytes on the wire: chunked bodies, Expect: 100-continue, pipelining,
// slow or stalling clients, and seeing when the server closes. Every read
// takes a timeout so a misbehaving server fails the test instead of hanging
// it. Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace onestack::test_support {

using namespace std::chrono_literals;

struct RawResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in order received
  std::string body;                                          // de-chunked
  std::string raw;  // the bytes of this response as received

  // Returns the first value of header `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
};

class RawClient {
 public:
  // Connects to 127.0.0.1:`port`; check connected().
  explicit RawClient(uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  RawClient(RawClient&& other) noexcept;

  bool connected() const { return fd_ >= 0; }

  // Writes all of `bytes`; false on error (peer gone).
  bool send(std::string_view bytes);
  // Closes the sending half (the server sees end of stream).
  void shutdown_write();

  // Reads one complete response: the head, then a body framed by
  // Content-Length or chunked encoding (none for 1xx/204/304, or when
  // `head_request`), or until close when neither is given. Bytes after it
  // stay buffered for the next call. nullopt on timeout, close or garbage.
  std::optional<RawResponse> read_response(std::chrono::milliseconds timeout = 5s,
                                           bool head_request = false);

  // Waits until the server closes the connection (EOF or reset); true if it
  // did within `timeout`. Any bytes that arrive meanwhile are appended to
  // pending().
  bool wait_closed(std::chrono::milliseconds timeout);

  // Bytes received but not yet consumed by read_response().
  const std::string& pending() const { return buffer_; }

 private:
  // Reads more bytes into buffer_; 1 read some, 0 closed, -1 timeout/error.
  int fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

// Sends one request on a fresh connection and reads the response.
// `extra_headers` are full lines without CRLF ("X-Auth-Token: abc").
std::optional<RawResponse> http_request(uint16_t port, std::string_view method,
                                        std::string_view target, std::string_view body = {},
                                        const std::vector<std::string>& extra_headers = {},
                                        std::chrono::milliseconds timeout = 5s);

// Formats a request with Host and (when there is a body) Content-Length.
std::string format_request(std::string_view method, std::string_view target,
                           std::string_view body = {},
                           const std::vector<std::string>& extra_headers = {});

}  // namespace onestack::test_support
