// Small helpers the structured HTTP fuzz targets share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace onestack::fuzz {

// Splits `in` at '\n' into at most `n` parts; the last part keeps the rest.
inline std::vector<std::string> split_lines(std::string_view in, size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos) break;
    out.emplace_back(in.substr(0, nl));
    in.remove_prefix(nl + 1);
  }
  out.emplace_back(in);
  while (out.size() < n) out.emplace_back();
  return out;
}

// A header value: CR and LF would end the header, so they go.
inline std::string header_value(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r' && c != '\n') out += c;
  }
  return out;
}

// Percent-encodes what cannot stand in a request target, leaving '%' so
// the fuzzer still writes escapes of its own.
inline std::string target_text(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c > 0x20 && c < 0x7f && c != '#') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace onestack::fuzz
