// Bulk extract-archive: the request body read by libarchive as onestack
// reads it. The first byte picks the format (tar, tar.gz, tar.bz2) and
// whether the archive is unpacked under a container or the account.
#include <cstdint>
#include <string>
#include <string_view>

#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onestack::fuzz;
  if (size == 0) return 0;
  const Harness& h = harness();
  static const char* formats[] = {"tar", "tar.gz", "tar.bz2"};
  const char* format = formats[(data[0] & 0x7f) % 3];
  std::string target = "/v1/" + h.account + ((data[0] & 0x80) ? "/" : "/tarc/");
  target += "?extract-archive=";
  target += format;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  roundtrip(h.object_port, request("PUT", target, "Accept: application/json\r\n", body));
  return 0;
}
