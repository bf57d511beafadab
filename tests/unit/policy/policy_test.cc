#include "policy/policy.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "identity/service/default_rules.h"

namespace onestack::policy {
namespace {

// --- personas -------------------------------------------------------------
// Users live in domain d1 (system users in "default"); p1 is a project in d1,
// p2 one in d2. Roles are already expanded (admin implies member implies
// reader), as the token layer hands them over.

Credentials system_user(std::vector<std::string> roles) {
  Credentials c;
  c.user_id = roles.size() > 1 ? "sa" : "sr";
  c.user_domain_id = "default";
  c.system_scope = "all";
  c.roles = std::move(roles);
  return c;
}

Credentials project_user(std::string user, std::string user_domain, std::string project,
                         std::string project_domain, std::vector<std::string> roles) {
  Credentials c;
  c.user_id = std::move(user);
  c.user_domain_id = std::move(user_domain);
  c.project_id = std::move(project);
  c.project_domain_id = std::move(project_domain);
  c.roles = std::move(roles);
  return c;
}

Credentials domain_user(std::string user, std::vector<std::string> roles) {
  Credentials c;
  c.user_id = std::move(user);
  c.user_domain_id = "d1";
  c.domain_id = "d1";
  c.roles = std::move(roles);
  return c;
}

struct Persona {
  const char* name;
  Credentials creds;
};

const std::vector<Persona>& personas() {
  static const std::vector<Persona> all = {
      {"system_admin", system_user({"admin", "member", "reader"})},
      {"system_reader", system_user({"reader"})},
      {"project_admin", project_user("pa", "d1", "p1", "d1", {"admin", "member", "reader"})},
      {"project_member", project_user("pm", "d1", "p1", "d1", {"member", "reader"})},
      {"project_reader", project_user("pr", "d1", "p1", "d1", {"reader"})},
      {"domain_admin", domain_user("da", {"admin", "member", "reader"})},
      {"domain_reader", domain_user("dr", {"reader"})},
      {"other_project_member", project_user("om", "d2", "p2", "d2", {"member", "reader"})},
      {"other_project_admin", project_user("oa", "d2", "p2", "d2", {"admin", "member", "reader"})},
      {"unscoped", Credentials{"us", "d1", "", "", "", "", {}, true}},
  };
  return all;
}

// --- the policy table -----------------------------------------------------

struct TableRow {
  const char* rule;
  Target target;
  // One character per persona, in personas() order: 'Y' allow, '-' deny.
  const char* legacy;  // enforce_new_defaults=false (Keystone Zed's default)
  const char* strict;  // enforce_new_defaults=true
};

// Expected results are Keystone Zed's: each row was checked against
// oslo.policy loaded with keystone.common.policies, for the same credentials
// and target. Note the Zed quirks kept on purpose:
//  - admin_required is `role:admin` on any scope, so a project or domain admin
//    may create projects, users, domains and regions (scope is not enforced);
//  - identity:get_project's new default lacks rule:admin_required, so another
//    project's admin reads p1 only through the deprecated rule;
//  - a null target.domain_id matches any caller without a domain scope
//    (oslo.policy compares str(None) == str(None)).
const std::vector<TableRow>& table() {
  static const std::vector<TableRow> rows = {
      {"identity:get_auth_catalog", {}, "YYYYYYYYYY", "YYYYYYYYYY"},
      {"identity:create_project", {{"target.project.domain_id", "d1"}}, "Y-Y--Y--Y-", "Y-Y--Y--Y-"},
      {"identity:get_project",
       {{"target.project.id", "p1"}, {"target.project.domain_id", "d1"}},
       "YYYYYYY-Y-",
       "YYYYYYY---"},
      {"identity:update_project",
       {{"target.project.id", "p1"}, {"target.project.domain_id", "d1"}},
       "Y-Y--Y--Y-",
       "Y-Y--Y--Y-"},
      {"identity:list_project_tags",
       {{"target.project.id", "p1"}, {"target.project.domain_id", "d1"}},
       "YYYYYYY-Y-",
       "YYYYYYY-Y-"},
      {"identity:create_project_tag",
       {{"target.project.id", "p1"}, {"target.project.domain_id", "d1"}},
       "Y-Y--Y--Y-",
       "Y-Y--Y--Y-"},
      {"identity:list_projects", {{"target.domain_id", "d1"}}, "YYY--YY-Y-", "YYY--YY-Y-"},
      {"identity:list_projects", {{"target.domain_id", "None"}}, "YYYYYY-YY-", "YYYYYY-YY-"},
      {"identity:list_projects", {}, "YYY--Y--Y-", "YYY--Y--Y-"},
      {"identity:list_user_projects",
       {{"target.user.id", "pm"}, {"target.user.domain_id", "d1"}, {"user_id", "pm"}},
       "YYYY-YY-Y-",
       "YYYY-YY-Y-"},
      {"identity:get_user",
       {{"target.user.id", "pm"}, {"target.user.domain_id", "d1"}, {"user_id", "pm"}},
       "YYYY-YY-Y-",
       "YYYY-YY-Y-"},
      {"identity:list_users", {{"target.domain_id", "d1"}}, "YYY--YY-Y-", "YYY--YY-Y-"},
      {"identity:create_user", {{"target.user.domain_id", "d1"}}, "Y-Y--Y--Y-", "Y-Y--Y--Y-"},
      {"identity:get_domain", {{"target.domain.id", "d1"}}, "YYYYYYY-Y-", "YYYYYYY-Y-"},
      {"identity:list_domains", {}, "YYY--Y--Y-", "YYY--Y--Y-"},
      {"identity:create_domain", {}, "Y-Y--Y--Y-", "Y-Y--Y--Y-"},
      {"identity:check_grant",
       {{"target.role.domain_id", "None"},
        {"target.user.domain_id", "d1"},
        {"target.project.domain_id", "d1"}},
       "YYY--YY-Y-",
       "YYY--YY-Y-"},
      {"identity:create_grant",
       {{"target.role.domain_id", "None"},
        {"target.user.domain_id", "d1"},
        {"target.project.domain_id", "d1"}},
       "Y-Y--Y--Y-",
       "Y-Y--Y--Y-"},
      {"identity:create_grant",
       {{"target.role.domain_id", "d2"},
        {"target.user.domain_id", "d1"},
        {"target.domain.id", "d1"}},
       "Y-Y--Y--Y-",
       "Y-Y--Y--Y-"},
      {"identity:list_role_assignments", {{"target.domain_id", "d1"}}, "YYY--YY-Y-", "YYY--YY-Y-"},
      {"identity:list_role_assignments",
       {{"target.domain_id", "None"}},
       "YYY--Y--Y-",
       "YYY--Y--Y-"},
      {"identity:check_token", {{"target.token.user_id", "pm"}}, "YYYY-Y--Y-", "YYYY-Y--Y-"},
      {"identity:validate_token", {{"target.token.user_id", "om"}}, "YYY--Y-YY-", "YYY--Y-YY-"},
      {"identity:revoke_token", {{"target.token.user_id", "pm"}}, "Y-YY-Y--Y-", "Y-YY-Y--Y-"},
      {"identity:revocation_list", {}, "Y-Y--Y--Y-", "Y-Y--Y--Y-"},
      {"identity:get_region", {}, "YYYYYYYYYY", "YYYYYYYYYY"},
      {"identity:create_region", {}, "Y-Y--Y--Y-", "Y-Y--Y--Y-"},
      {"identity:list_services", {}, "YYY--Y--Y-", "YYY--Y--Y-"},
      {"identity:create_endpoint", {}, "Y-Y--Y--Y-", "Y-Y--Y--Y-"},
      {"identity:list_roles", {}, "YYY--Y--Y-", "YYY--Y--Y-"},
      {"identity:create_implied_role", {}, "Y-Y--Y--Y-", "Y-Y--Y--Y-"},
      {"identity:list_role_inference_rules", {}, "YYY--Y--Y-", "YYY--Y--Y-"},
      {"identity:create_system_grant_for_user", {}, "Y-Y--Y--Y-", "Y-Y--Y--Y-"},
      {"identity:list_application_credentials", {{"user_id", "pm"}}, "YYYY-Y--Y-", "YYYY-Y--Y-"},
      {"identity:create_application_credential", {{"user_id", "pm"}}, "---Y------", "---Y------"},
      {"identity:delete_application_credential", {{"user_id", "pm"}}, "Y-YY-Y--Y-", "Y-YY-Y--Y-"},
      {"identity:get_credential",
       {{"target.credential.user_id", "pm"}},
       "YYYY-Y--Y-",
       "YYYY-Y--Y-"},
      {"identity:create_credential",
       {{"target.credential.user_id", "pm"}},
       "Y-YY-Y--Y-",
       "Y-YY-Y--Y-"},
      {"identity:get_group",
       {{"target.group.id", "g1"}, {"target.group.domain_id", "d1"}},
       "YYY--YY-Y-",
       "YYY--YY-Y-"},
      {"identity:add_user_to_group",
       {{"target.group.domain_id", "d1"}, {"target.user.domain_id", "d1"}},
       "Y-Y--Y--Y-",
       "Y-Y--Y--Y-"},
      {"identity:check_user_in_group",
       {{"target.group.domain_id", "d1"}, {"target.user.domain_id", "d1"}},
       "YYY--YY-Y-",
       "YYY--YY-Y-"},
      {"identity:list_groups_for_user",
       {{"target.user.id", "pm"}, {"target.user.domain_id", "d1"}, {"user_id", "pm"}},
       "YYYY-YY-Y-",
       "YYYY-YY-Y-"},
      {"identity:no_such_rule", {}, "----------", "----------"},
  };
  return rows;
}

std::string verdicts(const PolicyEngine& engine, const TableRow& row) {
  std::string out;
  for (const Persona& p : personas())
    out += engine.enforce(row.rule, p.creds, row.target) ? 'Y' : '-';
  return out;
}

std::string explain(const std::string& got, const std::string& want) {
  std::string out;
  for (size_t i = 0; i < personas().size() && i < got.size() && i < want.size(); ++i) {
    if (got[i] != want[i]) {
      out += std::string(personas()[i].name) + (got[i] == 'Y' ? " allowed; " : " denied; ");
    }
  }
  return out;
}

TEST(PolicyTable, DefaultModeMatchesKeystoneZed) {
  auto engine =
      PolicyEngine::load(identity::default_policy_rules(), "", /*enforce_new_defaults=*/false);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  for (const TableRow& row : table()) {
    ASSERT_EQ(std::string(row.legacy).size(), personas().size()) << row.rule;
    std::string got = verdicts(*engine, row);
    EXPECT_EQ(got, row.legacy) << row.rule << ": " << explain(got, row.legacy);
  }
}

TEST(PolicyTable, StrictModeMatchesKeystoneZedWithNewDefaultsEnforced) {
  auto engine =
      PolicyEngine::load(identity::default_policy_rules(), "", /*enforce_new_defaults=*/true);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  for (const TableRow& row : table()) {
    std::string got = verdicts(*engine, row);
    EXPECT_EQ(got, row.strict) << row.rule << ": " << explain(got, row.strict);
  }
}

// --- the defaults ---------------------------------------------------------

TEST(PolicyDefaults, CoverEveryIdentityApiOnestackServes) {
  auto engine = PolicyEngine::load(identity::default_policy_rules(), "", false);
  ASSERT_TRUE(engine.ok());
  const char* names[] = {
      "admin_required",
      "service_role",
      "service_or_admin",
      "owner",
      "admin_or_owner",
      "token_subject",
      "admin_or_token_subject",
      "service_admin_or_token_subject",
      "identity:get_auth_catalog",
      "identity:get_auth_projects",
      "identity:get_auth_domains",
      "identity:get_auth_system",
      "identity:check_token",
      "identity:validate_token",
      "identity:revocation_list",
      "identity:revoke_token",
      "identity:get_domain",
      "identity:list_domains",
      "identity:create_domain",
      "identity:update_domain",
      "identity:delete_domain",
      "identity:get_project",
      "identity:list_projects",
      "identity:create_project",
      "identity:update_project",
      "identity:delete_project",
      "identity:list_project_tags",
      "identity:get_project_tag",
      "identity:update_project_tags",
      "identity:create_project_tag",
      "identity:delete_project_tags",
      "identity:delete_project_tag",
      "identity:list_user_projects",
      "identity:get_user",
      "identity:list_users",
      "identity:create_user",
      "identity:update_user",
      "identity:delete_user",
      "identity:get_group",
      "identity:list_groups",
      "identity:create_group",
      "identity:update_group",
      "identity:delete_group",
      "identity:list_users_in_group",
      "identity:add_user_to_group",
      "identity:remove_user_from_group",
      "identity:check_user_in_group",
      "identity:list_groups_for_user",
      "identity:get_role",
      "identity:list_roles",
      "identity:create_role",
      "identity:update_role",
      "identity:delete_role",
      "identity:get_domain_role",
      "identity:list_domain_roles",
      "identity:create_domain_role",
      "identity:update_domain_role",
      "identity:delete_domain_role",
      "identity:create_implied_role",
      "identity:get_implied_role",
      "identity:list_implied_roles",
      "identity:list_role_inference_rules",
      "identity:delete_implied_role",
      "identity:check_implied_role",
      "identity:check_grant",
      "identity:list_grants",
      "identity:create_grant",
      "identity:revoke_grant",
      "identity:list_system_grants_for_user",
      "identity:check_system_grant_for_user",
      "identity:create_system_grant_for_user",
      "identity:revoke_system_grant_for_user",
      "identity:list_system_grants_for_group",
      "identity:check_system_grant_for_group",
      "identity:create_system_grant_for_group",
      "identity:revoke_system_grant_for_group",
      "identity:list_role_assignments",
      "identity:list_role_assignments_for_tree",
      "identity:get_region",
      "identity:list_regions",
      "identity:create_region",
      "identity:update_region",
      "identity:delete_region",
      "identity:get_service",
      "identity:list_services",
      "identity:create_service",
      "identity:update_service",
      "identity:delete_service",
      "identity:get_endpoint",
      "identity:list_endpoints",
      "identity:create_endpoint",
      "identity:update_endpoint",
      "identity:delete_endpoint",
      "identity:get_application_credential",
      "identity:list_application_credentials",
      "identity:create_application_credential",
      "identity:delete_application_credential",
      "identity:get_credential",
      "identity:list_credentials",
      "identity:create_credential",
      "identity:update_credential",
      "identity:delete_credential",
      "identity:change_password",
  };
  for (const char* name : names) EXPECT_TRUE(engine->has_rule(name)) << name;
  EXPECT_FALSE(engine->has_rule("identity:no_such_rule"));
  EXPECT_EQ(engine->size(), identity::default_policy_rules().size());
}

TEST(PolicyDefaults, DeprecatedChecksAreJoinedOnlyWhenNewDefaultsAreNotEnforced) {
  auto legacy = PolicyEngine::load(identity::default_policy_rules(), "", false);
  auto strict = PolicyEngine::load(identity::default_policy_rules(), "", true);
  ASSERT_TRUE(legacy.ok() && strict.ok());
  EXPECT_EQ(*legacy->describe("identity:get_project"),
            "(((role:reader and system_scope:all) or (role:reader and "
            "domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s) or "
            "(rule:admin_required or project_id:%(target.project.id)s))");
  EXPECT_EQ(*strict->describe("identity:get_project"),
            "((role:reader and system_scope:all) or (role:reader and "
            "domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s)");
  // Same new and deprecated check: nothing to join.
  EXPECT_EQ(*legacy->describe("identity:create_project"), "rule:admin_required");
  EXPECT_FALSE(legacy->describe("identity:no_such_rule").has_value());
}

TEST(PolicyDefaults, UnknownRulesDeny) {
  auto engine = PolicyEngine::load(identity::default_policy_rules(), "", false);
  ASSERT_TRUE(engine.ok());
  for (const Persona& p : personas()) {
    EXPECT_FALSE(engine->enforce("identity:no_such_rule", p.creds, {})) << p.name;
    EXPECT_FALSE(engine->enforce("", p.creds, {})) << p.name;
  }
}

// --- policy files ---------------------------------------------------------

class PolicyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "policy_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& contents) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }
  static const Credentials& persona(std::string_view name) {
    for (const Persona& p : personas()) {
      if (name == p.name) return p.creds;
    }
    std::abort();
  }

