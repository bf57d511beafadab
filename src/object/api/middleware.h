// The pieces of the Swift middlewares (TempURL, FormPost, bulk, CORS) that
// need no request to be tested: signatures, expiry times, the streaming
// multipart/form-data reader, the bulk-delete body, CORS origin lists. The
// hooks themselves are declared in features.h.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/request.h"
#include "core/result.h"

namespace onestack::object::api {

// ---- signatures (TempURL and FormPost) ----
enum class Digest { kSha1, kSha256, kSha512 };

// The raw (binary) HMAC of `message` under `key`.
std::string hmac_raw(Digest d, std::string_view key, std::string_view message);
// Lower-case hex of the HMAC, as Python's hmac.hexdigest().
std::string hmac_hex(Digest d, std::string_view key, std::string_view message);

// A signature as a client sends it: 40/64/128 hex digits (SHA1/256/512) or
// "<sha1|sha256|sha512>:<base64 or base64url>" (swift/common/digest.py
// extract_digest_and_algorithm). nullopt when malformed or of an unknown
// digest.
struct Signature {
  Digest digest = Digest::kSha1;
  std::string raw;  // the decoded digest bytes
};
std::optional<Signature> parse_signature(std::string_view sig);
// Whether `sig` is the HMAC of `message` under `key`; the comparison takes
// the same time wherever the bytes differ (CRYPTO_memcmp).
bool signature_matches(const Signature& sig, std::string_view key, std::string_view message);

// temp_url_expires: unix seconds or ISO 8601 "2024-01-01T00:00:00Z".
// nullopt when neither parses.
std::optional<int64_t> parse_expires(std::string_view v);

// The message a TempURL signs (swift.common.utils.get_hmac):
// "METHOD\nEXPIRES\nPATH", preceded by "ip=<range>\n" when an IP range is
// part of the URL. `path` is "/v1/a/c/o" or "prefix:/v1/a/c/<prefix>".
std::string tempurl_message(std::string_view method, int64_t expires, std::string_view path,
                            std::string_view ip_range);

// Whether `ip` lies in `range` ("10.0.0.0/8", "2001:db8::/32", or a single
// address). False for malformed input, or a range with host bits set (as
// Python's ip_network refuses it).
bool ip_in_range(std::string_view ip, std::string_view range);

// Python's urllib.parse.quote(s, safe): percent-encodes every byte but
// letters, digits, "_.-~" and those in `safe`.
std::string py_quote(std::string_view s, std::string_view safe = "/");

// TempURL's Content-Disposition value:
// `type; filename="<quoted>"; filename*=UTF-8''<quoted>`.
std::string disposition_value(std::string_view type, std::string_view filename);

// ---- multipart/form-data (FormPost) ----
// Reads a multipart body part by part from a BodyReader without ever
// holding more than a bounded window of it: next_part() moves to the next
// part and parses its headers; read() returns that part's bytes until the
// part ends. The body must begin (after optional blank lines) with the
// "--boundary" line, as Swift's iter_multipart_mime_documents demands.
class MultipartReader {
 public:
  MultipartReader(http::BodyReader& body, std::string boundary);

  struct PartHeaders {
    std::string disposition;  // "form-data"
    std::string name;         // name="..."
    std::optional<std::string> filename;
    std::string content_type;      // "" when absent
    std::string content_encoding;  // "" when absent
  };
  // Skips what is left of the current part and reads the next part's
  // headers. Returns false after the closing boundary. kInvalidArgument
  // ("invalid starting boundary", malformed or oversized headers, a body
  // that ends before its closing boundary) or the body's read error.
  boost::asio::awaitable<Result<bool>> next_part(PartHeaders* out);
  // Up to `len` bytes of the current part; 0 at its end.
  boost::asio::awaitable<Result<size_t>> read(char* buf, size_t len);

 private:
  boost::asio::awaitable<Status> fill();  // reads more of the body into buf_
  http::BodyReader& body_;
  std::string delim_;      // "\r\n--" + boundary
  std::string buf_;        // unread window of the body
  size_t pos_ = 0;         // start of unread bytes in buf_
  bool eof_ = false;       // body fully read
  bool started_ = false;   // first boundary seen
  bool in_part_ = false;   // between a part's headers and its delimiter
  bool finished_ = false;  // closing boundary seen
};

// Content-Disposition / Content-Type style "value; k=v; k2=\"v2\"" split
// into the lower-cased value and its parameters (keys lower-cased).
std::string parse_header_params(std::string_view header,
                                std::vector<std::pair<std::string, std::string>>* params);

// ---- bulk delete ----
// The body of a bulk delete, read as bulk.py get_objs_to_delete reads it:
// lines split off one at a time, stripped and URL-decoded as Python's
// unquote decodes (a bad escape stays as it is). A blank line counts as a
// name (one that is skipped later); an unterminated blank last line does
// not. Feed it the body `max_path` bytes at a time, then "" at its end.
class DeleteList {
 public:
  DeleteList(size_t max_count, size_t max_path);
  // kTooLarge once there are more than max_count names, kInvalidArgument
  // ("Invalid File Name") once the unsplit rest passes 2 * max_path bytes.
  Status feed(std::string_view data);
  std::vector<std::string> names() && { return std::move(names_); }

 private:
  Status check() const;
  void take(std::string_view line);
  size_t max_count_;
  size_t max_path_;
  std::string line_;  // read and not yet split
  std::vector<std::string> names_;
};
// Splits "/container/object" or "container" (an already decoded bulk-delete
// line) into container and object ("" for a container). False when the
// container part is empty.
bool split_delete_path(std::string_view line, std::string* container, std::string* object);

// ---- CORS ----
// Whether `origin` is allowed by X-Container-Meta-Access-Control-Allow-Origin
// `allowed` (space-separated origins, or "*").
bool cors_origin_allowed(std::string_view allowed, std::string_view origin);

}  // namespace onestack::object::api
