// The policy engine (oslo.policy's): decides whether a caller may perform an
// API action ("identity:get_project", "compute:servers:create") on a
// target, with the service's default rules overridden rule by rule from an
// operator's policy file. Every service registers its upstream defaults
// (Zed) as a DefaultRule table and loads its own engine from its own file;
// the engine itself knows no service.
//
// Policy files: JSON (an object of "name": "check string" or legacy
// list-of-lists values) or a YAML subset, chosen by content: a file whose first
// non-blank character is '{' is JSON, anything else is YAML. The YAML subset is
// what oslo.policy's sample generator writes and operators edit: one top-level
// mapping of `name: check` lines, keys and values plain, 'single-' or
// "double-quoted", full-line and trailing `#` comments, blank lines and `---`.
// Nested mappings, lists, flow collections and block scalars are rejected
// with an error naming the line.
//
// Effective rule for a name (oslo.policy's behaviour):
//   - defined in the policy file: the file's check string, as written;
//   - else a default with a deprecated check string that differs, and
//     enforce_new_defaults=false: "(new) or (deprecated)";
//   - else the default's new check string.
// Scope types are not enforced (Keystone Zed's enforce_scope=false).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/auth/auth_context.h"
#include "core/result.h"
#include "policy/credentials.h"
#include "policy/rule.h"

namespace onestack::policy {

// One default rule of a service: its new-default check string and, where
// upstream has one, the deprecated check string it replaced; the engine
// joins the two with `or` unless enforce_new_defaults is set, as
// oslo.policy does. Scope types are not enforced (Zed's
// enforce_scope=false), so they are not recorded.
struct DefaultRule {
  std::string_view name;
  std::string_view check;  // the new default; "" always allows
  // The deprecated check string, or nullptr when the rule has none.
  const char* deprecated = nullptr;
};

class PolicyEngine final : public RuleResolver {
 public:
  // Builds the engine from `defaults` (static storage; a service's table)
  // plus `policy_file` (empty: defaults only). Fails with kInvalidArgument
  // naming the file (and line or rule) on unreadable or malformed files,
  // malformed check strings, or a `rule:` reference cycle; kNotFound if the
  // file does not exist. Call at start-up.
  static Result<PolicyEngine> load(std::span<const DefaultRule> defaults,
                                   const std::string& policy_file, bool enforce_new_defaults);

  // As load(), with the policy file's contents given directly; `origin` names
  // them in error messages.
  static Result<PolicyEngine> load_from_text(std::span<const DefaultRule> defaults,
                                             std::string_view contents, bool enforce_new_defaults,
                                             std::string_view origin = "<policy>");

  PolicyEngine(PolicyEngine&&) noexcept = default;
  PolicyEngine& operator=(PolicyEngine&&) noexcept = default;
  PolicyEngine(const PolicyEngine&) = delete;
  PolicyEngine& operator=(const PolicyEngine&) = delete;

  // True if the rule called `rule` allows `creds` to act on `target`. An
  // unknown rule name denies. Does not log. Thread-safe (the engine is
  // immutable after load).
  bool enforce(std::string_view rule, const Credentials& creds, const Target& target) const;

  // True if a rule called `rule` exists (default or from the file).
  bool has_rule(std::string_view rule) const;

  // The effective rule's canonical text (Rule::to_string), or nullopt if
  // there is no such rule. For diagnostics and tests.
  std::optional<std::string> describe(std::string_view rule) const;

  // Number of rules known.
  size_t size() const { return rules_.size(); }

  // RuleResolver: the effective rule called `name`, or nullptr.
  const Rule* find_rule(std::string_view name) const override;

 private:
  PolicyEngine() = default;

  std::map<std::string, Rule, std::less<>> rules_;
};

// The policy credentials of a caller the auth middleware identified, as
// oslo.context's to_policy_values() gives them to oslo.policy.
Credentials credentials_of(const auth::AuthContext& caller);

}  // namespace onestack::policy
