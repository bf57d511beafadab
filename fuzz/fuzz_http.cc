// The whole HTTP path in process: raw request bytes into the server's
// connection code (header parsing, limits, body framing, token
// validation), the router, and the handlers of the identity and the
// object-store routers over a real SQLite store and filesystem blob store.
// "@TOKEN@" in the input becomes a valid admin token and "@ACCT@" the
// admin's Swift account, so fuzzed requests reach authenticated handlers.
// A request line naming /v3 or /v2.0 goes to the identity listener, every
// other input to the object-store listener.
#include <cstdint>
#include <string>
#include <string_view>

#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onestack::fuzz;
  const Harness& h = harness();
  std::string in = expand(std::string_view(reinterpret_cast<const char*>(data), size));
  std::string_view first_line = std::string_view(in).substr(0, in.find('\n'));
  bool identity = first_line.find(" /v3") != std::string_view::npos ||
                  first_line.find(" /v2.0") != std::string_view::npos ||
                  first_line.find(" / ") != std::string_view::npos;
  (void)roundtrip(identity ? h.identity_port : h.object_port, in);
  return 0;
}
