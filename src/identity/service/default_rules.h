// Keystone's default policy rules (Keystone 22, "Zed"), as the identity
// service registers them with the shared policy engine (policy/policy.h).
//
// The target keys each rule family reads are listed beside the table in
// default_rules.cc; the API layer must put those keys in the Target it passes
// to PolicyEngine::enforce.
#pragma once

#include <span>
#include <string_view>

#include "policy/policy.h"

namespace onestack::identity {

// Returns the identity service's default rules; static storage, thread-safe.
std::span<const policy::DefaultRule> default_policy_rules();

}  // namespace onestack::identity
