// A parsed oslo.policy rule: the check language Keystone's policy files use,
// e.g. "(role:reader and system_scope:all) or project_id:%(target.project.id)s".
//
// Grammar (oslo.policy's, with its precedence: `not` binds tightest, then
// `and`, then `or`; keywords are case-insensitive):
//   expr    := and_expr ("or" and_expr)*
//   and_expr:= unary ("and" unary)*
//   unary   := "not" unary | "(" expr ")" | check
//   check   := "@" (always) | "!" (never) | "rule:" NAME | "role:" MATCH
//            | KIND ":" MATCH
// Tokens are separated by whitespace; "(" may lead and ")" may trail a token.
// An empty rule text always allows (oslo.policy's TrueCheck).
// MATCH is literal text with optional `%(key)s` substitutions from the Target
// (`%%` is a literal percent). KIND of a generic check is either a Python
// literal (`True`, `False`, `None`, a number, or a quoted string), compared as
// text with MATCH, or a dotted path into the caller's credentials: user_id,
// user_domain_id, project_id, project_domain_id, domain_id, system_scope,
// roles, is_admin_project, and Keystone's token paths token.user.id,
// token.user.domain.id, token.project.id, token.project.domain.id,
// token.domain.id, token.system.all, token.roles.name. Any other path never
// matches.
//
// Parsing happens once, at start-up; evaluation walks the tree without
// allocating except when a MATCH mixes literal text with a substitution.
// A Rule is immutable after parsing and safe to evaluate from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "policy/credentials.h"

namespace onestack::policy {

class Rule;

// Resolves `rule:NAME` references during evaluation. Implemented by
// PolicyEngine; tests may supply their own.
class RuleResolver {
 public:
  virtual ~RuleResolver() = default;
  // Returns the rule called `name`, or nullptr if there is none (the
  // reference then evaluates to false: fail closed).
  virtual const Rule* find_rule(std::string_view name) const = 0;
};

class Rule {
 public:
  // Parses `text` in the policy language. On failure returns
  // kInvalidArgument with a message naming `name` and what is wrong.
  static Result<Rule> parse(std::string_view name, std::string_view text);

  // Parses the legacy list-of-lists form: an OR of ANDs of single checks,
  // e.g. [["role:admin"], ["role:member", "project_id:%(project_id)s"]].
  // Each string is one check (no operators). An empty outer list always
  // allows; a list whose inner lists are all empty never does.
  static Result<Rule> parse_list(std::string_view name,
                                 const std::vector<std::vector<std::string>>& list);

  // Returns a rule that allows when `first` or `second` allows; used to join
  // a new default with its deprecated check string.
  static Rule either(const Rule& first, const Rule& second);

  // Evaluates the rule. `resolver` (may be nullptr: every `rule:` reference
  // is then false) resolves `rule:NAME`. References nested deeper than a
  // fixed bound evaluate to false, so a cycle can never recurse forever.
  bool evaluate(const Credentials& creds, const Target& target, const RuleResolver* resolver) const;

  // The names referenced with `rule:NAME`, in order of appearance (may
  // repeat). Used to detect undefined references and cycles at load time.
  std::vector<std::string_view> references() const;

  // A canonical, fully parenthesised rendering, e.g. "(a or (b and c))";
  // checks are rendered as written. For tests and diagnostics.
  std::string to_string() const;

  const std::string& name() const { return name_; }

  // Evaluation depth bound for nested `rule:` references.
  static constexpr int kMaxDepth = 32;

  struct Node;  // defined in rule.cc

 private:
  Rule() = default;
  bool eval_node(uint32_t index, const Credentials& creds, const Target& target,
                 const RuleResolver* resolver, int depth) const;
  void render(uint32_t index, std::string& out) const;

  std::string name_;
  // Nodes live in one vector; children refer to them by index. shared_ptr
  // keeps Rule cheap to copy (rules are immutable once parsed).
  std::shared_ptr<const std::vector<Node>> nodes_;
  uint32_t root_ = 0;

  friend class RuleBuilder;
};

}  // namespace onestack::policy
