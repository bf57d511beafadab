// Identity request bodies: the first byte picks an endpoint (token
// requests, with and without a token, and the CRUD of every resource the
// admin may create), the rest is the JSON body. Requests carry the admin
// token except the first kind, which authenticates by its body alone.
// Placeholders in the body are expanded as fuzz_http expands them.
#include <cstdint>
#include <string>
#include <string_view>

#include "harness.h"

namespace {

struct Endpoint {
  const char* method;
  const char* path;
  bool auth;
};

// "@UID@" and "@PID@" stand for the admin user's and project's ids. PATCH
// requests name ids that do not exist: the body is checked before the
// lookup, and the admin's own user and project stay as they are.
constexpr Endpoint kEndpoints[] = {
    {"POST", "/v3/auth/tokens", false},
    {"POST", "/v3/auth/tokens", true},
    {"POST", "/v3/users", true},
    {"POST", "/v3/projects", true},
    {"POST", "/v3/domains", true},
    {"POST", "/v3/groups", true},
    {"POST", "/v3/roles", true},
    {"POST", "/v3/regions", true},
    {"POST", "/v3/services", true},
    {"POST", "/v3/endpoints", true},
    {"POST", "/v3/credentials", true},
    {"POST", "/v3/users/@UID@/application_credentials", true},
    {"POST", "/v3/users/@UID@/credentials/OS-EC2", true},
    {"POST", "/v3/policies", true},
    {"POST", "/v3/OS-EP-FILTER/endpoint_groups", true},
    {"POST", "/v3/OS-OAUTH1/consumers", true},
    {"PUT", "/v3/domains/default/config", true},
    {"PUT", "/v3/projects/@PID@/tags", true},
    {"PUT", "/v3/regions/fuzz-region", true},
    {"PATCH", "/v3/users/nope", true},
    {"PATCH", "/v3/projects/nope", true},
    {"PATCH", "/v3/domains/nope", true},
    {"PATCH", "/v3/groups/nope", true},
    {"PATCH", "/v3/roles/nope", true},
    {"PATCH", "/v3/regions/nope", true},
    {"PATCH", "/v3/services/nope", true},
    {"PATCH", "/v3/endpoints/nope", true},
    {"PATCH", "/v3/credentials/nope", true},
    {"PATCH", "/v3/domains/default/config", true},
    {"POST", "/v3/auth/tokens?nocatalog", false},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onestack::fuzz;
  if (size == 0) return 0;
  const Harness& h = harness();
  const Endpoint& e = kEndpoints[data[0] % (sizeof kEndpoints / sizeof kEndpoints[0])];
  std::string body = expand(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  std::string path = expand(e.path);
  roundtrip(h.identity_port,
            request(e.method, path, "Content-Type: application/json\r\n", body, e.auth));
  return 0;
}
