#include "policy/rule.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace onestack::policy {
namespace {

struct ParseCase {
  const char* text;
  const char* canonical;  // Rule::to_string() of the parsed tree
};

TEST(RuleParse, ValidFormsProduceTheExpectedTree) {
  const ParseCase cases[] = {
      {"", "@"},
      {"   ", "@"},
      {"@", "@"},
      {"!", "!"},
      {"role:admin", "role:admin"},
      {"rule:admin_required", "rule:admin_required"},
      {"system_scope:all", "system_scope:all"},
      {"is_admin_project:True", "is_admin_project:True"},
      {"'Member':%(role.name)s", "'Member':%(role.name)s"},
      {"project_id:%(target.project.id)s", "project_id:%(target.project.id)s"},
      {"role:compute:admin", "role:compute:admin"},
      {"a:1 and b:2", "(a:1 and b:2)"},
      {"a:1 or b:2", "(a:1 or b:2)"},
      {"a:1 or b:2 or c:3", "(a:1 or b:2 or c:3)"},
      // `and` binds tighter than `or`.
      {"a:1 or b:2 and c:3", "(a:1 or (b:2 and c:3))"},
      {"a:1 and b:2 or c:3", "((a:1 and b:2) or c:3)"},
      {"a:1 and b:2 or c:3 and d:4", "((a:1 and b:2) or (c:3 and d:4))"},
      // `not` binds tighter than `and`.
      {"not a:1 and b:2", "(not a:1 and b:2)"},
      {"not (a:1 and b:2)", "not (a:1 and b:2)"},
      {"not not a:1", "not not a:1"},
      {"(a:1 or b:2) and c:3", "((a:1 or b:2) and c:3)"},
      {"((a:1))", "a:1"},
      {"((a:1) or (b:2))", "(a:1 or b:2)"},
      // Keywords are case-insensitive, as in oslo.policy.
      {"a:1 AND b:2 Or c:3", "((a:1 and b:2) or c:3)"},
      {"  a:1\tand\n b:2 ", "(a:1 and b:2)"},
      {"(role:reader and system_scope:all) or project_id:%(target.project.id)s",
       "((role:reader and system_scope:all) or project_id:%(target.project.id)s)"},
      {"role:reader and domain_id:%(target.domain_id)s and not None:%(target.domain_id)s",
       "(role:reader and domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)"},
  };
  for (const auto& c : cases) {
    auto rule = Rule::parse("r", c.text);
    ASSERT_TRUE(rule.ok()) << c.text << ": " << rule.error().message;
    EXPECT_EQ(rule->to_string(), c.canonical) << c.text;
  }
}

TEST(RuleParse, MalformedRulesAreErrorsNamingTheRule) {
  const char* cases[] = {
      "role:admin or",           // dangling operator
      "and role:admin",          // leading operator
      "role:admin and",          //
      "not",                     //
      "(role:admin",             // unbalanced
      "role:admin)",             //
      "()",                      // empty group
      "role:admin role:member",  // two checks without an operator
      "admin",                   // no ':'
      ":admin",                  // empty kind
      "rule:",                   // empty rule name
      "role:",                   // empty role
      "'quoted'",                // a bare string is not a check
      "user_id:%(user_id)d",     // only %(key)s substitutions
      "user_id:%(user_id",       // unterminated substitution
      "user_id:100%",            // stray percent
      "a:1 or or b:2",           //
  };
  for (const char* text : cases) {
    auto rule = Rule::parse("identity:broken", text);
    ASSERT_FALSE(rule.ok()) << "should fail: " << text;
    EXPECT_EQ(rule.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(rule.error().message.find("identity:broken"), std::string::npos)
        << rule.error().message;
  }
}

TEST(RuleParse, DeepNestingIsAnErrorNotACrash) {
  std::string text(500, '(');
  text += "a:1";
  text += std::string(500, ')');
  EXPECT_FALSE(Rule::parse("deep", text).ok());
  std::string nots;
  for (int i = 0; i < 500; ++i) nots += "not ";
  EXPECT_FALSE(Rule::parse("deep", nots + "a:1").ok());
}

TEST(RuleParse, ListFormIsAnOrOfAnds) {
  auto rule = Rule::parse_list("r", {{"role:admin"}, {"role:member", "project_id:%(p)s"}});
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(rule->to_string(), "(role:admin or (role:member and project_id:%(p)s))");

  auto empty = Rule::parse_list("r", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->to_string(), "@");

  auto only_empty_inner = Rule::parse_list("r", {{}, {}});
  ASSERT_TRUE(only_empty_inner.ok());
  EXPECT_EQ(only_empty_inner->to_string(), "!");

  EXPECT_FALSE(Rule::parse_list("r", {{"no-colon"}}).ok());
}

TEST(RuleParse, ReferencesListsRuleNames) {
  auto rule = Rule::parse("r", "rule:a or (role:x and rule:b) or not rule:a");
  ASSERT_TRUE(rule.ok());
  auto refs = rule->references();
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0], "a");
  EXPECT_EQ(refs[1], "b");
  EXPECT_EQ(refs[2], "a");
}

// --- evaluation -----------------------------------------------------------

