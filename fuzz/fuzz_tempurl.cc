// TempURL and FormPost: their query, signature and multipart body parsing,
// through the real middleware of the object-store listener.
// Input lines: the TempURL query string ("temp_url_sig=...&temp_url_expires=
// ...&filename=..."), the FormPost boundary, then the FormPost body.
// "@TUSIG@" in the query is replaced with a valid SHA-256 signature of a
// GET of the test object expiring at 9999999999; "@FORMSIG@" in the body
// with the valid signature of a form posting to the test container with
// redirect "", max_file_size 1024, max_file_count 10, expires 9999999999;
// so mutations behind a valid signature are reached as well.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "harness.h"
#include "object/api/middleware.h"

namespace {

constexpr const char* kKey = "fuzz-tempurl-key";

std::string replace_all(std::string s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onestack::fuzz;
  namespace api = onestack::object::api;
  const Harness& h = harness();
  const std::string base = "/v1/" + h.account;
  static const bool ready = [&] {
    roundtrip(
        h.object_port,
        request("POST", base, std::string("X-Account-Meta-Temp-URL-Key: ") + kKey + "\r\n", ""));
    roundtrip(h.object_port, request("PUT", base + "/tu", "", ""));
    roundtrip(h.object_port, request("PUT", base + "/tu/o", "", "tempurl object"));
    return true;
  }();
  (void)ready;
  static const std::string tu_sig =
      api::hmac_hex(api::Digest::kSha256, kKey, "GET\n9999999999\n" + base + "/tu/o");
  static const std::string form_sig =
      api::hmac_hex(api::Digest::kSha256, kKey, base + "/tu/\n\n1024\n10\n9999999999");

  auto lines = split_lines(std::string_view(reinterpret_cast<const char*>(data), size), 3);
  std::string query = target_text(replace_all(lines[0], "@TUSIG@", tu_sig));
  (void)api::parse_signature(lines[0]);
  (void)api::parse_expires(lines[0]);
  size_t space = lines[0].find(' ');
  if (space != std::string::npos) {
    (void)api::ip_in_range(std::string_view(lines[0]).substr(0, space),
                           std::string_view(lines[0]).substr(space + 1));
  }
  roundtrip(h.object_port, request("GET", base + "/tu/o?" + query, "", "", false));
  roundtrip(h.object_port, request("HEAD", base + "/tu/o?" + query, "", "", false));
  roundtrip(h.object_port, request("PUT", base + "/tu/p?" + query, "", "x", false));

  std::string ctype =
      "Content-Type: multipart/form-data; boundary=" + header_value(lines[1]) + "\r\n";
  std::string body = replace_all(lines[2], "@FORMSIG@", form_sig);
  roundtrip(h.object_port, request("POST", base + "/tu/", ctype, body, false));
  std::vector<std::pair<std::string, std::string>> params;
  (void)api::parse_header_params(lines[1], &params);
  return 0;
}
