// The IdentityStore contract, run against every backend. A new backend
// joins by adding one entry to kBackends. The Postgres entry runs against
// the database in ONESTACK_TEST_PG, each test in a schema of its own (see
// pg_test_env.h); without it those tests skip, or fail under
// ONESTACK_TEST_REQUIRE_BACKENDS=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "pg_test_env.h"
#include "store/identity_store.h"
#include "store/pg/identity_migrations_pg.h"
#include "store/pg/pg_db.h"
#include "store/sql/identity_store_sql.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "temp_dir.h"

namespace onestack::store {
namespace {

using testing::TempDir;

struct Backend {
  std::string name;
  // Opens a fresh, empty store whose files (if any) live under `dir`; a
  // PostgreSQL backend connects with `pg_conninfo` (an empty schema).
  std::function<Result<std::unique_ptr<IdentityStore>>(const TempDir& dir,
                                                       const std::string& pg_conninfo)>
      open;
  // Needs ONESTACK_TEST_PG.
  bool postgres = false;
  // Shared by several nodes: generation() moves and Fernet keys are kept.
  bool shared = false;
};

// The one identity store, on the database `db` opened.
template <typename Db>
Result<std::unique_ptr<IdentityStore>> as_store(Result<std::unique_ptr<Db>> db) {
  if (!db.ok()) return std::move(db).error();
  return std::unique_ptr<IdentityStore>(std::make_unique<sql::SqlIdentityStore>(std::move(*db)));
}

const Backend kBackends[] = {
    {"SqliteFile",
     [](const TempDir& dir, const std::string&) {
       return as_store(
           sqlite::SqliteDb::open(dir.file("identity.db"), {}, sqlite::schema_migrations()));
     }},
    {"SqliteMemory",
     [](const TempDir&, const std::string&) {
       return as_store(sqlite::SqliteDb::open(":memory:", {}, sqlite::schema_migrations()));
     }},
    {"Postgres",
     [](const TempDir&, const std::string& conninfo) {
       return as_store(pg::PgDb::open(conninfo, pg::PoolOptions{.max_connections = 4}, "identity",
                                      pg::identity_migrations(), "the identity store"));
     },
     /*postgres=*/true, /*shared=*/true},
};

// Keeps gtest's failure lines readable ("GetParam() = SqliteFile").
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

Record rec(std::string id, std::string scope = "", std::string name = "", std::string parent = "",
           std::string owner = "", std::string doc = "{}") {
  return Record{std::move(id),     std::move(scope), std::move(name),
                std::move(parent), std::move(owner), std::move(doc)};
}

std::vector<std::string> ids_of(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) out.push_back(r.id);
  return out;
}

Assignment grant(ActorType actor_type, std::string actor, TargetType target_type,
                 std::string target, std::string role, bool inherited = false) {
  return Assignment{actor_type,        std::move(actor), target_type,
                    std::move(target), std::move(role),  inherited};
}

#define ASSERT_OK(expr)                                                              \
  do {                                                                               \
    const auto& assert_ok_r_ = (expr);                                               \
    ASSERT_TRUE(assert_ok_r_.ok()) << #expr << ": " << assert_ok_r_.error().message; \
  } while (0)

#define EXPECT_CODE(expr, expected_code)                                     \
  do {                                                                       \
    auto expect_code_r_ = (expr);                                            \
    ASSERT_FALSE(expect_code_r_.ok()) << #expr << " unexpectedly succeeded"; \
    EXPECT_EQ(expect_code_r_.error().code, expected_code)                    \
        << #expr << ": " << expect_code_r_.error().message;                  \
  } while (0)

class IdentityStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string conninfo;
    if (GetParam().postgres) {
      auto base = testing::pg_test_conninfo();
      if (!base) {
        if (testing::pg_test_required()) FAIL() << testing::kPgTestUnsetMessage;
        GTEST_SKIP() << testing::kPgTestUnsetMessage;
      }
      schema_ = std::make_unique<testing::TestSchema>(*base);
      ASSERT_EQ(schema_->error(), "") << "cannot create a test schema";
      conninfo = schema_->conninfo();
    }
    auto opened = GetParam().open(dir_, conninfo);
    ASSERT_TRUE(opened.ok()) << "backend failed to open: " << opened.error().message;
    store_ = std::move(*opened);
  }

  std::vector<Assignment> assignments(const AssignmentQuery& q = {}) {
    auto r = store_->list_assignments(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<Assignment>{};
  }

  std::vector<std::string> list_ids(Kind kind, const RecordQuery& q = {}) {
    auto r = store_->list(kind, q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? ids_of(*r) : std::vector<std::string>{};
  }

  TempDir dir_;
  std::unique_ptr<testing::TestSchema> schema_;  // outlives store_: dropped after it closes
  std::unique_ptr<IdentityStore> store_;
};

// ---- records ----

TEST_P(IdentityStoreContract, CreateThenGetReturnsEveryField) {
  Record r = rec("p1", "d1", "web", "parent", "owner", R"({"enabled":true})");
  ASSERT_OK(store_->create(Kind::kProject, r));
  auto got = store_->get(Kind::kProject, "p1");
  ASSERT_OK(got);
  EXPECT_EQ(got->id, "p1");
  EXPECT_EQ(got->scope, "d1");
  EXPECT_EQ(got->name, "web");
  EXPECT_EQ(got->parent_id, "parent");
  EXPECT_EQ(got->owner_id, "owner");
  EXPECT_EQ(got->doc, R"({"enabled":true})");
}

TEST_P(IdentityStoreContract, GetOfUnknownIdIsNotFound) {
  EXPECT_CODE(store_->get(Kind::kUser, "nobody"), ErrorCode::kNotFound);
}

TEST_P(IdentityStoreContract, GetDoesNotSeeTheSameIdOfAnotherKind) {
  ASSERT_OK(store_->create(Kind::kUser, rec("x", "d", "alice")));
  EXPECT_CODE(store_->get(Kind::kGroup, "x"), ErrorCode::kNotFound);
  ASSERT_OK(store_->create(Kind::kGroup, rec("x", "d", "alice")));
}

TEST_P(IdentityStoreContract, CreateWithAnExistingIdIsConflict) {
  ASSERT_OK(store_->create(Kind::kRegion, rec("r1")));
  EXPECT_CODE(store_->create(Kind::kRegion, rec("r1")), ErrorCode::kConflict);
}

TEST_P(IdentityStoreContract, TextWithUnusualBytesRoundTrips) {
  std::string doc = "{\"name\":\"caf\xc3\xa9 \xe2\x98\x83\",\"q\":\"'; DROP TABLE records; --\"}";
  ASSERT_OK(store_->create(Kind::kService, rec("s1", "", "it's", "", "", doc)));
  auto got = store_->get(Kind::kService, "s1");
  ASSERT_OK(got);
  EXPECT_EQ(got->name, "it's");
  EXPECT_EQ(got->doc, doc);
}

struct UniquenessCase {
  Kind kind;
  bool unique_in_scope;  // a second (scope, name) in the same scope clashes
  bool unique_globally;  // the same name in another scope clashes too
};

TEST_P(IdentityStoreContract, NamesAreUniqueExactlyWhereTheKindRequires) {
  const UniquenessCase cases[] = {
      {Kind::kDomain, true, true},
      {Kind::kProject, true, false},
      {Kind::kUser, true, false},
      {Kind::kGroup, true, false},
      {Kind::kRole, true, false},
      {Kind::kAppCredential, true, false},
      {Kind::kRegion, false, false},
      {Kind::kService, false, false},
      {Kind::kEndpoint, false, false},
      {Kind::kCredential, false, false},
      {Kind::kAccessRule, false, false},
      {Kind::kPolicy, false, false},
      {Kind::kEndpointGroup, false, false},
      {Kind::kConsumer, false, false},
      {Kind::kDomainConfig, false, false},
      // Unique in (service, region, resource) and, for limits, owner: with
      // the same service and owner, exactly "unique in scope".
      {Kind::kRegisteredLimit, true, false},
      {Kind::kLimit, true, false},
  };
  for (const UniquenessCase& c : cases) {
    SCOPED_TRACE(kind_name(c.kind));
    // Domains have no scope of their own; give the others one.
    const std::string scope_a = c.kind == Kind::kDomain ? "" : "scope-a";
    const std::string scope_b = c.kind == Kind::kDomain ? "" : "scope-b";
    ASSERT_OK(store_->create(c.kind, rec("first", scope_a, "same")));
    Status again = store_->create(c.kind, rec("second", scope_a, "same"));
    if (c.unique_in_scope) {
      ASSERT_FALSE(again.ok());
      EXPECT_EQ(again.error().code, ErrorCode::kConflict);
    } else {
      EXPECT_TRUE(again.ok());
    }
    if (c.kind != Kind::kDomain) {
      Status other_scope = store_->create(c.kind, rec("third", scope_b, "same"));
      EXPECT_EQ(other_scope.ok(), !c.unique_globally);
    }
  }
}

TEST_P(IdentityStoreContract, RegisteredLimitsAreUniquePerServiceRegionAndResource) {
  // rec(id, scope = region, name = resource, parent = service)
  ASSERT_OK(store_->create(Kind::kRegisteredLimit, rec("rl1", "r1", "cores", "s1")));
  EXPECT_CODE(store_->create(Kind::kRegisteredLimit, rec("rl2", "r1", "cores", "s1")),
              ErrorCode::kConflict);
  ASSERT_OK(store_->create(Kind::kRegisteredLimit, rec("rl3", "r1", "cores", "s2")));
  ASSERT_OK(store_->create(Kind::kRegisteredLimit, rec("rl4", "", "cores", "s1")));
  ASSERT_OK(store_->create(Kind::kRegisteredLimit, rec("rl5", "r1", "ram", "s1")));
  EXPECT_CODE(store_->update(Kind::kRegisteredLimit, rec("rl5", "r1", "cores", "s1")),
              ErrorCode::kConflict);
  EXPECT_EQ(list_ids(Kind::kRegisteredLimit),
            (std::vector<std::string>{"rl1", "rl3", "rl4", "rl5"}));
}

TEST_P(IdentityStoreContract, LimitsAreUniquePerOwnerServiceRegionAndResource) {
  // rec(id, scope = region, name = resource, parent = service, owner = project)
  ASSERT_OK(store_->create(Kind::kLimit, rec("l1", "r1", "cores", "s1", "p1")));
  EXPECT_CODE(store_->create(Kind::kLimit, rec("l2", "r1", "cores", "s1", "p1")),
              ErrorCode::kConflict);
  ASSERT_OK(store_->create(Kind::kLimit, rec("l3", "r1", "cores", "s1", "p2")));
  ASSERT_OK(store_->create(Kind::kLimit, rec("l4", "", "cores", "s1", "p1")));
  ASSERT_OK(store_->create(Kind::kLimit, rec("l5", "r1", "cores", "s2", "p1")));
  EXPECT_EQ(list_ids(Kind::kLimit), (std::vector<std::string>{"l1", "l3", "l4", "l5"}));
}

TEST_P(IdentityStoreContract, CreateAllInsertsEveryRecordOrNone) {
  ASSERT_OK(store_->create_all(Kind::kRegisteredLimit,
                               {rec("a", "", "cores", "s"), rec("b", "", "ram", "s")}));
  EXPECT_EQ(list_ids(Kind::kRegisteredLimit), (std::vector<std::string>{"a", "b"}));
  // A clash with a stored record, or within the batch, inserts nothing.
  EXPECT_CODE(store_->create_all(Kind::kRegisteredLimit,
                                 {rec("c", "", "disk", "s"), rec("d", "", "cores", "s")}),
              ErrorCode::kConflict);
  EXPECT_CODE(store_->create_all(Kind::kRegisteredLimit,
                                 {rec("e", "", "gpus", "s"), rec("f", "", "gpus", "s")}),
              ErrorCode::kConflict);
  EXPECT_CODE(store_->create_all(Kind::kRegisteredLimit, {rec("g", "", "x", "s"), rec("a")}),
              ErrorCode::kConflict);
  EXPECT_EQ(list_ids(Kind::kRegisteredLimit), (std::vector<std::string>{"a", "b"}));
  ASSERT_OK(store_->create_all(Kind::kRegisteredLimit, {}));
}

TEST_P(IdentityStoreContract, GlobalAndDomainRolesMayShareAName) {
  ASSERT_OK(store_->create(Kind::kRole, rec("r-global", "", "admin")));
  ASSERT_OK(store_->create(Kind::kRole, rec("r-domain", "d1", "admin")));
  EXPECT_CODE(store_->create(Kind::kRole, rec("r-global-2", "", "admin")), ErrorCode::kConflict);
}

TEST_P(IdentityStoreContract, ListReturnsAllRecordsOfTheKindOrderedById) {
  ASSERT_OK(store_->create(Kind::kProject, rec("c", "d", "n3")));
  ASSERT_OK(store_->create(Kind::kProject, rec("a", "d", "n1")));
  ASSERT_OK(store_->create(Kind::kProject, rec("b", "d", "n2")));
  ASSERT_OK(store_->create(Kind::kUser, rec("u", "d", "n1")));
  EXPECT_EQ(list_ids(Kind::kProject), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(list_ids(Kind::kGroup), std::vector<std::string>{});
}

TEST_P(IdentityStoreContract, ListFiltersByEverySetField) {
  ASSERT_OK(store_->create(Kind::kCredential, rec("1", "s1", "n1", "p1", "o1")));
  ASSERT_OK(store_->create(Kind::kCredential, rec("2", "s1", "n2", "p2", "o1")));
  ASSERT_OK(store_->create(Kind::kCredential, rec("3", "s2", "n1", "p1", "o2")));
  ASSERT_OK(store_->create(Kind::kCredential, rec("4", "s2", "n2", "p2", "o2")));
  struct Case {
    const char* what;
    RecordQuery query;
    std::vector<std::string> ids;
  };
  const Case cases[] = {
      {"no filter", {}, {"1", "2", "3", "4"}},
      {"scope", {.scope = "s1"}, {"1", "2"}},
      {"name", {.name = "n1"}, {"1", "3"}},
      {"parent", {.parent_id = "p2"}, {"2", "4"}},
      {"owner", {.owner_id = "o2"}, {"3", "4"}},
      {"scope and name", {.scope = "s2", .name = "n2"}, {"4"}},
      {"all four", {.scope = "s1", .name = "n1", .parent_id = "p1", .owner_id = "o1"}, {"1"}},
      {"no match", {.scope = "s1", .owner_id = "o2"}, {}},
      {"empty string is a value", {.scope = ""}, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(list_ids(Kind::kCredential, c.query), c.ids) << c.what;
  }
}

TEST_P(IdentityStoreContract, UpdateReplacesEveryField) {
  ASSERT_OK(store_->create(Kind::kUser, rec("u1", "d1", "alice", "", "", R"({"v":1})")));
  ASSERT_OK(store_->update(Kind::kUser, rec("u1", "d2", "alicia", "x", "y", R"({"v":2})")));
  auto got = store_->get(Kind::kUser, "u1");
  ASSERT_OK(got);
  EXPECT_EQ(got->scope, "d2");
  EXPECT_EQ(got->name, "alicia");
  EXPECT_EQ(got->parent_id, "x");
  EXPECT_EQ(got->owner_id, "y");
  EXPECT_EQ(got->doc, R"({"v":2})");
}

TEST_P(IdentityStoreContract, UpdateOfUnknownIdIsNotFound) {
  EXPECT_CODE(store_->update(Kind::kUser, rec("ghost", "d", "n")), ErrorCode::kNotFound);
  EXPECT_CODE(store_->get(Kind::kUser, "ghost"), ErrorCode::kNotFound);
}

TEST_P(IdentityStoreContract, UpdateKeepingItsOwnNameSucceeds) {
  ASSERT_OK(store_->create(Kind::kGroup, rec("g1", "d", "devs", "", "", "{}")));
  ASSERT_OK(store_->update(Kind::kGroup, rec("g1", "d", "devs", "", "", R"({"description":"x"})")));
}

TEST_P(IdentityStoreContract, UpdateToATakenNameIsConflictAndChangesNothing) {
  ASSERT_OK(store_->create(Kind::kProject, rec("p1", "d", "one", "", "", R"({"v":1})")));
  ASSERT_OK(store_->create(Kind::kProject, rec("p2", "d", "two")));
  EXPECT_CODE(store_->update(Kind::kProject, rec("p1", "d", "two", "", "", R"({"v":2})")),
              ErrorCode::kConflict);
  auto got = store_->get(Kind::kProject, "p1");
  ASSERT_OK(got);
  EXPECT_EQ(got->name, "one");
  EXPECT_EQ(got->doc, R"({"v":1})");
}

TEST_P(IdentityStoreContract, RenamingFreesTheOldName) {
  ASSERT_OK(store_->create(Kind::kDomain, rec("d1", "", "old")));
  ASSERT_OK(store_->update(Kind::kDomain, rec("d1", "", "new")));
  ASSERT_OK(store_->create(Kind::kDomain, rec("d2", "", "old")));
  EXPECT_CODE(store_->create(Kind::kDomain, rec("d3", "", "new")), ErrorCode::kConflict);
}

TEST_P(IdentityStoreContract, RemoveDeletesTheRecordAndFreesItsIdAndName) {
  ASSERT_OK(store_->create(Kind::kRole, rec("r1", "", "reader")));
  ASSERT_OK(store_->remove(Kind::kRole, "r1"));
  EXPECT_CODE(store_->get(Kind::kRole, "r1"), ErrorCode::kNotFound);
  ASSERT_OK(store_->create(Kind::kRole, rec("r1", "", "reader")));
}

TEST_P(IdentityStoreContract, RemoveOfUnknownIdIsNotFound) {
  EXPECT_CODE(store_->remove(Kind::kEndpoint, "nope"), ErrorCode::kNotFound);
}

TEST_P(IdentityStoreContract, RemoveOnlyTouchesTheGivenKind) {
  ASSERT_OK(store_->create(Kind::kUser, rec("same", "d", "n")));
  ASSERT_OK(store_->create(Kind::kGroup, rec("same", "d", "n")));
  ASSERT_OK(store_->remove(Kind::kGroup, "same"));
  ASSERT_OK(store_->get(Kind::kUser, "same"));
}

// ---- cascades ----

class IdentityStoreCascade : public IdentityStoreContract {
 protected:
  // Two of everything, with every relation between them, so each test can
  // check both what went and what stayed.
  void SetUp() override {
    IdentityStoreContract::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    for (const char* d : {"d1", "d2"}) ASSERT_OK(store_->create(Kind::kDomain, rec(d, "", d)));
    for (const char* p : {"p1", "p2"}) ASSERT_OK(store_->create(Kind::kProject, rec(p, "d1", p)));
    for (const char* u : {"u1", "u2"}) ASSERT_OK(store_->create(Kind::kUser, rec(u, "d1", u)));
    for (const char* g : {"g1", "g2"}) ASSERT_OK(store_->create(Kind::kGroup, rec(g, "d1", g)));
    for (const char* r : {"r1", "r2", "r3"}) ASSERT_OK(store_->create(Kind::kRole, rec(r, "", r)));
    ASSERT_OK(store_->create(Kind::kCredential, rec("c1", "", "", "p1", "u1")));
    ASSERT_OK(store_->create(Kind::kCredential, rec("c2", "", "", "p1", "u2")));
    ASSERT_OK(store_->create(Kind::kAppCredential, rec("a1", "u1", "ci", "", "u1")));
    ASSERT_OK(store_->create(Kind::kAppCredential, rec("a2", "u2", "ci", "", "u2")));
    ASSERT_OK(store_->create(Kind::kAccessRule, rec("ar1", "", "", "", "u1")));
    ASSERT_OK(store_->create(Kind::kAccessRule, rec("ar2", "", "", "", "u2")));
    for (const char* d : {"d1", "d2"}) ASSERT_OK(store_->create(Kind::kDomainConfig, rec(d)));
    // A limit on each project and domain: owner_id names it.
    for (const char* o : {"p1", "p2", "d1", "d2"}) {
      ASSERT_OK(store_->create(Kind::kLimit, rec(std::string("l-") + o, "", "cores", "s", o)));
    }
    for (const char* g : {"g1", "g2"}) {
      for (const char* u : {"u1", "u2"}) ASSERT_OK(store_->add_member(g, u));
    }
    ASSERT_OK(
        store_->add_assignment(grant(ActorType::kUser, "u1", TargetType::kProject, "p1", "r1")));
    ASSERT_OK(
        store_->add_assignment(grant(ActorType::kUser, "u2", TargetType::kProject, "p2", "r2")));
    ASSERT_OK(store_->add_assignment(
        grant(ActorType::kGroup, "g1", TargetType::kDomain, "d1", "r1", true)));
    ASSERT_OK(
        store_->add_assignment(grant(ActorType::kGroup, "g2", TargetType::kDomain, "d2", "r2")));
    ASSERT_OK(
        store_->add_assignment(grant(ActorType::kUser, "u1", TargetType::kSystem, "system", "r3")));
    ASSERT_OK(store_->add_implied_role("r1", "r2"));
    ASSERT_OK(store_->add_implied_role("r2", "r3"));
    ASSERT_OK(store_->add_implied_role("r3", "r1"));
  }

  std::vector<std::string> groups_of(const std::string& user) {
    auto r = store_->groups_of_user(user);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<std::string>{};
  }
};

TEST_P(IdentityStoreCascade, RemovingAUserDropsItsMembershipsGrantsAndOwnedCredentials) {
  ASSERT_OK(store_->remove(Kind::kUser, "u1"));
  EXPECT_EQ(groups_of("u1"), std::vector<std::string>{});
  EXPECT_EQ(groups_of("u2"), (std::vector<std::string>{"g1", "g2"}));
  EXPECT_EQ(assignments({.actor_id = "u1"}), std::vector<Assignment>{});
  EXPECT_EQ(assignments().size(), 3u);
  EXPECT_EQ(list_ids(Kind::kCredential), std::vector<std::string>{"c2"});
  EXPECT_EQ(list_ids(Kind::kAppCredential), std::vector<std::string>{"a2"});
  EXPECT_EQ(list_ids(Kind::kAccessRule), std::vector<std::string>{"ar2"});
}

TEST_P(IdentityStoreCascade, RemovingAGroupDropsItsMembershipsAndGrants) {
  ASSERT_OK(store_->remove(Kind::kGroup, "g1"));
  EXPECT_EQ(groups_of("u1"), std::vector<std::string>{"g2"});
  auto users = store_->users_in_group("g1");
  ASSERT_OK(users);
  EXPECT_TRUE(users->empty());
  EXPECT_EQ(
      assignments({.actor_type = ActorType::kGroup}),
      (std::vector<Assignment>{grant(ActorType::kGroup, "g2", TargetType::kDomain, "d2", "r2")}));
  EXPECT_EQ(assignments().size(), 4u);
}

TEST_P(IdentityStoreCascade, RemovingAProjectDropsGrantsOnItAndItsLimits) {
  ASSERT_OK(store_->remove(Kind::kProject, "p1"));
  EXPECT_EQ(assignments({.target_id = "p1"}), std::vector<Assignment>{});
  EXPECT_EQ(assignments().size(), 4u);
  EXPECT_EQ(list_ids(Kind::kCredential).size(), 2u);  // credentials name projects but stay
  EXPECT_EQ(list_ids(Kind::kLimit), (std::vector<std::string>{"l-d1", "l-d2", "l-p2"}));
}

TEST_P(IdentityStoreCascade, RemovingADomainDropsGrantsOnItItsConfigurationAndItsLimits) {
  ASSERT_OK(store_->remove(Kind::kDomain, "d1"));
  EXPECT_EQ(list_ids(Kind::kDomainConfig), std::vector<std::string>{"d2"});
  // Only the domain's own limit: its projects' go when they are removed.
  EXPECT_EQ(list_ids(Kind::kLimit), (std::vector<std::string>{"l-d2", "l-p1", "l-p2"}));
  EXPECT_EQ(
      assignments({.target_type = TargetType::kDomain}),
      (std::vector<Assignment>{grant(ActorType::kGroup, "g2", TargetType::kDomain, "d2", "r2")}));
  EXPECT_EQ(assignments().size(), 4u);
}

TEST_P(IdentityStoreCascade, RemovingARoleDropsItsGrantsAndImplicationsBothWays) {
  ASSERT_OK(store_->remove(Kind::kRole, "r1"));
  EXPECT_EQ(assignments({.role_id = "r1"}), std::vector<Assignment>{});
  EXPECT_EQ(assignments().size(), 3u);
  auto implied = store_->list_implied_roles();
  ASSERT_OK(implied);
  EXPECT_EQ(*implied, (std::vector<std::pair<std::string, std::string>>{{"r2", "r3"}}));
}

TEST_P(IdentityStoreCascade, RemovingOtherKindsLeavesRelationsAlone) {
  ASSERT_OK(store_->remove(Kind::kCredential, "c1"));
  ASSERT_OK(store_->remove(Kind::kAppCredential, "a1"));
  ASSERT_OK(store_->remove(Kind::kLimit, "l-p1"));
  EXPECT_EQ(assignments().size(), 5u);
  EXPECT_EQ(list_ids(Kind::kLimit).size(), 3u);
  EXPECT_EQ(groups_of("u1").size(), 2u);
  ASSERT_OK(store_->get(Kind::kUser, "u1"));
}

TEST_P(IdentityStoreCascade, RemovingAnUnknownUserChangesNothing) {
  EXPECT_CODE(store_->remove(Kind::kUser, "u9"), ErrorCode::kNotFound);
  EXPECT_EQ(assignments().size(), 5u);
}

// ---- group membership ----

TEST_P(IdentityStoreContract, AddMemberIsIdempotent) {
  ASSERT_OK(store_->add_member("g", "u"));
  ASSERT_OK(store_->add_member("g", "u"));
  auto users = store_->users_in_group("g");
  ASSERT_OK(users);
  EXPECT_EQ(*users, std::vector<std::string>{"u"});
}

TEST_P(IdentityStoreContract, IsMemberReflectsAddAndRemove) {
  auto before = store_->is_member("g", "u");
  ASSERT_OK(before);
  EXPECT_FALSE(*before);
  ASSERT_OK(store_->add_member("g", "u"));
  EXPECT_TRUE(*store_->is_member("g", "u"));
  EXPECT_FALSE(*store_->is_member("g", "other"));
  ASSERT_OK(store_->remove_member("g", "u"));
  EXPECT_FALSE(*store_->is_member("g", "u"));
}

TEST_P(IdentityStoreContract, RemovingAnAbsentMemberIsNotFound) {
  ASSERT_OK(store_->add_member("g", "u"));
  EXPECT_CODE(store_->remove_member("g", "x"), ErrorCode::kNotFound);
  EXPECT_CODE(store_->remove_member("x", "u"), ErrorCode::kNotFound);
}

TEST_P(IdentityStoreContract, MembershipIsListedBothWaysInIdOrder) {
  ASSERT_OK(store_->add_member("gb", "u2"));
  ASSERT_OK(store_->add_member("ga", "u2"));
  ASSERT_OK(store_->add_member("ga", "u1"));
  EXPECT_EQ(*store_->groups_of_user("u2"), (std::vector<std::string>{"ga", "gb"}));
  EXPECT_EQ(*store_->users_in_group("ga"), (std::vector<std::string>{"u1", "u2"}));
  EXPECT_EQ(*store_->groups_of_user("nobody"), std::vector<std::string>{});
}

// ---- role assignments ----

TEST_P(IdentityStoreContract, AddAssignmentIsIdempotent) {
  Assignment a = grant(ActorType::kUser, "u", TargetType::kProject, "p", "r");
  ASSERT_OK(store_->add_assignment(a));
  ASSERT_OK(store_->add_assignment(a));
  EXPECT_EQ(assignments(), std::vector<Assignment>{a});
}

TEST_P(IdentityStoreContract, InheritedAndDirectGrantsAreDistinct) {
  Assignment direct = grant(ActorType::kGroup, "g", TargetType::kDomain, "d", "r", false);
  Assignment inherited = grant(ActorType::kGroup, "g", TargetType::kDomain, "d", "r", true);
  ASSERT_OK(store_->add_assignment(direct));
  ASSERT_OK(store_->add_assignment(inherited));
  EXPECT_EQ(assignments(), (std::vector<Assignment>{direct, inherited}));
  ASSERT_OK(store_->remove_assignment(inherited));
  EXPECT_EQ(assignments(), std::vector<Assignment>{direct});
  EXPECT_CODE(store_->remove_assignment(inherited), ErrorCode::kNotFound);
}

TEST_P(IdentityStoreContract, RemovingAnAbsentAssignmentIsNotFound) {
  EXPECT_CODE(
      store_->remove_assignment(grant(ActorType::kUser, "u", TargetType::kProject, "p", "r")),
      ErrorCode::kNotFound);
}

TEST_P(IdentityStoreContract, ListAssignmentsFiltersByEverySetField) {
  const Assignment a1 = grant(ActorType::kUser, "u1", TargetType::kProject, "p1", "r1");
  const Assignment a2 = grant(ActorType::kUser, "u1", TargetType::kDomain, "d1", "r2");
  const Assignment a3 = grant(ActorType::kGroup, "g1", TargetType::kProject, "p1", "r2", true);
  const Assignment a4 = grant(ActorType::kUser, "u2", TargetType::kSystem, "system", "r1");
  for (const Assignment& a : {a1, a2, a3, a4}) ASSERT_OK(store_->add_assignment(a));
  struct Case {
    const char* what;
    AssignmentQuery query;
    std::vector<Assignment> expected;  // in the store's order
  };
  const Case cases[] = {
      {"all", {}, {a3, a2, a1, a4}},
      {"actor type", {.actor_type = ActorType::kGroup}, {a3}},
      {"actor id", {.actor_id = "u1"}, {a2, a1}},
      {"target type", {.target_type = TargetType::kProject}, {a3, a1}},
      {"target id", {.target_id = "p1"}, {a3, a1}},
      {"system", {.target_type = TargetType::kSystem, .target_id = "system"}, {a4}},
      {"role", {.role_id = "r1"}, {a1, a4}},
      {"user on project with role",
       {.actor_type = ActorType::kUser,
        .actor_id = "u1",
        .target_type = TargetType::kProject,
        .target_id = "p1",
        .role_id = "r1"},
       {a1}},
      {"no match", {.actor_id = "u2", .role_id = "r2"}, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(assignments(c.query), c.expected) << c.what;
  }
}

// ---- implied roles ----

TEST_P(IdentityStoreContract, ImpliedRolesAreListedInOrder) {
  ASSERT_OK(store_->add_implied_role("b", "c"));
  ASSERT_OK(store_->add_implied_role("a", "c"));
  ASSERT_OK(store_->add_implied_role("a", "b"));
  auto all = store_->list_implied_roles();
  ASSERT_OK(all);
  EXPECT_EQ(*all,
            (std::vector<std::pair<std::string, std::string>>{{"a", "b"}, {"a", "c"}, {"b", "c"}}));
}

TEST_P(IdentityStoreContract, AddingAnExistingImplicationIsConflict) {
  ASSERT_OK(store_->add_implied_role("a", "b"));
  EXPECT_CODE(store_->add_implied_role("a", "b"), ErrorCode::kConflict);
  ASSERT_OK(store_->add_implied_role("b", "a"));  // the reverse is a different pair
}

TEST_P(IdentityStoreContract, RemovingAnAbsentImplicationIsNotFound) {
  ASSERT_OK(store_->add_implied_role("a", "b"));
  EXPECT_CODE(store_->remove_implied_role("b", "a"), ErrorCode::kNotFound);
  ASSERT_OK(store_->remove_implied_role("a", "b"));
  EXPECT_TRUE(store_->list_implied_roles()->empty());
}

// ---- revocations ----

TEST_P(IdentityStoreContract, AddRevocationAssignsIncreasingIdsAndKeepsEveryField) {
  RevocationEvent ev;
  ev.user_id = "u";
  ev.project_id = "p";
  ev.audit_id = "audit";
  ev.audit_chain_id = "chain";
  ev.domain_id = "d";
  ev.role_id = "r";
  ev.issued_before = 1700000000.25;
  ev.revoked_at = 1700000001.5;
  auto first = store_->add_revocation(ev);
  ASSERT_OK(first);
  auto second = store_->add_revocation(RevocationEvent{.user_id = "v", .issued_before = 5});
  ASSERT_OK(second);
  EXPECT_GT(first->id, 0);
  EXPECT_GT(second->id, first->id);

  auto all = store_->list_revocations(0);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  const RevocationEvent& got = (*all)[0];
  EXPECT_EQ(got.id, first->id);
  EXPECT_EQ(got.user_id, "u");
  EXPECT_EQ(got.project_id, "p");
  EXPECT_EQ(got.audit_id, "audit");
  EXPECT_EQ(got.audit_chain_id, "chain");
  EXPECT_EQ(got.domain_id, "d");
  EXPECT_EQ(got.role_id, "r");
  EXPECT_DOUBLE_EQ(got.issued_before, 1700000000.25);
  EXPECT_DOUBLE_EQ(got.revoked_at, 1700000001.5);
  EXPECT_EQ((*all)[1].user_id, "v");
}

TEST_P(IdentityStoreContract, ListRevocationsReturnsOnlyEventsAfterTheGivenId) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto ev =
        store_->add_revocation(RevocationEvent{.audit_id = std::to_string(i), .issued_before = 10});
    ASSERT_OK(ev);
    ids.push_back(ev->id);
  }
  auto tail = store_->list_revocations(ids[2]);
  ASSERT_OK(tail);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].audit_id, "3");
  EXPECT_EQ((*tail)[1].audit_id, "4");
  EXPECT_TRUE(store_->list_revocations(ids[4])->empty());
}

