#include "policy/rule.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

namespace onestack::policy {
namespace {

enum class NodeKind : uint8_t { kTrue, kFalse, kAnd, kOr, kNot, kRuleRef, kRole, kGeneric };

// Where a generic check's left side ("KIND") takes its value from.
enum class CredPath : uint8_t {
  kLiteral,  // KIND is a Python literal; its text is in Node::arg
  kUnknown,  // a path the credentials do not have: never matches
  kUserId,
  kUserDomainId,
  kProjectId,
  kProjectDomainId,
  kDomainId,
  kSystemScope,
  kRoles,
  kIsAdminProject,
  kAlwaysNone,  // oslo.context keys Keystone never fills (service_user_id...)
  kTokenUserId,
  kTokenUserDomainId,
  kTokenProjectId,
  kTokenProjectDomainId,
  kTokenDomainId,
  kTokenSystemAll,
  kTokenRoleNames,
};

struct MatchPiece {
  bool is_key = false;  // true: `text` is a Target key; false: literal text
  std::string text;
};

}  // namespace

struct Rule::Node {
  NodeKind kind = NodeKind::kFalse;
  CredPath path = CredPath::kUnknown;
  std::vector<uint32_t> children;  // kAnd/kOr: operands; kNot: one operand
  std::string text;                // the check as written, for rendering
  std::string arg;                 // kRuleRef: rule name; kLiteral: its value
  std::vector<MatchPiece> match;   // kRole/kGeneric: the right side
};

namespace {

using Node = Rule::Node;

Error parse_error(std::string_view rule_name, std::string_view what) {
  std::string msg = "policy rule \"";
  msg.append(rule_name);
  msg += "\": ";
  msg.append(what);
  return make_error(ErrorCode::kInvalidArgument, std::move(msg));
}

// Splits MATCH into literal runs and `%(key)s` substitutions, as Python's
// `str % dict` reads it. Only the `s` conversion and `%%` are accepted.
Result<std::vector<MatchPiece>> parse_match(std::string_view rule_name, std::string_view s) {
  std::vector<MatchPiece> pieces;
  std::string literal;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      literal += s[i];
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '%') {
      literal += '%';
      ++i;
      continue;
    }
    if (i + 1 >= s.size() || s[i + 1] != '(') {
      return parse_error(rule_name, "unsupported '%' format in \"" + std::string(s) + "\"");
    }
    size_t close = s.find(')', i + 2);
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != 's') {
      return parse_error(rule_name,
                         "substitution must be written %(key)s in \"" + std::string(s) + "\"");
    }
    if (!literal.empty()) pieces.push_back({false, std::move(literal)});
    literal.clear();
    pieces.push_back({true, std::string(s.substr(i + 2, close - i - 2))});
    i = close + 1;
  }
  if (!literal.empty() || pieces.empty()) pieces.push_back({false, std::move(literal)});
  return pieces;
}

