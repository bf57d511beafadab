// What a policy check is evaluated against: who is calling (Credentials) and
// what they are acting on (Target).
//
// These mirror the two dicts oslo.policy hands to a check in Keystone: the
// request context's policy values (oslo_context RequestContext
// .to_policy_values() plus Keystone's rendered token under "token") and the
// flattened target dict built by Keystone's RBAC enforcer.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace onestack::policy {

// The caller. An empty string means "not set" (Python's None): a generic
// check such as `domain_id:%(target.domain_id)s` compares the caller's value
// as the text "None" when it is empty, exactly as oslo.policy does, because
// Keystone's default rules rely on that (see `not None:%(target.domain_id)s`
// in identity:list_role_assignments).
struct Credentials {
  std::string user_id;
  std::string user_domain_id;
  std::string project_id;         // set for a project-scoped token
  std::string project_domain_id;  // the scoped project's domain
  std::string domain_id;          // set for a domain-scoped token
  std::string system_scope;       // "all" for a system-scoped token, else ""
  // Role names on the token's scope, already expanded with implied roles.
  // `role:X` compares case-insensitively, as oslo.policy does.
  std::vector<std::string> roles;
  // oslo.context's default is True; Keystone sets it from the token when an
  // admin project is configured.
  bool is_admin_project = true;
};

// The object acted on, flattened to dotted keys with string values, e.g.
// "target.project.id", "target.project.domain_id", "target.user.id",
// "target.token.user_id", and the URL's path arguments as plain keys
// ("user_id", "project_id"). `%(key)s` substitutions look keys up here; a
// missing key makes that check false (oslo.policy's KeyError rule). A JSON
// null in the object must be stored as the text "None" (Python's str(None)),
// which is what Keystone's `None:%(target.role.domain_id)s` checks test for.
// Lookups take std::string_view without allocating.
using Target = std::map<std::string, std::string, std::less<>>;

// The text a null target value must be stored as (see Target).
inline constexpr std::string_view kNoneValue = "None";

}  // namespace onestack::policy