  std::filesystem::path dir_;
};

TEST_F(PolicyFile, JsonOverridesReplaceDefaultsAndAddRules) {
  std::string path = write("policy.json", R"({
    "identity:create_project": "role:member",
    "identity:get_project": "rule:admin_required",
    "onestack:custom": "project_id:%(project_id)s and not role:admin",
    "identity:list_regions": [["role:reader", "system_scope:all"], ["role:admin"]]
  })");
  auto engine = PolicyEngine::load(identity::default_policy_rules(), path, false);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  Target project{
      {"target.project.id", "p1"}, {"target.project.domain_id", "d1"}, {"project_id", "p1"}};

  EXPECT_TRUE(engine->enforce("identity:create_project", persona("project_member"), project));
  EXPECT_FALSE(engine->enforce("identity:create_project", persona("project_reader"), project));
  // An overridden rule is used as written, without its deprecated check.
  EXPECT_EQ(*engine->describe("identity:get_project"), "rule:admin_required");
  EXPECT_FALSE(engine->enforce("identity:get_project", persona("project_member"), project));
  EXPECT_TRUE(engine->enforce("onestack:custom", persona("project_member"), project));
  EXPECT_FALSE(engine->enforce("onestack:custom", persona("project_admin"), project));
  EXPECT_TRUE(engine->enforce("identity:list_regions", persona("system_reader"), {}));
  EXPECT_FALSE(engine->enforce("identity:list_regions", persona("project_reader"), {}));
  EXPECT_TRUE(engine->enforce("identity:list_regions", persona("project_admin"), {}));
  // Untouched defaults still apply.
  EXPECT_TRUE(engine->enforce("identity:get_region", persona("unscoped"), {}));
  EXPECT_EQ(engine->size(), identity::default_policy_rules().size() + 1);
}