bool is_int_literal(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size()) return false;
  return std::all_of(s.begin() + static_cast<long>(i), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// Classifies a generic check's KIND. Literals mirror ast.literal_eval for the
// forms policy files use; anything else is a path into the credentials.
CredPath classify_kind(std::string_view kind, std::string& literal_value) {
  if (kind == "True" || kind == "False" || kind == "None") {
    literal_value = kind;
    return CredPath::kLiteral;
  }
  if (kind.size() >= 2 && (kind.front() == '\'' || kind.front() == '"') &&
      kind.back() == kind.front()) {
    literal_value = kind.substr(1, kind.size() - 2);
    return CredPath::kLiteral;
  }
  if (is_int_literal(kind)) {
    literal_value = kind[0] == '+' ? kind.substr(1) : kind;
    return CredPath::kLiteral;
  }
  static constexpr std::pair<std::string_view, CredPath> kPaths[] = {
      {"user_id", CredPath::kUserId},
      {"user_domain_id", CredPath::kUserDomainId},
      {"project_id", CredPath::kProjectId},
      {"project_domain_id", CredPath::kProjectDomainId},
      {"domain_id", CredPath::kDomainId},
      {"system_scope", CredPath::kSystemScope},
      {"roles", CredPath::kRoles},
      {"is_admin_project", CredPath::kIsAdminProject},
      {"service_user_id", CredPath::kAlwaysNone},
      {"service_user_domain_id", CredPath::kAlwaysNone},
      {"service_project_id", CredPath::kAlwaysNone},
      {"service_project_domain_id", CredPath::kAlwaysNone},
      {"token.user.id", CredPath::kTokenUserId},
      {"token.user.domain.id", CredPath::kTokenUserDomainId},
      {"token.project.id", CredPath::kTokenProjectId},
      {"token.project.domain.id", CredPath::kTokenProjectDomainId},
      {"token.domain.id", CredPath::kTokenDomainId},
      {"token.system.all", CredPath::kTokenSystemAll},
      {"token.roles.name", CredPath::kTokenRoleNames},
  };
  for (const auto& [name, path] : kPaths) {
    if (name == kind) return path;
  }
  return CredPath::kUnknown;
}

enum class TokKind { kLParen, kRParen, kAnd, kOr, kNot, kString, kCheck };
struct Token {
  TokKind kind;
  std::string_view text;
};

// oslo.policy's tokenizer: whitespace-separated words; leading '(' and
// trailing ')' characters of a word are separate tokens.
std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    std::string_view word = text.substr(start, i - start);
    if (word.empty()) continue;
    while (!word.empty() && word.front() == '(') {
      out.push_back({TokKind::kLParen, "("});
      word.remove_prefix(1);
    }
    if (word.empty()) continue;
    std::string_view clean = word;
    size_t trail = 0;
    while (!clean.empty() && clean.back() == ')') {
      clean.remove_suffix(1);
      ++trail;
    }
    std::string lowered(clean);
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lowered == "and") {
      out.push_back({TokKind::kAnd, clean});
    } else if (lowered == "or") {
      out.push_back({TokKind::kOr, clean});
    } else if (lowered == "not") {
      out.push_back({TokKind::kNot, clean});
    } else if (!clean.empty()) {
      // oslo.policy looks at the word before stripping ')' here.
      bool quoted = word.size() >= 2 && (word.front() == '"' || word.front() == '\'') &&
                    word.back() == word.front();
      out.push_back({quoted ? TokKind::kString : TokKind::kCheck, clean});
    }
    for (size_t k = 0; k < trail; ++k) out.push_back({TokKind::kRParen, ")"});
  }
  return out;
}

}  // namespace

// Builds a node vector; shared by the text and list parsers.
class RuleBuilder {
 public:
  explicit RuleBuilder(std::string_view name) : name_(name) {}

  uint32_t add(Node node) {
    nodes_.push_back(std::move(node));
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  uint32_t add_constant(bool value) {
    Node n;
    n.kind = value ? NodeKind::kTrue : NodeKind::kFalse;
    n.text = value ? "@" : "!";
    return add(std::move(n));
  }

  uint32_t add_group(NodeKind kind, std::vector<uint32_t> children) {
    if (children.size() == 1) return children[0];
    Node n;
    n.kind = kind;
    n.children = std::move(children);
    return add(std::move(n));
  }

  // One check: "@", "!", "rule:NAME", "role:MATCH" or "KIND:MATCH".
  Result<uint32_t> add_check(std::string_view check) {
    if (check == "@") return add_constant(true);
    if (check == "!") return add_constant(false);
    size_t colon = check.find(':');
    if (colon == std::string_view::npos) {
      return parse_error(name_, "check \"" + std::string(check) + "\" has no ':'");
    }
    std::string_view kind = check.substr(0, colon);
    std::string_view match = check.substr(colon + 1);
    if (kind.empty()) {
      return parse_error(name_, "check \"" + std::string(check) + "\" has an empty kind");
    }
    Node n;
    n.text = check;
    if (kind == "rule") {
      if (match.empty()) return parse_error(name_, "\"rule:\" needs a rule name");
      n.kind = NodeKind::kRuleRef;
      n.arg = match;
      return add(std::move(n));
    }
    auto pieces = parse_match(name_, match);
    if (!pieces.ok()) return std::move(pieces).error();
    n.match = std::move(*pieces);
    if (kind == "role") {
      if (match.empty()) return parse_error(name_, "\"role:\" needs a role name");
      n.kind = NodeKind::kRole;
      return add(std::move(n));
    }
    n.kind = NodeKind::kGeneric;
    n.path = classify_kind(kind, n.arg);
    return add(std::move(n));
  }

  Rule finish(uint32_t root) {
    Rule r;
    r.name_ = name_;
    r.nodes_ = std::make_shared<const std::vector<Node>>(std::move(nodes_));
    r.root_ = root;
    return r;
  }

  // Copies `rule`'s nodes in, returning the index of its root here.
  uint32_t append(const Rule& rule) {
    auto offset = static_cast<uint32_t>(nodes_.size());
    for (Node n : *rule.nodes_) {
      for (uint32_t& c : n.children) c += offset;
      nodes_.push_back(std::move(n));
    }
    return offset + rule.root_;
  }

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<Node> nodes_;
};

namespace {

// Recursive descent over the token list.
class TextParser {
 public:
  TextParser(RuleBuilder& b, std::vector<Token> toks) : b_(b), toks_(std::move(toks)) {}

