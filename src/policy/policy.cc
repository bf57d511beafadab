#include "policy/policy.h"

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace onestack::policy {
namespace {

// Policy files are a few kilobytes; anything this large is a mistake.
constexpr std::uintmax_t kMaxPolicyFileBytes = 16 * 1024 * 1024;

using FileRules = std::vector<std::pair<std::string, Rule>>;

Error file_error(std::string_view origin, std::string_view what) {
  std::string msg = "policy file ";
  msg.append(origin);
  msg += ": ";
  msg.append(what);
  return make_error(ErrorCode::kInvalidArgument, std::move(msg));
}

Error line_error(std::string_view origin, size_t line, std::string_view what) {
  return file_error(origin, "line " + std::to_string(line) + ": " + std::string(what));
}

Status add_file_rule(FileRules& out, std::string_view origin, std::string name, Result<Rule> rule) {
  if (!rule.ok()) return file_error(origin, rule.error().message);
  // A repeated key: the last one wins, as in the YAML and JSON loaders
  // oslo.policy uses.
  for (auto& [n, r] : out) {
    if (n == name) {
      r = std::move(*rule);
      return ok_status();
    }
  }
  out.emplace_back(std::move(name), std::move(*rule));
  return ok_status();
}

Result<FileRules> parse_json_policy(std::string_view contents, std::string_view origin) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(contents, ec);
  if (ec) return file_error(origin, "invalid JSON: " + ec.message());
  if (!doc.is_object()) return file_error(origin, "top level must be an object");
  FileRules out;
  for (const auto& [key, value] : doc.as_object()) {
    std::string name(key);
    if (value.is_string()) {
      ONESTACK_TRY(add_file_rule(out, origin, name, Rule::parse(name, value.as_string())));
      continue;
    }
    if (!value.is_array()) {
      return file_error(origin, "rule \"" + name + "\" must be a string or a list");
    }
    // The legacy form: a list of lists of checks (a bare string stands for a
    // one-check list).
    std::vector<std::vector<std::string>> list;
    for (const auto& inner : value.as_array()) {
      if (inner.is_string()) {
        list.push_back({std::string(inner.as_string())});
        continue;
      }
      if (!inner.is_array()) {
        return file_error(origin, "rule \"" + name + "\": list entries must be lists of strings");
      }
      std::vector<std::string> checks;
      for (const auto& check : inner.as_array()) {
        if (!check.is_string()) {
          return file_error(origin, "rule \"" + name + "\": checks must be strings");
        }
        checks.emplace_back(check.as_string());
      }
      list.push_back(std::move(checks));
    }
    ONESTACK_TRY(add_file_rule(out, origin, name, Rule::parse_list(name, list)));
  }
  return out;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Reads a quoted YAML scalar starting at text[pos] (a quote character).
// Advances pos past the closing quote.
Result<std::string> read_quoted(std::string_view text, size_t& pos, std::string_view origin,
                                size_t line) {
  char quote = text[pos++];
  std::string out;
  while (pos < text.size()) {
    char c = text[pos++];
    if (quote == '\'' && c == '\'') {
      if (pos < text.size() && text[pos] == '\'') {  // '' is an escaped quote
        out += '\'';
        ++pos;
        continue;
      }
      return out;
    }
    if (quote == '"' && c == '"') return out;
    if (quote == '"' && c == '\\') {
      if (pos >= text.size()) break;
      char e = text[pos++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        default: return line_error(origin, line, std::string("unsupported escape \\") + e);
      }
      continue;
    }
    out += c;
  }
  return line_error(origin, line, "unterminated quoted string");
}

// After a quoted scalar only blanks and a comment may follow.
bool only_comment_left(std::string_view text, size_t pos) {
  while (pos < text.size() && is_blank(text[pos])) ++pos;
  return pos == text.size() || text[pos] == '#';
}

Result<FileRules> parse_yaml_policy(std::string_view contents, std::string_view origin) {
  FileRules out;
  size_t line_no = 0;
  size_t start = 0;
  while (start <= contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view line = contents.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    size_t first = 0;
    while (first < line.size() && is_blank(line[first])) ++first;
    if (first == line.size() || line[first] == '#') continue;
    if (line.substr(0, 3) == "---" || line.substr(0, 3) == "...") {
      if (only_comment_left(line, 3)) continue;
    }
    if (first != 0) {
      return line_error(origin, line_no,
                        "indented lines (nested or continued values) are not "
                        "supported; write each rule as one `name: check` line");
    }

    // The key.
    std::string key;
    size_t pos = 0;
    if (line[0] == '"' || line[0] == '\'') {
      auto quoted = read_quoted(line, pos, origin, line_no);
      if (!quoted.ok()) return std::move(quoted).error();
      key = std::move(*quoted);
      while (pos < line.size() && is_blank(line[pos])) ++pos;
      if (pos >= line.size() || line[pos] != ':') {
        return line_error(origin, line_no, "expected ':' after the key");
      }
    } else {
      // A plain key runs to the first ':' followed by a blank or the end.
      while (pos < line.size() &&
             !(line[pos] == ':' && (pos + 1 == line.size() || is_blank(line[pos + 1])))) {
        ++pos;
      }
      if (pos >= line.size()) return line_error(origin, line_no, "expected `name: check`");
      key = std::string(line.substr(0, pos));
      while (!key.empty() && is_blank(key.back())) key.pop_back();
      if (key.empty() || key[0] == '-' || key[0] == '{' || key[0] == '[' || key[0] == '?') {
        return line_error(origin, line_no, "only a mapping of `name: check` lines is supported");
      }
    }
    ++pos;  // the ':'
    while (pos < line.size() && is_blank(line[pos])) ++pos;

    // The value.
    std::string value;
    if (pos >= line.size() || line[pos] == '#') {
      return line_error(origin, line_no, "rule \"" + key + "\" has no value (use \"\" for always)");
    }
    char c = line[pos];
    if (c == '"' || c == '\'') {
      auto quoted = read_quoted(line, pos, origin, line_no);
      if (!quoted.ok()) return std::move(quoted).error();
      if (!only_comment_left(line, pos)) {
        return line_error(origin, line_no, "unexpected text after the quoted value");
      }
      value = std::move(*quoted);
    } else if (c == '{' || c == '[' || c == '|' || c == '>' || c == '&' || c == '*' || c == '!' ||
               c == '@' || c == '`' || c == '%') {
      return line_error(origin, line_no,
                        std::string("values starting with '") + c +
                            "' are not supported; quote the check string");
    } else {
      size_t value_end = pos;
      while (value_end < line.size() &&
             !(line[value_end] == '#' && is_blank(line[value_end - 1]))) {
        ++value_end;
      }
      value = std::string(line.substr(pos, value_end - pos));
      while (!value.empty() && is_blank(value.back())) value.pop_back();
    }
    ONESTACK_TRY(add_file_rule(out, origin, key, Rule::parse(key, value)));
  }
  return out;
}

Result<FileRules> parse_policy_text(std::string_view contents, std::string_view origin) {
  size_t first = contents.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && contents[first] == '{') {
    return parse_json_policy(contents, origin);
  }
  return parse_yaml_policy(contents, origin);
}

}  // namespace

