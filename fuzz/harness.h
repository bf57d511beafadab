// The in-process onestack that the HTTP-level fuzz targets talk to: the
// identity and object-store routers on one http::Server, a real SQLite
// store and a real filesystem blob store in a temporary directory made once
// per process, a bootstrapped admin and a token for it. Requests go over
// loopback TCP into the server's own connection code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace onestack::fuzz {

struct Harness {
  uint16_t identity_port = 0;
  uint16_t object_port = 0;
  std::string token;       // a project-scoped admin token
  std::string user_id;     // the admin user
  std::string project_id;  // the admin project
  std::string account;     // "AUTH_" + project_id
};

// Starts everything on the first call (aborts if that fails); thread-safe.
const Harness& harness();

// Sends `bytes` to 127.0.0.1:`port`, half-closes, and returns everything the
// server answered until it closed the connection. Aborts (a finding) when
// the server keeps the connection open for 20 s.
std::string roundtrip(uint16_t port, std::string_view bytes);

// Replaces every "@TOKEN@" with the admin token, "@ACCT@" with its account,
// "@UID@" and "@PID@" with the admin's user and project ids.
std::string expand(std::string_view input);

// Builds one HTTP/1.1 request with Content-Length, Connection: close and, if
// `auth`, the admin token. `extra_headers` are whole "Name: value\r\n" lines.
std::string request(std::string_view method, std::string_view target,
                    std::string_view extra_headers, std::string_view body, bool auth = true);

// The status code of the first response in `raw` (0 if none).
int status_of(std::string_view raw);

}  // namespace onestack::fuzz