TEST_F(PolicyFile, OverridingABaseRuleChangesEveryRuleThatUsesIt) {
  std::string path =
      write("policy.json", R"({"admin_required": "role:admin and system_scope:all"})");
  auto engine = PolicyEngine::load(identity::default_policy_rules(), path, false);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  Target t{{"target.project.domain_id", "d1"}};
  EXPECT_TRUE(engine->enforce("identity:create_project", persona("system_admin"), t));
  EXPECT_FALSE(engine->enforce("identity:create_project", persona("project_admin"), t));
  EXPECT_FALSE(engine->enforce("identity:create_domain", persona("domain_admin"), {}));
}

TEST_F(PolicyFile, YamlSubsetAsKeystoneOperatorsWriteIt) {
  std::string path = write("policy.yaml",
                           "---\r\n"
                           "# Operator overrides\r\n"
                           "\"identity:create_project\": \"role:member\"\r\n"
                           "#\"identity:delete_project\": \"role:member\"\r\n"
                           "\r\n"
                           "'identity:create_region': 'role:reader and ''x'':%(x)s'\n"
                           "identity:list_services: role:member   # trailing comment\n"
                           "identity:get_region: \"!\"\n"
                           "identity:list_regions: \"\"\n"
                           "onestack:escaped: \"x:a\\\\b\"\n"
                           "onestack:quoted: \"\\\"q\\\":%(x)s\"\n");
  auto engine = PolicyEngine::load(identity::default_policy_rules(), path, true);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  EXPECT_TRUE(engine->enforce("identity:create_project", persona("project_member"), {}));
  EXPECT_FALSE(engine->enforce("identity:delete_project", persona("project_member"), {}));
  EXPECT_EQ(*engine->describe("identity:create_region"), "(role:reader and 'x':%(x)s)");
  EXPECT_TRUE(engine->enforce("identity:create_region", persona("project_reader"), {{"x", "x"}}));
  EXPECT_EQ(*engine->describe("identity:list_services"), "role:member");
  EXPECT_FALSE(engine->enforce("identity:get_region", persona("system_admin"), {}));
  EXPECT_TRUE(engine->enforce("identity:list_regions", persona("unscoped"), {}));
  EXPECT_EQ(*engine->describe("onestack:escaped"), "x:a\\b");
  EXPECT_TRUE(engine->enforce("onestack:quoted", persona("unscoped"), {{"x", "q"}}));
}