class MapResolver : public RuleResolver {
 public:
  void add(const std::string& name, const std::string& text) {
    auto r = Rule::parse(name, text);
    ASSERT_TRUE(r.ok());
    rules_.insert_or_assign(name, std::move(*r));
  }
  const Rule* find_rule(std::string_view name) const override {
    auto it = rules_.find(std::string(name));
    return it == rules_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, Rule> rules_;
};

bool eval(const std::string& text, const Credentials& c, const Target& t,
          const RuleResolver* resolver = nullptr) {
  auto r = Rule::parse("r", text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() && r->evaluate(c, t, resolver);
}

Credentials project_member() {
  Credentials c;
  c.user_id = "u1";
  c.user_domain_id = "d1";
  c.project_id = "p1";
  c.project_domain_id = "d1";
  c.roles = {"member", "reader"};
  return c;
}

struct EvalCase {
  const char* text;
  bool expected;
};

TEST(RuleEvaluate, ChecksFollowOsloPolicySemantics) {
  Credentials c = project_member();
  Target t{{"target.project.id", "p1"}, {"target.project.domain_id", "d1"},
           {"target.other", "p2"},      {"target.role.domain_id", "None"},
           {"user_id", "u1"},           {"prefix", "p"}};
  const EvalCase cases[] = {
      {"", true},
      {"@", true},
      {"!", false},
      {"role:member", true},
      {"role:MEMBER", true},  // role names compare case-insensitively
      {"role:admin", false},
      {"role:%(missing)s", false},
      {"project_id:%(target.project.id)s", true},
      {"project_id:%(target.other)s", false},
      {"project_id:%(target.missing)s", false},  // missing key: false
      {"project_id:p1", true},
      {"project_id:%(prefix)s1", true},  // literal text mixed with a key
      {"user_id:%(user_id)s", true},
      {"roles:member", true},
      {"roles:Member", false},  // generic checks are exact
      {"system_scope:all", false},
      // Unset context values compare as Python's None.
      {"domain_id:None", true},
      {"system_scope:None", true},
      {"None:%(target.role.domain_id)s", true},
      {"None:%(target.project.id)s", false},
      {"True:True", true},
      {"'p1':%(target.project.id)s", true},
      {"\"p1\":%(target.project.id)s", true},
      {"1:1", true},
      {"is_admin_project:True", true},
      {"is_admin:1", false},  // not a credential Keystone carries
      {"token.project.id:p1", true},
      {"token.project.domain.id:%(target.project.domain_id)s", true},
      {"token.domain.id:None", false},  // absent from a project token
      {"token.user.id:u1", true},
      {"token.roles.name:reader", true},
      {"no.such.path:x", false},
      {"not role:admin", true},
      {"role:admin or role:reader", true},
      {"role:admin and role:reader", false},
      {"role:member and not role:admin and project_id:%(target.project.id)s", true},
      {"rule:undefined", false},  // no resolver: fail closed
  };
  for (const auto& e : cases) {
    EXPECT_EQ(eval(e.text, c, t), e.expected) << e.text;
  }
}

TEST(RuleEvaluate, SystemAndDomainTokensExposeTheirScope) {
  Credentials sys;
  sys.user_id = "admin";
  sys.system_scope = "all";
  sys.roles = {"admin"};
  Target t;
  EXPECT_TRUE(eval("system_scope:all", sys, t));
  EXPECT_TRUE(eval("token.system.all:True", sys, t));
  EXPECT_TRUE(eval("project_id:None", sys, t));
  EXPECT_FALSE(eval("token.project.id:None", sys, t));

  Credentials dom;
  dom.user_id = "u";
  dom.domain_id = "d9";
  Target td{{"target.domain.id", "d9"}};
  EXPECT_TRUE(eval("token.domain.id:%(target.domain.id)s", dom, td));
  EXPECT_TRUE(eval("domain_id:%(target.domain.id)s", dom, td));
  EXPECT_FALSE(eval("token.project.domain.id:%(target.domain.id)s", dom, td));
}

TEST(RuleEvaluate, RuleReferencesResolveThroughTheResolver) {
  MapResolver rules;
  rules.add("admin_required", "role:admin");
  rules.add("owner", "user_id:%(user_id)s");
  rules.add("admin_or_owner", "rule:admin_required or rule:owner");
  Credentials c = project_member();
  EXPECT_TRUE(eval("rule:admin_or_owner", c, {{"user_id", "u1"}}, &rules));
  EXPECT_FALSE(eval("rule:admin_or_owner", c, {{"user_id", "u2"}}, &rules));
  EXPECT_FALSE(eval("rule:nope", c, {}, &rules));
}

TEST(RuleEvaluate, AReferenceCycleStopsAtTheDepthBoundAndDenies) {
  MapResolver rules;
  rules.add("a", "rule:b");
  rules.add("b", "rule:a");
  EXPECT_FALSE(eval("rule:a", project_member(), {}, &rules));
  rules.add("c", "rule:c or @");
  EXPECT_TRUE(eval("rule:c", project_member(), {}, &rules));
}

TEST(RuleEvaluate, EitherAllowsWhenOneSideAllows) {
  auto a = Rule::parse("x", "role:admin");
  auto b = Rule::parse("x", "project_id:%(target.project.id)s");
  ASSERT_TRUE(a.ok() && b.ok());
  Rule both = Rule::either(*a, *b);
  EXPECT_EQ(both.to_string(), "(role:admin or project_id:%(target.project.id)s)");
  EXPECT_EQ(both.name(), "x");
  Credentials c = project_member();
  EXPECT_TRUE(both.evaluate(c, {{"target.project.id", "p1"}}, nullptr));
  EXPECT_FALSE(both.evaluate(c, {{"target.project.id", "p2"}}, nullptr));
}

}  // namespace
}  // namespace onestack::policy
