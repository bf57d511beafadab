#include "support/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>

namespace onestack::test_support {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Parses the head (status line and headers, ending CRLF CRLF) into `r`.
bool parse_head(std::string_view head, RawResponse* r) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  if (!line.starts_with("HTTP/1.") || line.size() < 12) return false;
  auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, r->status);
  if (ec != std::errc() || p != line.data() + 12) return false;
  r->reason = line.size() > 13 ? std::string(line.substr(13)) : "";
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string_view::npos) e = head.size();
    std::string_view h = head.substr(pos, e - pos);
    pos = e + 2;
    if (h.empty()) break;
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) return false;
    r->headers.emplace_back(std::string(h.substr(0, colon)), trim(h.substr(colon + 1)));
  }
  return true;
}

}  // namespace

std::string RawResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return "";
}

bool RawResponse::has_header(std::string_view name) const { return header_count(name) > 0; }

size_t RawResponse::header_count(std::string_view name) const {
  size_t n = 0;
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) ++n;
  }
  return n;
}

RawClient::RawClient(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

RawClient::RawClient(RawClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), eof_(other.eof_), buffer_(std::move(other.buffer_)) {}

bool RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

int RawClient::fill(std::chrono::steady_clock::time_point deadline) {
  if (eof_) return 0;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return -1;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;  // orderly close or reset: either way nothing more comes
      return 0;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return 1;
  }
}

std::optional<RawResponse> RawClient::read_response(std::chrono::milliseconds timeout,
                                                    bool head_request) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (fill(deadline) <= 0) return std::nullopt;
  }
  RawResponse r;
  if (!parse_head(std::string_view(buffer_).substr(0, head_end + 2), &r)) return std::nullopt;
  size_t body_start = head_end + 4;
  size_t consumed = body_start;

  bool no_body = head_request || r.status < 200 || r.status == 204 || r.status == 304;
  std::string te = r.header("Transfer-Encoding");
  std::string cl = r.header("Content-Length");
  if (no_body) {
    // nothing to read
  } else if (iequals(te, "chunked")) {
    size_t pos = body_start;
    for (;;) {
      size_t eol;
      while ((eol = buffer_.find("\r\n", pos)) == std::string::npos) {
        if (fill(deadline) <= 0) return std::nullopt;
      }
      size_t size = 0;
      auto [p, ec] = std::from_chars(buffer_.data() + pos, buffer_.data() + eol, size, 16);
      if (ec != std::errc()) return std::nullopt;
      (void)p;  // chunk extensions after the size are ignored
      size_t data = eol + 2;
      if (size == 0) {
        // Trailers (none expected) end with an empty line.
        size_t end;
        while ((end = buffer_.find("\r\n\r\n", eol)) == std::string::npos) {
          if (fill(deadline) <= 0) return std::nullopt;
        }
        consumed = end + 4;
        break;
      }
      while (buffer_.size() < data + size + 2) {
        if (fill(deadline) <= 0) return std::nullopt;
      }
      r.body.append(buffer_, data, size);
      pos = data + size + 2;
    }
  } else if (!cl.empty()) {
    size_t len = 0;
    auto [p, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), len);
    if (ec != std::errc() || p != cl.data() + cl.size()) return std::nullopt;
    while (buffer_.size() < body_start + len) {
      if (fill(deadline) <= 0) return std::nullopt;
    }
    r.body = buffer_.substr(body_start, len);
    consumed = body_start + len;
  } else {
    int rc;
    while ((rc = fill(deadline)) > 0) {
    }
    if (rc < 0) return std::nullopt;
    r.body = buffer_.substr(body_start);
    consumed = buffer_.size();
  }
  r.raw = buffer_.substr(0, consumed);
  buffer_.erase(0, consumed);
  return r;
}

bool RawClient::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int rc = fill(deadline);
    if (rc == 0) return true;
    if (rc < 0) return false;
  }
}

std::string format_request(std::string_view method, std::string_view target, std::string_view body,
                           const std::vector<std::string>& extra_headers) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& h : extra_headers) out.append(h).append("\r\n");
  if (!body.empty())
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

std::optional<RawResponse> http_request(uint16_t port, std::string_view method,
                                        std::string_view target, std::string_view body,
                                        const std::vector<std::string>& extra_headers,
                                        std::chrono::milliseconds timeout) {
  RawClient c(port);
  if (!c.connected()) return std::nullopt;
  if (!c.send(format_request(method, target, body, extra_headers))) return std::nullopt;
  return c.read_response(timeout, method == "HEAD");
}

}  // namespace onestack::test_support