  Result<uint32_t> parse_all() {
    auto root = parse_or(0);
    if (!root.ok()) return root;
    if (pos_ != toks_.size()) return unexpected();
    return root;
  }

 private:
  static constexpr int kMaxNesting = 100;

  Result<uint32_t> parse_or(int nesting) {
    std::vector<uint32_t> operands;
    while (true) {
      auto operand = parse_and(nesting);
      if (!operand.ok()) return operand;
      operands.push_back(*operand);
      if (pos_ < toks_.size() && toks_[pos_].kind == TokKind::kOr) {
        ++pos_;
        continue;
      }
      break;
    }
    return b_.add_group(NodeKind::kOr, std::move(operands));
  }

  Result<uint32_t> parse_and(int nesting) {
    std::vector<uint32_t> operands;
    while (true) {
      auto operand = parse_unary(nesting);
      if (!operand.ok()) return operand;
      operands.push_back(*operand);
      if (pos_ < toks_.size() && toks_[pos_].kind == TokKind::kAnd) {
        ++pos_;
        continue;
      }
      break;
    }
    return b_.add_group(NodeKind::kAnd, std::move(operands));
  }

  Result<uint32_t> parse_unary(int nesting) {
    if (nesting > kMaxNesting) return parse_error(b_.name(), "nested too deeply");
    if (pos_ >= toks_.size()) return parse_error(b_.name(), "unexpected end of rule");
    const Token& t = toks_[pos_];
    switch (t.kind) {
      case TokKind::kNot: {
        ++pos_;
        auto operand = parse_unary(nesting + 1);
        if (!operand.ok()) return operand;
        Node n;
        n.kind = NodeKind::kNot;
        n.children = {*operand};
        return b_.add(std::move(n));
      }
      case TokKind::kLParen: {
        ++pos_;
        auto inner = parse_or(nesting + 1);
        if (!inner.ok()) return inner;
        if (pos_ >= toks_.size() || toks_[pos_].kind != TokKind::kRParen) {
          return parse_error(b_.name(), "missing ')'");
        }
        ++pos_;
        return inner;
      }
      case TokKind::kCheck: ++pos_; return b_.add_check(t.text);
      default: return unexpected();
    }
  }

  Error unexpected() const {
    if (pos_ >= toks_.size()) return parse_error(b_.name(), "unexpected end of rule");
    const Token& t = toks_[pos_];
    if (t.kind == TokKind::kString) {
      return parse_error(b_.name(), "unexpected quoted string '" + std::string(t.text) + "'");
    }
    return parse_error(b_.name(), "unexpected '" + std::string(t.text) + "'");
  }