TEST_P(IdentityStoreContract, PruneDropsOnlyEventsIssuedBeforeTheCutoffAndIdsKeepGrowing) {
  auto old_ev = store_->add_revocation(RevocationEvent{.audit_id = "old", .issued_before = 100});
  auto edge = store_->add_revocation(RevocationEvent{.audit_id = "edge", .issued_before = 200});
  auto newest = store_->add_revocation(RevocationEvent{.audit_id = "new", .issued_before = 300});
  ASSERT_OK(newest);
  ASSERT_OK(store_->prune_revocations(200));
  auto left = store_->list_revocations(0);
  ASSERT_OK(left);
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].audit_id, "edge");
  EXPECT_EQ((*left)[1].audit_id, "new");
  // A poller that had seen up to `newest` must not miss the next event, even
  // though pruning removed rows.
  ASSERT_OK(store_->prune_revocations(1000));
  auto next = store_->add_revocation(RevocationEvent{.audit_id = "next", .issued_before = 400});
  ASSERT_OK(next);
  EXPECT_GT(next->id, newest->id);
  auto polled = store_->list_revocations(newest->id);
  ASSERT_OK(polled);
  ASSERT_EQ(polled->size(), 1u);
  EXPECT_EQ((*polled)[0].audit_id, "next");
}