TEST_F(PolicyFile, EmptyFilesAndEmptyObjectsMeanDefaults) {
  for (const char* contents : {"", "\n# nothing here\n", "{}", "---\n"}) {
    auto engine = PolicyEngine::load(identity::default_policy_rules(), write("p", contents), false);
    ASSERT_TRUE(engine.ok()) << contents << ": " << engine.error().message;
    EXPECT_EQ(engine->size(), identity::default_policy_rules().size());
  }
}

TEST_F(PolicyFile, MalformedFilesFailAtLoadNamingTheFileAndTheProblem) {
  struct Case {
    const char* contents;
    const char* mentions;
  };
  const Case cases[] = {
      {R"({"identity:get_project": "role:admin or"})", "identity:get_project"},
      {R"({"identity:get_project": 3})", "identity:get_project"},
      {R"({"identity:get_project": [[1]]})", "identity:get_project"},
      {R"({"a": "x:1",)", "invalid JSON"},
      {"identity:get_project: (role:admin\n", "identity:get_project"},
      {"identity:get_project:\n  role:admin\n", "line 1"},
      {"a: x:1\n  b: y:1\n", "line 2"},
      {"- role:admin\n", "line 1"},
      {"identity:get_project: [role:admin]\n", "line 1"},
      {"identity:get_project: |\n  role:admin\n", "line 1"},
      {"identity:get_project: \"role:admin\n", "unterminated"},
      {"identity:get_project: \"role:admin\" extra\n", "line 1"},
      {"just some words\n", "line 1"},
      {"identity:get_project: admin\n", "identity:get_project"},
  };
  for (const Case& c : cases) {
    std::string path = write("bad.yaml", c.contents);
    auto engine = PolicyEngine::load(identity::default_policy_rules(), path, false);
    ASSERT_FALSE(engine.ok()) << c.contents;
    EXPECT_EQ(engine.error().code, ErrorCode::kInvalidArgument) << c.contents;
    EXPECT_NE(engine.error().message.find(path), std::string::npos) << engine.error().message;
    EXPECT_NE(engine.error().message.find(c.mentions), std::string::npos)
        << c.contents << " -> " << engine.error().message;
  }
}