  RuleBuilder& b_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Substitutes the target into MATCH. Returns nullopt when a key is missing
// (oslo.policy's KeyError: the check is false). Only a MATCH that mixes
// literal text with substitutions writes into `scratch`.
std::optional<std::string_view> resolve_match(const std::vector<MatchPiece>& pieces,
                                              const Target& target, std::string& scratch) {
  if (pieces.size() == 1) {
    const MatchPiece& p = pieces[0];
    if (!p.is_key) return std::string_view(p.text);
    auto it = target.find(p.text);
    if (it == target.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  scratch.clear();
  for (const MatchPiece& p : pieces) {
    if (!p.is_key) {
      scratch += p.text;
      continue;
    }
    auto it = target.find(p.text);
    if (it == target.end()) return std::nullopt;
    scratch += it->second;
  }
  return std::string_view(scratch);
}

// A plain context value: empty means None, which compares as "None".
std::string_view or_none(const std::string& v) {
  return v.empty() ? kNoneValue : std::string_view(v);
}

bool generic_matches(CredPath path, std::string_view literal, const Credentials& c,
                     std::string_view match) {
  // A token path that the token does not carry is a KeyError: no match.
  auto token_value = [&](const std::string& v) { return !v.empty() && v == match; };
  switch (path) {
    case CredPath::kLiteral: return literal == match;
    case CredPath::kUnknown: return false;
    case CredPath::kUserId: return or_none(c.user_id) == match;
    case CredPath::kUserDomainId: return or_none(c.user_domain_id) == match;
    case CredPath::kProjectId: return or_none(c.project_id) == match;
    case CredPath::kProjectDomainId: return or_none(c.project_domain_id) == match;
    case CredPath::kDomainId: return or_none(c.domain_id) == match;
    case CredPath::kSystemScope: return or_none(c.system_scope) == match;
    case CredPath::kIsAdminProject: return match == (c.is_admin_project ? "True" : "False");
    case CredPath::kAlwaysNone: return match == kNoneValue;
    case CredPath::kTokenUserId: return token_value(c.user_id);
    case CredPath::kTokenUserDomainId: return token_value(c.user_domain_id);
    case CredPath::kTokenProjectId: return token_value(c.project_id);
    case CredPath::kTokenProjectDomainId:
      return !c.project_id.empty() && token_value(c.project_domain_id);
    case CredPath::kTokenDomainId: return token_value(c.domain_id);
    case CredPath::kTokenSystemAll: return c.system_scope == "all" && match == "True";
    case CredPath::kRoles:
    case CredPath::kTokenRoleNames:
      return std::any_of(c.roles.begin(), c.roles.end(),
                         [&](const std::string& r) { return r == match; });
  }
  return false;
}

}  // namespace

Result<Rule> Rule::parse(std::string_view name, std::string_view text) {
  RuleBuilder b(name);
  std::vector<Token> toks = tokenize(text);
  if (toks.empty()) return b.finish(b.add_constant(true));
  TextParser parser(b, std::move(toks));
  auto root = parser.parse_all();
  if (!root.ok()) return std::move(root).error();
  return b.finish(*root);
}

Result<Rule> Rule::parse_list(std::string_view name,
                              const std::vector<std::vector<std::string>>& list) {
  RuleBuilder b(name);
  if (list.empty()) return b.finish(b.add_constant(true));
  std::vector<uint32_t> alternatives;
  for (const auto& inner : list) {
    if (inner.empty()) continue;
    std::vector<uint32_t> all;
    for (const std::string& check : inner) {
      auto idx = b.add_check(check);
      if (!idx.ok()) return std::move(idx).error();
      all.push_back(*idx);
    }
    alternatives.push_back(b.add_group(NodeKind::kAnd, std::move(all)));
  }
  if (alternatives.empty()) return b.finish(b.add_constant(false));
  return b.finish(b.add_group(NodeKind::kOr, std::move(alternatives)));
}

Rule Rule::either(const Rule& first, const Rule& second) {
  RuleBuilder b(first.name_);
  uint32_t a = b.append(first);
  uint32_t c = b.append(second);
  return b.finish(b.add_group(NodeKind::kOr, {a, c}));
}

bool Rule::evaluate(const Credentials& creds, const Target& target,
                    const RuleResolver* resolver) const {
  return eval_node(root_, creds, target, resolver, 0);
}

bool Rule::eval_node(uint32_t index, const Credentials& creds, const Target& target,
                     const RuleResolver* resolver, int depth) const {
  const Node& n = (*nodes_)[index];
  switch (n.kind) {
    case NodeKind::kTrue: return true;
    case NodeKind::kFalse: return false;
    case NodeKind::kAnd:
      for (uint32_t c : n.children) {
        if (!eval_node(c, creds, target, resolver, depth)) return false;
      }
      return true;
    case NodeKind::kOr:
      for (uint32_t c : n.children) {
        if (eval_node(c, creds, target, resolver, depth)) return true;
      }
      return false;
    case NodeKind::kNot: return !eval_node(n.children[0], creds, target, resolver, depth);
    case NodeKind::kRuleRef: {
      if (resolver == nullptr || depth >= kMaxDepth) return false;
      const Rule* other = resolver->find_rule(n.arg);
      if (other == nullptr) return false;
      return other->eval_node(other->root_, creds, target, resolver, depth + 1);
    }
    case NodeKind::kRole: {
      std::string scratch;
      auto match = resolve_match(n.match, target, scratch);
      if (!match) return false;
      return std::any_of(creds.roles.begin(), creds.roles.end(),
                         [&](const std::string& r) { return iequals(r, *match); });
    }
    case NodeKind::kGeneric: {
      std::string scratch;
      auto match = resolve_match(n.match, target, scratch);
      if (!match) return false;
      return generic_matches(n.path, n.arg, creds, *match);
    }
  }
  return false;
}

std::vector<std::string_view> Rule::references() const {
  std::vector<std::string_view> out;
  for (const Node& n : *nodes_) {
    if (n.kind == NodeKind::kRuleRef) out.push_back(n.arg);
  }
  return out;
}

std::string Rule::to_string() const {
  std::string out;
  render(root_, out);
  return out;
}

void Rule::render(uint32_t index, std::string& out) const {
  const Node& n = (*nodes_)[index];
  switch (n.kind) {
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      out += '(';
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out += n.kind == NodeKind::kAnd ? " and " : " or ";
        render(n.children[i], out);
      }
      out += ')';
      return;
    }
    case NodeKind::kNot:
      out += "not ";
      render(n.children[0], out);
      return;
    default: out += n.text; return;
  }
}

}  // namespace onestack::policy