// ---- shared cluster state ----

TEST_P(IdentityStoreContract, GenerationChangesAfterEveryKindOfWrite) {
  auto gen = [&]() -> int64_t {
    auto g = store_->generation();
    EXPECT_TRUE(g.ok()) << g.error().message;
    return g.ok() ? *g : -1;
  };
  int64_t last = gen();
  // A write must move the generation, on every engine (one process may
  // share a SQLite file with another); a read or a failed write must not.
  auto expect_moved = [&](const char* what) {
    int64_t now = gen();
    EXPECT_NE(now, last) << what << " did not change the generation";
    last = now;
  };
  auto expect_still = [&](const char* what) {
    EXPECT_EQ(gen(), last) << what << " changed the generation";
  };

  ASSERT_OK(store_->create(Kind::kUser, rec("u1", "d", "alice")));
  expect_moved("create");
  ASSERT_OK(store_->update(Kind::kUser, rec("u1", "d", "alicia")));
  expect_moved("update");
  ASSERT_OK(store_->create(Kind::kGroup, rec("g1", "d", "staff")));
  expect_moved("create group");
  ASSERT_OK(store_->add_member("g1", "u1"));
  expect_moved("add_member");
  ASSERT_OK(store_->remove_member("g1", "u1"));
  expect_moved("remove_member");
  const Assignment a = grant(ActorType::kUser, "u1", TargetType::kProject, "p1", "r1");
  ASSERT_OK(store_->add_assignment(a));
  expect_moved("add_assignment");
  ASSERT_OK(store_->remove_assignment(a));
  expect_moved("remove_assignment");
  ASSERT_OK(store_->add_implied_role("r1", "r2"));
  expect_moved("add_implied_role");
  ASSERT_OK(store_->remove_implied_role("r1", "r2"));
  expect_moved("remove_implied_role");
  ASSERT_OK(store_->add_revocation(RevocationEvent{.user_id = "u1", .issued_before = 10}));
  expect_moved("add_revocation");
  ASSERT_OK(store_->prune_revocations(100));
  expect_moved("prune_revocations that removed an event");
  ASSERT_OK(store_->remove(Kind::kUser, "u1"));
  expect_moved("remove");
  ASSERT_OK(store_->create_all(Kind::kRegisteredLimit, {rec("rl1", "", "cores", "s")}));
  expect_moved("create_all");

  ASSERT_OK(store_->get(Kind::kGroup, "g1"));
  ASSERT_OK(store_->list(Kind::kGroup, {}));
  ASSERT_OK(store_->list_revocations(0));
  expect_still("reading");
  EXPECT_FALSE(store_->create(Kind::kGroup, rec("g1", "d", "other")).ok());
  EXPECT_FALSE(store_->remove(Kind::kUser, "nobody").ok());
  EXPECT_FALSE(store_->create_all(Kind::kRegisteredLimit, {rec("rl2", "", "cores", "s")}).ok());
  expect_still("a failed write");
}

