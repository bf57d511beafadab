// Keystone's default policy rules (Keystone 22, "Zed"), as onestack ships
// them. Each rule has its new-default check string and, where Keystone has
// one, the deprecated check string it replaced; PolicyEngine joins the two
// with `or` unless enforce_new_defaults is set, as oslo.policy does.
//
// Scope types are not enforced (Keystone Zed's enforce_scope=false), so they
// are not recorded here.
//
// The target keys each rule family reads are listed beside the table in
// default_rules.cc; the API layer must put those keys in the Target it passes
// to PolicyEngine::enforce.
#pragma once

#include <span>
#include <string_view>

namespace onestack::identity::policy {

struct DefaultRule {
  std::string_view name;
  std::string_view check;  // the new default; "" always allows
  // The deprecated check string, or nullptr when the rule has none.
  const char* deprecated = nullptr;
};

// Returns the built-in rules; static storage, thread-safe.
std::span<const DefaultRule> default_rules();

}  // namespace onestack::identity::policy
