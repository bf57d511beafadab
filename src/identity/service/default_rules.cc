// Keystone 22 (Zed) default policy, written out as a table. Check strings
// are Keystone's, so behaviour (and operator policy files written for
// Keystone) carry over unchanged; the table covers the identity APIs onestack
// serves. Source of truth for behaviour: keystone/common/policies/*.py.
#include "identity/service/default_rules.h"

namespace onestack::identity {

using policy::DefaultRule;

namespace {

// clang-format off
constexpr DefaultRule kDefaultRules[] = {
    // Base rules, referenced by the others with rule:NAME.
    // Target keys: "user_id" (the URL's {user_id}, for owner) and
    // "target.token.user_id" (the X-Subject-Token's user, for token_subject).
    // `is_admin:1` never matches: Keystone's credentials carry no is_admin.
    {"admin_required", "role:admin or is_admin:1", nullptr},
    {"service_role", "role:service", nullptr},
    {"service_or_admin", "rule:admin_required or rule:service_role", nullptr},
    {"owner", "user_id:%(user_id)s", nullptr},
    {"admin_or_owner", "rule:admin_required or rule:owner", nullptr},
    {"token_subject", "user_id:%(target.token.user_id)s", nullptr},
    {"admin_or_token_subject", "rule:admin_required or rule:token_subject", nullptr},
    {"service_admin_or_token_subject",
     "rule:service_or_admin or rule:token_subject",
     nullptr},

    // GET /v3/auth/{catalog,projects,domains,system}: any authenticated
    // caller. Target keys: none.
    {"identity:get_auth_catalog", "", nullptr},
    {"identity:get_auth_projects", "", nullptr},
    {"identity:get_auth_domains", "", nullptr},
    {"identity:get_auth_system", "", nullptr},

    // HEAD/GET/DELETE /v3/auth/tokens. Target keys: "target.token.user_id"
    // (the user of the X-Subject-Token; also "target.token.user.domain.id").
    {"identity:check_token",
     "rule:admin_required or (role:reader and system_scope:all) or rule:token_subject",
     "rule:admin_or_token_subject"},
    {"identity:validate_token",
     "rule:admin_required or (role:reader and system_scope:all) or rule:service_role or "
     "rule:token_subject",
     "rule:service_admin_or_token_subject"},
    {"identity:revoke_token",
     "rule:admin_required or rule:token_subject",
     "rule:admin_or_token_subject"},

    // GET /v3/auth/tokens/OS-PKI/revoked. Target keys: none.
    {"identity:revocation_list", "rule:service_or_admin", nullptr},

    // GET /v3/OS-REVOKE/events. Target keys: none.
    {"identity:list_revoke_events", "rule:service_or_admin", nullptr},

    // /v3/domains. Target keys: "target.domain.id" (get/update/delete: the
    // domain's fields flattened under target.domain.*). list/create: none.
    {"identity:get_domain",
     "rule:admin_required or (role:reader and system_scope:all) or "
     "token.domain.id:%(target.domain.id)s or token.project.domain.id:%(target.domain.id)s",
     "rule:admin_required or token.project.domain.id:%(target.domain.id)s"},
    {"identity:list_domains",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_domain", "rule:admin_required", "rule:admin_required"},
    {"identity:update_domain", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_domain", "rule:admin_required", "rule:admin_required"},

    // /v3/projects and /v3/projects/{id}/tags. Target keys:
    //   get/update/delete and every tag rule: "target.project.id",
    //     "target.project.domain_id" (the project's fields under target.project.*);
    //   create_project: "target.project.domain_id" (from the request body);
    //   list_projects: "target.domain_id" = the caller's domain id, only when the
    //     token is domain-scoped (absent otherwise);
    //   list_user_projects (GET /v3/users/{user_id}/projects): "target.user.id",
    //     "target.user.domain_id" and "user_id" (the URL's {user_id}).
    {"identity:get_project",
     "(role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
     "rule:admin_required or project_id:%(target.project.id)s"},
    {"identity:list_projects",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.domain_id)s)",
     "rule:admin_required"},
    {"identity:list_user_projects",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s",
     "rule:admin_or_owner"},
    {"identity:create_project", "rule:admin_required", "rule:admin_required"},
    {"identity:update_project", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_project", "rule:admin_required", "rule:admin_required"},
    {"identity:list_project_tags",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
     "rule:admin_required or project_id:%(target.project.id)s"},
    {"identity:get_project_tag",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
     "rule:admin_required or project_id:%(target.project.id)s"},
    {"identity:update_project_tags", "rule:admin_required", "rule:admin_required"},
    {"identity:create_project_tag", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_project_tags", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_project_tag", "rule:admin_required", "rule:admin_required"},

    // /v3/users. Target keys:
    //   get/update/delete: "target.user.id", "target.user.domain_id", "user_id";
    //   create_user: "target.user.domain_id" (from the request body);
    //   list_users: "target.domain_id" = the caller's domain id, only when the
    //     token is domain-scoped.
    // list_projects_for_user / list_domains_for_user are the old names of the
    // /v3/auth/projects and /v3/auth/domains rules.
    // Keystone has no change_password rule: POST /v3/users/{user_id}/password
    // is authenticated by the original password, not by policy. onestack
    // defines "identity:change_password" (below, always allow) so the API layer
    // can enforce uniformly and an operator can tighten it.
    {"identity:get_user",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s",
     "rule:admin_or_owner"},
    {"identity:list_users",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.domain_id)s)",
     "rule:admin_required"},
    {"identity:list_projects_for_user", "", nullptr},
    {"identity:list_domains_for_user", "", nullptr},
    {"identity:create_user", "rule:admin_required", "rule:admin_required"},
    {"identity:update_user", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_user", "rule:admin_required", "rule:admin_required"},
    {"identity:change_password", "", nullptr},  // onestack's; see above

    // /v3/groups. Target keys:
    //   get/update/delete_group, list_users_in_group: "target.group.id",
    //     "target.group.domain_id";
    //   list_groups: "target.group.domain_id" = the caller's domain id, only
    //     when the token is domain-scoped;
    //   create_group: "target.group.domain_id" (from the request body);
    //   check_user_in_group, add_user_to_group, remove_user_from_group:
    //     "target.group.domain_id", "target.user.domain_id";
    //   list_groups_for_user: "target.user.id", "target.user.domain_id", "user_id".
    {"identity:get_group",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.group.domain_id)s)",
     "rule:admin_required"},
    {"identity:list_groups",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.group.domain_id)s)",
     "rule:admin_required"},
    {"identity:list_groups_for_user",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s",
     "rule:admin_or_owner"},
    {"identity:create_group", "rule:admin_required", "rule:admin_required"},
    {"identity:update_group", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_group", "rule:admin_required", "rule:admin_required"},
    {"identity:list_users_in_group",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.group.domain_id)s)",
     "rule:admin_required"},
    {"identity:remove_user_from_group", "rule:admin_required", "rule:admin_required"},
    {"identity:check_user_in_group",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)",
     "rule:admin_required"},
    {"identity:add_user_to_group", "rule:admin_required", "rule:admin_required"},

    // /v3/roles (global roles, and domain-specific roles when the role has a
    // domain_id). Target keys: none needed by the defaults ("target.role.*" may
    // be passed for operator rules).
    {"identity:get_role",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:list_roles",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_role", "rule:admin_required", "rule:admin_required"},
    {"identity:update_role", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_role", "rule:admin_required", "rule:admin_required"},
    {"identity:get_domain_role",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:list_domain_roles",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_domain_role", "rule:admin_required", "rule:admin_required"},
    {"identity:update_domain_role", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_domain_role", "rule:admin_required", "rule:admin_required"},

    // /v3/roles/{prior}/implies/{implied} and /v3/role_inferences. Target
    // keys: none.
    {"identity:get_implied_role",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:list_implied_roles",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_implied_role", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_implied_role", "rule:admin_required", "rule:admin_required"},
    {"identity:list_role_inference_rules",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:check_implied_role",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},

    // Role grants: /v3/{projects,domains}/{id}/{users,groups}/{id}/roles[/{role_id}]
    // and the system grants /v3/system/{users,groups}/{id}/roles[/{role_id}].
    // Target keys for check/list/create/revoke_grant:
    //   "target.role.domain_id" ("None" for a global role; absent for list),
    //   "target.user.domain_id" or "target.group.domain_id" (the actor),
    //   "target.project.domain_id" or "target.domain.id" (where the role is).
    // System grants: none.
    {"identity:check_grant",
     "(rule:admin_required) or ((role:reader and system_scope:all) or ((role:reader and "
     "domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or "
     "(role:reader and domain_id:%(target.user.domain_id)s and "
     "domain_id:%(target.domain.id)s) or (role:reader and "
     "domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or "
     "(role:reader and domain_id:%(target.group.domain_id)s and "
     "domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or "
     "None:%(target.role.domain_id)s))",
     "rule:admin_required"},
    {"identity:list_grants",
     "(rule:admin_required) or ((role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or "
     "(role:reader and domain_id:%(target.user.domain_id)s and "
     "domain_id:%(target.domain.id)s) or (role:reader and "
     "domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or "
     "(role:reader and domain_id:%(target.group.domain_id)s and "
     "domain_id:%(target.domain.id)s))",
     "rule:admin_required"},
    {"identity:create_grant",
     "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and "
     "domain_id:%(target.project.domain_id)s) or (role:admin and "
     "domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or "
     "(role:admin and domain_id:%(target.group.domain_id)s and "
     "domain_id:%(target.project.domain_id)s) or (role:admin and "
     "domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and "
     "(domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s)",
     "rule:admin_required"},
    {"identity:revoke_grant",
     "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and "
     "domain_id:%(target.project.domain_id)s) or (role:admin and "
     "domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or "
     "(role:admin and domain_id:%(target.group.domain_id)s and "
     "domain_id:%(target.project.domain_id)s) or (role:admin and "
     "domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and "
     "(domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s)",
     "rule:admin_required"},
    {"identity:list_system_grants_for_user",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:check_system_grant_for_user",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_system_grant_for_user", "rule:admin_required", "rule:admin_required"},
    {"identity:revoke_system_grant_for_user", "rule:admin_required", "rule:admin_required"},
    {"identity:list_system_grants_for_group",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:check_system_grant_for_group",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_system_grant_for_group",
     "rule:admin_required",
     "rule:admin_required"},
    {"identity:revoke_system_grant_for_group",
     "rule:admin_required",
     "rule:admin_required"},

    // GET /v3/role_assignments (include_subtree: _for_tree). Target keys:
    //   list_role_assignments: "target.domain_id" = the caller's domain id,
    //     only when the token is domain-scoped;
    //   list_role_assignments_for_tree: Keystone passes target.project.* of
    //     scope.project.id, but the default reads only "target.domain_id", so
    //     (as in Keystone) only admins and system readers pass by default.
    {"identity:list_role_assignments",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)",
     "rule:admin_required"},
    {"identity:list_role_assignments_for_tree",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)",
     "rule:admin_required"},

    // /v3/regions. Target keys: none.
    {"identity:get_region", "", nullptr},
    {"identity:list_regions", "", nullptr},
    {"identity:create_region", "rule:admin_required", "rule:admin_required"},
    {"identity:update_region", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_region", "rule:admin_required", "rule:admin_required"},

    // /v3/services. Target keys: none.
    {"identity:get_service",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:list_services",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_service", "rule:admin_required", "rule:admin_required"},
    {"identity:update_service", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_service", "rule:admin_required", "rule:admin_required"},

    // /v3/endpoints. Target keys: none.
    {"identity:get_endpoint",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:list_endpoints",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_endpoint", "rule:admin_required", "rule:admin_required"},
    {"identity:update_endpoint", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_endpoint", "rule:admin_required", "rule:admin_required"},

    // /v3/registered_limits and /v3/limits (keystone/common/policies/
    // registered_limit.py, limit.py). Zed defines these without deprecated
    // check strings, and the writes (named create_registered_limits and
    // create_limits, plural, as Keystone names them) need a system-scoped
    // admin. Target keys: get_limit: the limit's fields under "target.limit.*"
    // ("target.limit.project_id", a JSON null as "None"), and
    // "target.limit.project.domain_id" for a project's limit or
    // "target.limit.domain.id" for a domain's; none when the limit does not
    // exist. The others: none.
    {"identity:get_registered_limit", "", nullptr},
    {"identity:list_registered_limits", "", nullptr},
    {"identity:create_registered_limits", "role:admin and system_scope:all", nullptr},
    {"identity:update_registered_limit", "role:admin and system_scope:all", nullptr},
    {"identity:delete_registered_limit", "role:admin and system_scope:all", nullptr},
    {"identity:get_limit_model", "", nullptr},
    {"identity:get_limit",
     "(role:reader and system_scope:all) or (domain_id:%(target.limit.domain.id)s or "
     "domain_id:%(target.limit.project.domain_id)s) or (project_id:%(target.limit.project_id)s "
     "and not None:%(target.limit.project_id)s)",
     nullptr},
    {"identity:list_limits", "", nullptr},
    {"identity:create_limits", "role:admin and system_scope:all", nullptr},
    {"identity:update_limit", "role:admin and system_scope:all", nullptr},
    {"identity:delete_limit", "role:admin and system_scope:all", nullptr},

    // /v3/users/{user_id}/application_credentials. Target keys: "user_id"
    // (the URL's {user_id}; rule:owner compares it with the caller).
    {"identity:get_application_credential",
     "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner",
     "rule:admin_or_owner"},
    {"identity:list_application_credentials",
     "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner",
     "rule:admin_or_owner"},
    {"identity:create_application_credential", "user_id:%(user_id)s", nullptr},
    {"identity:delete_application_credential",
     "rule:admin_or_owner",
     "rule:admin_or_owner"},

    // /v3/users/{user_id}/access_rules. Target keys: "target.user.id".
    {"identity:get_access_rule",
     "(role:reader and system_scope:all) or user_id:%(target.user.id)s",
     nullptr},
    {"identity:list_access_rules",
     "(role:reader and system_scope:all) or user_id:%(target.user.id)s",
     nullptr},
    {"identity:delete_access_rule",
     "(role:admin and system_scope:all) or user_id:%(target.user.id)s",
     nullptr},

    // /v3/credentials. Target keys: "target.credential.user_id" (the
    // credential's owner; for create, from the request body; for list,
    // each credential is checked in turn).
    {"identity:get_credential",
     "(rule:admin_required) or (role:reader and system_scope:all) or "
     "user_id:%(target.credential.user_id)s",
     "rule:admin_required"},
    {"identity:list_credentials",
     "(rule:admin_required) or (role:reader and system_scope:all) or "
     "user_id:%(target.credential.user_id)s",
     "rule:admin_required"},
    {"identity:create_credential",
     "(rule:admin_required) or user_id:%(target.credential.user_id)s",
     "rule:admin_required"},
    {"identity:update_credential",
     "(rule:admin_required) or user_id:%(target.credential.user_id)s",
     "rule:admin_required"},
    {"identity:delete_credential",
     "(rule:admin_required) or user_id:%(target.credential.user_id)s",
     "rule:admin_required"},

    // /v3/policies, OS-EP-FILTER endpoint groups, OS-OAUTH1 consumers and
    // domain configuration (keystone/common/policies/policy.py,
    // endpoint_group.py, consumer.py, domain_config.py). Target keys: none.
    {"identity:get_policy",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:list_policies",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:get_endpoint_group",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:list_endpoint_groups",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:get_consumer",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:list_consumers",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:get_domain_config",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:get_domain_config_default",
     "rule:admin_required or (role:reader and system_scope:all)",
     "rule:admin_required"},
    {"identity:create_policy", "rule:admin_required", "rule:admin_required"},
    {"identity:update_policy", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_policy", "rule:admin_required", "rule:admin_required"},
    {"identity:create_endpoint_group", "rule:admin_required", "rule:admin_required"},
    {"identity:update_endpoint_group", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_endpoint_group", "rule:admin_required", "rule:admin_required"},
    {"identity:create_consumer", "rule:admin_required", "rule:admin_required"},
    {"identity:update_consumer", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_consumer", "rule:admin_required", "rule:admin_required"},
    {"identity:create_domain_config", "rule:admin_required", "rule:admin_required"},
    {"identity:update_domain_config", "rule:admin_required", "rule:admin_required"},
    {"identity:delete_domain_config", "rule:admin_required", "rule:admin_required"},
    {"identity:get_security_compliance_domain_config", "", nullptr},

    // OS-EC2 credentials (keystone/common/policies/ec2_credential.py).
    // Target keys: "user_id" (the URL's user), "target.credential.user_id".
    {"identity:ec2_get_credential",
     "(role:reader and system_scope:all) or user_id:%(target.credential.user_id)s",
     "rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)"},
    {"identity:ec2_list_credentials",
     "(role:reader and system_scope:all) or rule:owner",
     "rule:admin_or_owner"},
    {"identity:ec2_create_credential",
     "(role:admin and system_scope:all) or rule:owner",
     "rule:admin_or_owner"},
    {"identity:ec2_delete_credential",
     "(role:admin and system_scope:all) or user_id:%(target.credential.user_id)s",
     "rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)"},
};
// clang-format on

}  // namespace

std::span<const DefaultRule> default_policy_rules() { return kDefaultRules; }

}  // namespace onestack::identity