TEST_P(IdentityStoreContract, FernetKeysAreKeptAndARotationErrorChangesNothing) {
  if (!GetParam().shared) {
    EXPECT_CODE(store_->fernet_keys(), ErrorCode::kNotImplemented);
    EXPECT_CODE(store_->update_fernet_keys([](std::vector<StoredKey> k) { return Result(k); }),
                ErrorCode::kNotImplemented);
    return;
  }
  auto none = store_->fernet_keys();
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  const std::vector<StoredKey> keys = {{0, "staged"}, {1, "secondary"}, {2, "primary"}};
  std::vector<StoredKey> seen_by_rotation{{-1, "not called"}};
  ASSERT_OK(store_->update_fernet_keys(
      [&](std::vector<StoredKey> current) -> Result<std::vector<StoredKey>> {
        seen_by_rotation = current;
        return keys;
      }));
  EXPECT_TRUE(seen_by_rotation.empty());
  auto stored = store_->fernet_keys();
  ASSERT_OK(stored);
  std::vector<StoredKey> sorted = *stored;
  std::sort(sorted.begin(), sorted.end(),
            [](const StoredKey& x, const StoredKey& y) { return x.index < y.index; });
  EXPECT_EQ(sorted, keys);

  Status failed =
      store_->update_fernet_keys([](std::vector<StoredKey>) -> Result<std::vector<StoredKey>> {
        return make_error(ErrorCode::kPreconditionFailed, "no");
      });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kPreconditionFailed);
  stored = store_->fernet_keys();
  ASSERT_OK(stored);
  EXPECT_EQ(stored->size(), keys.size());
}

