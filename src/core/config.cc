#include "core/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace onestack {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

Result<Config> Config::parse(const std::string& text) {
  Config cfg;
  std::istringstream in(text);
  std::string line;
  std::string section = "DEFAULT";
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']' || t.size() < 3) {
        return make_error(ErrorCode::kInvalidArgument,
                          "config line " + std::to_string(lineno) + ": bad section header");
      }
      section = trim(t.substr(1, t.size() - 2));
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "config line " + std::to_string(lineno) + ": expected 'key = value'");
    }
    std::string key = trim(t.substr(0, eq));
    if (key.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "config line " + std::to_string(lineno) + ": empty key");
    }
    cfg.sections_[section][key] = trim(t.substr(eq + 1));
  }
  return cfg;
}

Result<Config> Config::load_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return make_error(ErrorCode::kNotFound, "cannot open config file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse(ss.str());
}

bool Config::has(const std::string& section, const std::string& key) const {
  auto s = sections_.find(section);
  return s != sections_.end() && s->second.count(key) > 0;
}

std::string Config::get(const std::string& section, const std::string& key,
                        const std::string& def) const {
  auto s = sections_.find(section);
  if (s == sections_.end()) return def;
  auto k = s->second.find(key);
  return k == s->second.end() ? def : k->second;
}

Result<int64_t> Config::get_int(const std::string& section, const std::string& key,
                                int64_t def) const {
  if (!has(section, key)) return def;
  std::string v = get(section, key, "");
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "[" + section + "] " + key + ": not an integer: " + v);
  }
  return out;
}

Result<bool> Config::get_bool(const std::string& section, const std::string& key, bool def) const {
  if (!has(section, key)) return def;
  std::string v = get(section, key, "");
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  return make_error(ErrorCode::kInvalidArgument,
                    "[" + section + "] " + key + ": not a boolean: " + v);
}

void Config::set(const std::string& section, const std::string& key, std::string value) {
  sections_[section][key] = std::move(value);
}

}  // namespace onestack