TEST_F(PolicyFile, RuleCyclesAreLoadErrors) {
  struct Case {
    const char* contents;
    const char* cycle;
  };
  const Case cases[] = {
      {"a: rule:a\n", "a -> a"},
      {"a: rule:b\nb: role:x or rule:a\n", "a -> b -> a"},
      // Through the defaults: admin_or_owner refers to admin_required.
      {"admin_required: rule:admin_or_owner\n",
       "admin_or_owner -> admin_required -> admin_or_owner"},
  };
  for (const Case& c : cases) {
    auto engine = PolicyEngine::load(identity::default_policy_rules(),
                                     write("cycle.yaml", c.contents), false);
    ASSERT_FALSE(engine.ok()) << c.contents;
    EXPECT_NE(engine.error().message.find("cycle"), std::string::npos) << engine.error().message;
    EXPECT_NE(engine.error().message.find(c.cycle), std::string::npos) << engine.error().message;
  }
  // A reference to an undefined rule is not an error; it denies.
  auto engine = PolicyEngine::load(identity::default_policy_rules(),
                                   write("undef.yaml", "a: rule:nowhere or role:x\n"), false);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  EXPECT_FALSE(engine->enforce("a", persona("system_admin"), {}));
}

TEST_F(PolicyFile, AMissingFileIsNotFound) {
  auto engine =
      PolicyEngine::load(identity::default_policy_rules(), (dir_ / "absent.yaml").string(), false);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace onestack::policy