// Appends one key numbered after the highest, named `name`.
Result<std::vector<StoredKey>> append_key(std::vector<StoredKey> keys, const std::string& name) {
  int next = 0;
  for (const StoredKey& k : keys) next = std::max(next, k.index + 1);
  keys.push_back(StoredKey{next, name});
  return keys;
}

TEST_P(IdentityStoreContract, ConcurrentFernetKeyUpdatesBothApply) {
  if (!GetParam().shared) {
    EXPECT_CODE(store_->update_fernet_keys([](std::vector<StoredKey> k) { return Result(k); }),
                ErrorCode::kNotImplemented);
    return;
  }
  // The first updater holds its transaction open until the second has
  // started and then a while longer: without the lock the second would read
  // the same keys and one update would be lost.
  std::atomic<bool> first_inside{false};
  std::atomic<bool> second_started{false};
  Status first_status, second_status;
  std::thread first([&] {
    first_status = store_->update_fernet_keys([&](std::vector<StoredKey> keys) {
      first_inside = true;
      while (!second_started) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return append_key(std::move(keys), "first");
    });
  });
  while (!first_inside) std::this_thread::yield();
  std::thread second([&] {
    second_started = true;
    second_status = store_->update_fernet_keys(
        [&](std::vector<StoredKey> keys) { return append_key(std::move(keys), "second"); });
  });
  first.join();
  second.join();
  ASSERT_OK(first_status);
  ASSERT_OK(second_status);
  auto stored = store_->fernet_keys();
  ASSERT_OK(stored);
  std::vector<StoredKey> sorted = *stored;
  std::sort(sorted.begin(), sorted.end(),
            [](const StoredKey& x, const StoredKey& y) { return x.index < y.index; });
  EXPECT_EQ(sorted, (std::vector<StoredKey>{{0, "first"}, {1, "second"}}));

  // And many at once: every update lands.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        Status s = store_->update_fernet_keys(
            [&](std::vector<StoredKey> keys) { return append_key(std::move(keys), name); });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  stored = store_->fernet_keys();
  ASSERT_OK(stored);
  EXPECT_EQ(stored->size(), 22u);
}

