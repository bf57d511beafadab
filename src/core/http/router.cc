#include "core/http/router.h"

namespace onestack::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  // "/v3/projects/" and "/v3/projects" route alike, as in Keystone.
  while (out.size() > 1 && out.back().empty()) out.pop_back();
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view s, std::string* out) {
  out->clear();
  out->reserve(s.size());
  size_t from = 0;
  for (size_t i = s.find('%'); i != std::string_view::npos; i = s.find('%', from)) {
    out->append(s.data() + from, i - from);  // the run before the escape, at once
    if (i + 2 >= s.size()) return false;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    from = i + 3;
  }
  out->append(s.data() + from, s.size() - from);
  return true;
}

namespace {

// Whether percent_decode would accept `s`, without decoding it.
bool well_escaped(std::string_view s) {
  for (size_t i = s.find('%'); i != std::string_view::npos; i = s.find('%', i + 3)) {
    if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) return false;
  }
  return true;
}

}  // namespace

void Router::add(beast_http::verb method, std::string pattern, Handler handler,
                 RouteOptions options) {
  Compiled c;
  for (auto seg : split_path(pattern)) {
    c.segments.emplace_back(seg);
  }
  if (!c.segments.empty()) {
    const std::string& last = c.segments.back();
    c.rest = last.size() > 3 && last.front() == '{' && last[last.size() - 2] == '+';
  }
  routes_.push_back(Route{method, std::move(pattern), std::move(handler), routes_.size(), options});
  compiled_.push_back(std::move(c));
}

bool Router::match_pattern(const Compiled& c, std::string_view path,
                           const std::vector<std::string_view>& segs,
                           std::vector<std::string>* params) const {
  if (c.rest ? segs.size() < c.segments.size() : segs.size() != c.segments.size()) return false;
  if (params) params->clear();
  for (size_t i = 0; i < c.segments.size(); ++i) {
    const std::string& p = c.segments[i];
    bool is_param = !p.empty() && p.front() == '{';
    if (!is_param) {
      if (p != segs[i]) return false;
      continue;
    }
    std::string_view raw = segs[i];
    if (c.rest && i + 1 == c.segments.size()) {
      // The rest of the path, slashes included (a trailing one too: Swift
      // object names like "dir/" keep it).
      const char* begin = segs[i].data();
      const char* end = path.data() + path.size();
      raw = std::string_view(begin, static_cast<size_t>(end - begin));
    }
    if (raw.empty()) return false;
    if (decode_whole_path_) {
      if (params) params->emplace_back(raw);
      continue;
    }
    if (!params) {
      if (!well_escaped(raw)) return false;
      continue;
    }
    std::string decoded;
    if (!percent_decode(raw, &decoded)) return false;
    params->push_back(std::move(decoded));
  }
  return true;
}

Router::Match Router::match(beast_http::verb method, std::string_view path) const {
  Match m;
  std::string decoded;
  if (decode_whole_path_) {
    // Python's unquote: each valid %XX becomes its byte, any other "%"
    // stays.
    decoded.reserve(path.size());
    for (size_t i = 0; i < path.size(); ++i) {
      int hi = i + 2 < path.size() && path[i] == '%' ? hex_value(path[i + 1]) : -1;
      int lo = hi >= 0 ? hex_value(path[i + 2]) : -1;
      if (lo >= 0) {
        decoded.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        decoded.push_back(path[i]);
      }
    }
    path = decoded;
  }
  auto segs = split_path(path);
  std::vector<std::string> params;
  const Route* head_fallback = nullptr;
  std::vector<std::string> head_params;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    // Only the route that will run needs its parameters decoded; another
    // method's route on the same path only adds to Allow.
    const bool wanted = r.method == method || (method == beast_http::verb::head &&
                                               r.method == beast_http::verb::get && !head_fallback);
    if (!match_pattern(compiled_[i], path, segs, wanted ? &params : nullptr)) continue;
    if (r.method == method) {
      m.kind = MatchKind::kFound;
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
    if (method == beast_http::verb::head && r.method == beast_http::verb::get && !head_fallback) {
      head_fallback = &r;
      head_params = params;
    }
    for (auto v : {r.method, beast_http::verb::head}) {
      if (v == beast_http::verb::head && r.method != beast_http::verb::get) continue;
      std::string name(beast_http::to_string(v));
      if (m.allow.find(name) == std::string::npos) {
        if (!m.allow.empty()) m.allow += ", ";
        m.allow += name;
      }
    }
    m.kind = MatchKind::kNoMethod;
  }
  if (head_fallback) {
    m.kind = MatchKind::kFound;
    m.route = head_fallback;
    m.params = std::move(head_params);
  }
  return m;
}

}  // namespace onestack::http