Result<PolicyEngine> PolicyEngine::load(std::span<const DefaultRule> defaults,
                                        const std::string& policy_file, bool enforce_new_defaults) {
  if (policy_file.empty()) return load_from_text(defaults, "", enforce_new_defaults);
  std::error_code ec;
  auto size = std::filesystem::file_size(policy_file, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return make_error(ErrorCode::kNotFound, "policy file " + policy_file + " does not exist");
    }
    return file_error(policy_file, ec.message());
  }
  if (size > kMaxPolicyFileBytes) return file_error(policy_file, "too large");
  std::ifstream in(policy_file, std::ios::binary);
  if (!in) return file_error(policy_file, "cannot be opened");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return file_error(policy_file, "read failed");
  return load_from_text(defaults, buf.str(), enforce_new_defaults, policy_file);
}

Result<PolicyEngine> PolicyEngine::load_from_text(std::span<const DefaultRule> defaults,
                                                  std::string_view contents,
                                                  bool enforce_new_defaults,
                                                  std::string_view origin) {
  auto file_rules = parse_policy_text(contents, origin);
  if (!file_rules.ok()) return std::move(file_rules).error();

  PolicyEngine engine;
  for (auto& [name, rule] : *file_rules) engine.rules_.emplace(name, std::move(rule));

  for (const DefaultRule& d : defaults) {
    if (engine.rules_.contains(d.name)) continue;  // the file overrides it
    auto rule = Rule::parse(d.name, d.check);
    if (!rule.ok()) return make_error(ErrorCode::kInternal, rule.error().message);
    if (d.deprecated != nullptr && !enforce_new_defaults &&
        std::string_view(d.deprecated) != d.check) {
      auto old = Rule::parse(d.name, d.deprecated);
      if (!old.ok()) return make_error(ErrorCode::kInternal, old.error().message);
      engine.rules_.emplace(std::string(d.name), Rule::either(*rule, *old));
    } else {
      engine.rules_.emplace(std::string(d.name), std::move(*rule));
    }
  }

  // Reject `rule:` cycles now, so no request can ever meet one. References to
  // undefined rules are allowed: they evaluate to false (fail closed).
  enum class Mark { kNone, kActive, kDone };
  std::map<std::string_view, Mark> marks;
  std::vector<std::string_view> path;
  struct Visit {
    PolicyEngine& engine;
    std::map<std::string_view, Mark>& marks;
    std::vector<std::string_view>& path;
    Status operator()(std::string_view name) {
      auto it = engine.rules_.find(name);
      if (it == engine.rules_.end()) return ok_status();
      Mark& m = marks[it->first];
      if (m == Mark::kDone) return ok_status();
      if (m == Mark::kActive) {
        std::string cycle;
        bool in_cycle = false;
        for (std::string_view p : path) {
          if (p == name) in_cycle = true;
          if (in_cycle) cycle.append(p).append(" -> ");
        }
        cycle.append(name);
        return make_error(ErrorCode::kInvalidArgument, "policy rule cycle: " + cycle);
      }
      m = Mark::kActive;
      path.push_back(it->first);
      for (std::string_view ref : it->second.references()) ONESTACK_TRY((*this)(ref));
      path.pop_back();
      marks[it->first] = Mark::kDone;
      return ok_status();
    }
  };
  Visit visit{engine, marks, path};
  for (const auto& [name, rule] : engine.rules_) {
    auto st = visit(name);
    if (!st.ok()) return file_error(origin, st.error().message);
  }
  return engine;
}

bool PolicyEngine::enforce(std::string_view rule, const Credentials& creds,
                           const Target& target) const {
  const Rule* r = find_rule(rule);
  return r != nullptr && r->evaluate(creds, target, this);
}

bool PolicyEngine::has_rule(std::string_view rule) const { return rules_.contains(rule); }

std::optional<std::string> PolicyEngine::describe(std::string_view rule) const {
  const Rule* r = find_rule(rule);
  if (r == nullptr) return std::nullopt;
  return r->to_string();
}

const Rule* PolicyEngine::find_rule(std::string_view name) const {
  auto it = rules_.find(name);
  return it == rules_.end() ? nullptr : &it->second;
}

Credentials credentials_of(const auth::AuthContext& caller) {
  Credentials c;
  c.user_id = caller.user_id;
  c.user_domain_id = caller.user_domain_id;
  c.project_id = caller.project_id;
  c.project_domain_id = caller.project_domain_id;
  c.domain_id = caller.domain_id;
  c.system_scope = caller.system_scope;
  c.roles = caller.role_names;
  return c;
}

}  // namespace onestack::policy