Result<std::unique_ptr<IdentityStore>> open_pg(const std::string& conninfo) {
  return as_store(
      pg::PgDb::open(conninfo, {}, "identity", pg::identity_migrations(), "the identity store"));
}

TEST(IdentityStoreOnPostgres, NamesTheServerAndTheReasonWhenItCannotConnect) {
  auto refused = open_pg("postgresql://postgres@127.0.0.1:1/onestack?connect_timeout=2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("database 'onestack' on 127.0.0.1:1 as user 'postgres'"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("refused"), std::string::npos) << refused.error().message;
}

TEST(IdentityStoreOnPostgres, NamesAMissingDatabaseOrUser) {
  auto base = testing::pg_test_conninfo();
  if (!base) {
    if (testing::pg_test_required()) FAIL() << testing::kPgTestUnsetMessage;
    GTEST_SKIP() << testing::kPgTestUnsetMessage;
  }
  auto no_db = open_pg(testing::pg_conninfo_with(*base, "dbname='no_such_db_x'"));
  ASSERT_FALSE(no_db.ok());
  EXPECT_EQ(no_db.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(no_db.error().message.find("\"no_such_db_x\" does not exist"), std::string::npos)
      << no_db.error().message;
  auto no_user = open_pg(testing::pg_conninfo_with(*base, "user='no_such_user_x'"));
  ASSERT_FALSE(no_user.ok());
  EXPECT_EQ(no_user.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(no_user.error().message.find("no_such_user_x"), std::string::npos)
      << no_user.error().message;
}

TEST(IdentityStoreOnPostgres, TwoNodesShareOneDatabaseAndItsGeneration) {
  auto base = testing::pg_test_conninfo();
  if (!base) {
    if (testing::pg_test_required()) FAIL() << testing::kPgTestUnsetMessage;
    GTEST_SKIP() << testing::kPgTestUnsetMessage;
  }
  testing::TestSchema schema(*base);
  ASSERT_EQ(schema.error(), "");
  auto first = open_pg(schema.conninfo());
  ASSERT_OK(first);
  ASSERT_OK((*first)->create(Kind::kDomain, rec("d1", "", "one")));
  auto second = open_pg(schema.conninfo());  // migrations already applied
  ASSERT_OK(second);
  ASSERT_OK((*second)->get(Kind::kDomain, "d1"));
  auto before = (*first)->generation();
  ASSERT_OK(before);
  ASSERT_OK((*second)->create(Kind::kDomain, rec("d2", "", "two")));
  auto after = (*first)->generation();
  ASSERT_OK(after);
  EXPECT_NE(*after, *before);
  EXPECT_CODE((*first)->create(Kind::kDomain, rec("d3", "", "two")), ErrorCode::kConflict);
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(AllBackends, IdentityStoreContract, ::testing::ValuesIn(kBackends),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(AllBackends, IdentityStoreCascade, ::testing::ValuesIn(kBackends),
                         backend_name);

}  // namespace
}  // namespace onestack::store
