// Container and account ACLs through the handlers that parse, clean, store
// and evaluate them. Input lines: X-Container-Read, X-Container-Write,
// the Referer of an anonymous read, X-Account-Access-Control.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onestack::fuzz;
  const Harness& h = harness();
  const std::string base = "/v1/" + h.account;
  static const bool ready = [&] {
    roundtrip(h.object_port, request("PUT", base + "/acl", "", ""));
    roundtrip(h.object_port, request("PUT", base + "/acl/o", "", "hello"));
    return true;
  }();
  (void)ready;
  auto lines = split_lines(std::string_view(reinterpret_cast<const char*>(data), size), 4);
  std::string headers = "X-Container-Read: " + header_value(lines[0]) +
                        "\r\nX-Container-Write: " + header_value(lines[1]) + "\r\n";
  roundtrip(h.object_port, request("POST", base + "/acl", headers, ""));
  roundtrip(h.object_port, request("PUT", base + "/acl2", headers, ""));
  roundtrip(h.object_port, request("HEAD", base + "/acl", "", ""));
  std::string referer = "Referer: " + header_value(lines[2]) + "\r\n";
  roundtrip(h.object_port, request("GET", base + "/acl/o", referer, "", false));
  roundtrip(h.object_port, request("GET", base + "/acl", referer, "", false));
  roundtrip(h.object_port, request("PUT", base + "/acl/anon", referer, "x", false));
  std::string account_acl = "X-Account-Access-Control: " + header_value(lines[3]) + "\r\n";
  roundtrip(h.object_port, request("POST", base, account_acl, ""));
  roundtrip(h.object_port, request("HEAD", base, "", ""));
  roundtrip(h.object_port, request("GET", base, "", "", false));
  // Leave the account ACL empty again for the next input.
  roundtrip(h.object_port, request("POST", base, "X-Remove-Account-Access-Control: x\r\n", ""));
  return 0;
}
