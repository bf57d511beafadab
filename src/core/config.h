// Configuration in oslo.config's INI dialect: "[section]" headers, "key =
// value" lines, "#" or ";" comments, "[DEFAULT]" for options outside any
// section. Every option has a working default, so no file is needed at all.
// A Config is immutable once parsed and safe to read from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/result.h"

namespace onestack {

class Config {
 public:
  Config() = default;

  // Parses INI text. kInvalidArgument naming the line on malformed input.
  static Result<Config> parse(const std::string& text);
  // Reads and parses a file. kNotFound if it cannot be opened.
  static Result<Config> load_file(const std::string& path);

  bool has(const std::string& section, const std::string& key) const;
  // Returns the value, or `def` when unset.
  std::string get(const std::string& section, const std::string& key, const std::string& def) const;
  // kInvalidArgument naming "[section] key" when the value is not an integer.
  Result<int64_t> get_int(const std::string& section, const std::string& key, int64_t def) const;
  // Accepts true/false/yes/no/on/off/1/0 (any case).
  Result<bool> get_bool(const std::string& section, const std::string& key, bool def) const;

  // Sets a value (used by command-line overrides before the config is shared).
  void set(const std::string& section, const std::string& key, std::string value);

 private:
  std::map<std::string, std::map<std::string, std::string>> sections_;
};

}  // namespace onestack
