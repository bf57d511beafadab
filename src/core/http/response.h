// What a handler returns: status, headers and a body. The connection adds
// Content-Length (or chunked framing), the request id, Date, and for HEAD
// requests sends the headers of the would-be body without the body.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <string>

namespace onestack::http {

namespace beast_http = boost::beast::http;

struct Response {
  beast_http::status status = beast_http::status::ok;
  beast_http::fields headers;
  std::string body;

  // A response with `body` and its Content-Type.
  static Response with_body(beast_http::status s, std::string body, std::string_view type) {
    Response r;
    r.status = s;
    r.headers.set(beast_http::field::content_type, type);
    r.body = std::move(body);
    return r;
  }
  static Response json(beast_http::status s, std::string body) {
    return with_body(s, std::move(body), "application/json");
  }
  static Response empty(beast_http::status s) {
    Response r;
    r.status = s;
    return r;
  }
};

}  // namespace onestack::http
