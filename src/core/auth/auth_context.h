// Who is calling: the identity a validated token carries. The auth middleware
// attaches one to a request; services learn about the caller only through
// this struct, never through the identity service's internals.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace onestack::auth {

struct AuthContext {
  std::string user_id;
  std::string user_name;
  std::string user_domain_id;
  std::string user_domain_name;
  // Exactly one of the scopes below is set, or none for an unscoped token.
  std::string project_id;
  std::string project_name;
  std::string project_domain_id;
  std::string project_domain_name;
  std::string domain_id;  // domain scope
  std::string domain_name;
  std::string system_scope;           // "all" for system scope
  std::vector<std::string> role_ids;  // effective (implied roles expanded)
  std::vector<std::string> role_names;
  std::vector<std::string> methods;    // "password", "token", ...
  std::vector<std::string> audit_ids;  // this token's, then its parent's
  std::string app_cred_id;             // set when issued for an application credential
  double issued_at = 0;                // seconds since the epoch
  double expires_at = 0;

  bool has_role(std::string_view name) const {
    for (const auto& r : role_names) {
      if (r == name) return true;
    }
    return false;
  }
  bool project_scoped() const { return !project_id.empty(); }
  bool domain_scoped() const { return !domain_id.empty(); }
  bool system_scoped() const { return !system_scope.empty(); }
};

}  // namespace onestack::auth
