// Who may do what: authorize() as keystoneauth decides it (operator,
// reader and reseller-admin roles, "project:user" container ACLs by id or
// name) with Swift's referrer ACLs (common/middleware/acl.py) and
// tempauth's account ACL levels.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "blob/memory/memory_blob_store.h"
#include "core/worker_pool.h"
#include "object/api/common.h"
#include "store/sqlite/object_store_sqlite.h"

namespace onestack::object::api {
namespace {

constexpr const char* kAccount = "AUTH_p1";

const char* name(Op op) {
  switch (op) {
    case Op::kAccountRead: return "account read";
    case Op::kAccountWrite: return "account write";
    case Op::kContainerAdmin: return "container admin";
    case Op::kContainerRead: return "container read";
    case Op::kObjectRead: return "object read";
    case Op::kObjectWrite: return "object write";
  }
  return "?";
}

constexpr Op kAllOps[] = {Op::kAccountRead,   Op::kAccountWrite, Op::kContainerAdmin,
                          Op::kContainerRead, Op::kObjectRead,   Op::kObjectWrite};

// What authorize() answered, as one word a table can hold.
enum class Verdict { kOwner, kAllowed, k401, k403 };

const char* name(Verdict v) {
  switch (v) {
    case Verdict::kOwner: return "owner";
    case Verdict::kAllowed: return "allowed";
    case Verdict::k401: return "401";
    case Verdict::k403: return "403";
  }
  return "?";
}

auth::AuthContext caller(std::string project_id, std::string user_id,
                         std::initializer_list<const char*> roles) {
  auth::AuthContext a;
  a.project_id = std::move(project_id);
  a.project_name = "name-of-" + a.project_id;
  a.project_domain_id = "default";
  a.user_id = std::move(user_id);
  a.user_name = "name-of-" + a.user_id;
  a.user_domain_id = "default";
  for (const char* r : roles) a.role_names.emplace_back(r);
  return a;
}

class Authorize : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::SqliteObjectStore::open(":memory:");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    svc_ = std::make_unique<ObjectService>(*store_, blobs_, pool_, ObjectConfig{});
    env_.svc = svc_.get();
  }

  Verdict decide(const std::optional<auth::AuthContext>& who, Op op,
                 const store::Metadata* account_meta = nullptr,
                 const store::Metadata* container_meta = nullptr, std::string referer = "",
                 Target t = {kAccount, "c", "o"}) {
    http::Request req;
    req.auth = who;
    if (!referer.empty()) req.headers.set("Referer", referer);
    auto r = authorize(env_, req, t, op, account_meta, container_meta);
    if (r.ok()) return r->owner ? Verdict::kOwner : Verdict::kAllowed;
    if (r.error().code == ErrorCode::kUnauthenticated) return Verdict::k401;
    EXPECT_EQ(r.error().code, ErrorCode::kForbidden);
    return Verdict::k403;
  }

  // Checks `who` against every operation.
  void expect_ops(const std::optional<auth::AuthContext>& who, const Verdict (&want)[6],
                  const store::Metadata* account_meta = nullptr,
                  const store::Metadata* container_meta = nullptr, const char* why = "") {
    for (size_t i = 0; i < 6; ++i) {
      EXPECT_STREQ(name(decide(who, kAllOps[i], account_meta, container_meta)), name(want[i]))
          << why << ": " << name(kAllOps[i]);
    }
  }

  std::unique_ptr<store::sqlite::SqliteObjectStore> store_;
  blob::memory::MemoryBlobStore blobs_;
  WorkerPool pool_{2};
  std::unique_ptr<ObjectService> svc_;
  Env env_{};
};

// Order of kAllOps: account read, account write, container admin,
// container read, object read, object write.
constexpr Verdict kO = Verdict::kOwner, kA = Verdict::kAllowed, k401 = Verdict::k401,
                  k403 = Verdict::k403;

TEST_F(Authorize, OperatorRolesOwnTheirProjectsAccount) {
  for (const char* role : {"member", "admin", "swiftoperator"}) {
    expect_ops(caller("p1", "u1", {role}), {kO, kO, kO, kO, kO, kO}, nullptr, nullptr, role);
  }
}

TEST_F(Authorize, OperatorRolesGiveNothingOnAnotherProjectsAccount) {
  expect_ops(caller("p2", "u2", {"member", "admin"}), {k403, k403, k403, k403, k403, k403});
}

TEST_F(Authorize, ReaderRoleMayOnlyRead) {
  expect_ops(caller("p1", "u1", {"reader"}), {kA, k403, k403, kA, kA, k403});
  expect_ops(caller("p2", "u2", {"reader"}), {k403, k403, k403, k403, k403, k403});
}

TEST_F(Authorize, ResellerAdminOwnsEveryAccount) {
  for (const char* account : {"AUTH_p1", "AUTH_someone-else", "other"}) {
    for (Op op : kAllOps) {
      http::Request req;
      req.auth = caller("p9", "admin", {"ResellerAdmin"});
      auto r = authorize(env_, req, {account, "c", "o"}, op, nullptr, nullptr);
      ASSERT_TRUE(r.ok()) << account << ": " << name(op);
      EXPECT_TRUE(r->owner);
      EXPECT_TRUE(r->reseller);
    }
  }
}

TEST_F(Authorize, ATokenWithoutRolesOrScopeIsForbidden) {
  expect_ops(caller("p1", "u1", {}), {k403, k403, k403, k403, k403, k403});
  auth::AuthContext unscoped = caller("", "u1", {"member"});
  expect_ops(unscoped, {k403, k403, k403, k403, k403, k403});
}

TEST_F(Authorize, AnonymousCallersAreUnauthenticated) {
  expect_ops(std::nullopt, {k401, k401, k401, k401, k401, k401});
}

// ---- container ACLs ----

struct ReferrerCase {
  const char* acl;
  const char* referer;  // "" for none
  bool object_read;
};

TEST_F(Authorize, ReferrerAclsFollowSwiftsRules) {
  const ReferrerCase cases[] = {
      {".r:*", "", true},
      {".r:*", "http://anything.example/", true},
      {".r:.example.com", "http://www.example.com/page", true},
      {".r:.example.com", "https://a.b.example.com:8443/x?y", true},
      {".r:.example.com", "http://WWW.Example.COM/", true},
      // A domain pattern does not match the bare domain (Swift: endswith).
      {".r:.example.com", "http://example.com/", false},
      {".r:.example.com", "http://badexample.com/", false},
      {".r:.example.com", "", false},
      {".r:www.example.com", "http://www.example.com/", true},
      {".r:www.example.com", "http://user:pw@www.example.com:80/", true},
      {".r:www.example.com", "http://ftp.example.com/", false},
      // No scheme, no host: urlparse finds no hostname.
      {".r:www.example.com", "www.example.com/page", false},
      // Negation: the last matching entry decides.
      {".r:*,.r:-bad.com", "http://bad.com/", false},
      {".r:*,.r:-bad.com", "http://good.com/", true},
      {".r:*,.r:-bad.com", "", true},
      {".r:*,.r:-.bad.com", "http://www.bad.com/", false},
      {".r:*,.r:-.bad.com", "http://bad.com/", true},
      {".r:.example.com,.r:-thief.example.com", "http://thief.example.com/", false},
      {".r:.example.com,.r:-thief.example.com", "http://honest.example.com/", true},
      {".r:-bad.com,.r:*", "http://bad.com/", true},
      {".r:-bad.com", "http://bad.com/", false},
      {".r:-bad.com", "http://good.com/", false},
      {"p9:u9", "http://anything/", false},
  };
  for (const auto& c : cases) {
    store::Metadata meta{{"x-container-read", c.acl}};
    Verdict want = c.object_read ? kA : k401;
    EXPECT_STREQ(name(decide(std::nullopt, Op::kObjectRead, nullptr, &meta, c.referer)), name(want))
        << c.acl << " with Referer " << c.referer;
  }
}

TEST_F(Authorize, ReferrerAclsAllowListingsOnlyWithRlistings) {
  store::Metadata read_only{{"x-container-read", ".r:*"}};
  store::Metadata listings{{"x-container-read", ".r:*, .rlistings"}};
  store::Metadata listings_for_other{{"x-container-read", ".r:good.com,.rlistings"}};
  EXPECT_EQ(decide(std::nullopt, Op::kContainerRead, nullptr, &read_only), k401);
  EXPECT_EQ(decide(std::nullopt, Op::kContainerRead, nullptr, &listings), kA);
  EXPECT_EQ(
      decide(std::nullopt, Op::kContainerRead, nullptr, &listings_for_other, "http://bad.com/"),
      k401);
  EXPECT_EQ(
      decide(std::nullopt, Op::kContainerRead, nullptr, &listings_for_other, "http://good.com/"),
      kA);
  // A known caller from another project gets 403, not 401, when refused.
  EXPECT_EQ(decide(caller("p2", "u2", {"member"}), Op::kContainerRead, nullptr, &read_only), k403);
  EXPECT_EQ(decide(caller("p2", "u2", {"member"}), Op::kObjectRead, nullptr, &read_only), kA);
}

TEST_F(Authorize, ReferrerAclsNeverGrantWrites) {
  store::Metadata meta{{"x-container-read", ".r:*,.rlistings"}, {"x-container-write", ".r:*"}};
  expect_ops(std::nullopt, {k401, k401, k401, kA, kA, k401}, nullptr, &meta);
}

TEST_F(Authorize, ContainerAclsApplyOnlyBelowTheContainer) {
  store::Metadata meta{{"x-container-read", ".r:*,.rlistings,p2:u2"},
                       {"x-container-write", "p2:u2"}};
  for (Op op : {Op::kAccountRead, Op::kAccountWrite}) {
    EXPECT_EQ(decide(std::nullopt, op, nullptr, &meta, "", {kAccount, "", ""}), k401) << name(op);
    EXPECT_EQ(decide(caller("p2", "u2", {"member"}), op, nullptr, &meta, "", {kAccount, "", ""}),
              k403)
        << name(op);
  }
}

struct UserAclCase {
  const char* entry;
  bool matches;  // does it name caller("p2", "u2") (names "name-of-p2", "name-of-u2")?
};

TEST_F(Authorize, UserAclsMatchProjectAndUserByIdNameOrStar) {
  const UserAclCase cases[] = {
      {"p2:u2", true},
      {"p2:*", true},
      {"*:u2", true},
      {"*:*", true},
      {"name-of-p2:name-of-u2", true},
      {"name-of-p2:u2", true},
      {"p2:name-of-u2", true},
      {"*:name-of-u2", true},
      {"name-of-p2:*", true},
      {"p2:u3", false},
      {"p3:u2", false},
      {"p3:*", false},
      {"*:u3", false},
      {"P2:U2", false},
      {"u2:p2", false},
      {"", false},
  };
  auth::AuthContext who = caller("p2", "u2", {"member"});
  for (const auto& c : cases) {
    store::Metadata read{{"x-container-read", std::string("other:one, ") + c.entry}};
    store::Metadata write{{"x-container-write", std::string(c.entry) + ",other:one"}};
    Verdict want = c.matches ? kA : k403;
    EXPECT_EQ(decide(who, Op::kObjectRead, nullptr, &read), want) << "read ACL " << c.entry;
    EXPECT_EQ(decide(who, Op::kContainerRead, nullptr, &read), want) << "read ACL " << c.entry;
    EXPECT_EQ(decide(who, Op::kObjectWrite, nullptr, &write), want) << "write ACL " << c.entry;
  }
}

TEST_F(Authorize, ReadAclsDoNotGrantWritesNorWriteAclsReads) {
  auth::AuthContext who = caller("p2", "u2", {"member"});
  store::Metadata read{{"x-container-read", "p2:u2"}};
  store::Metadata write{{"x-container-write", "p2:u2"}};
  expect_ops(who, {k403, k403, k403, kA, kA, k403}, nullptr, &read, "read ACL");
  expect_ops(who, {k403, k403, k403, k403, k403, kA}, nullptr, &write, "write ACL");
}

TEST_F(Authorize, AclNamesCountOnlyForCallersInTheDefaultDomain) {
  store::Metadata by_name{{"x-container-read", "name-of-p2:name-of-u2"}};
  store::Metadata by_id{{"x-container-read", "p2:u2"}};
  auth::AuthContext user_elsewhere = caller("p2", "u2", {"member"});
  user_elsewhere.user_domain_id = "d-other";
  auth::AuthContext project_elsewhere = caller("p2", "u2", {"member"});
  project_elsewhere.project_domain_id = "d-other";
  for (const auto& who : {user_elsewhere, project_elsewhere}) {
    EXPECT_EQ(decide(who, Op::kObjectRead, nullptr, &by_name), k403);
    EXPECT_EQ(decide(who, Op::kObjectRead, nullptr, &by_id), kA);
  }
}

// ---- account ACLs (X-Account-Access-Control) ----

store::Metadata account_acl(const std::string& json) {
  return {{"x-account-access-control", json}};
}

TEST_F(Authorize, AccountAclLevelsGrantWhatTempauthGrants) {
  auth::AuthContext who = caller("p2", "u2", {"member"});
  store::Metadata admin = account_acl(R"({"admin":["p2:u2"]})");
  store::Metadata read_write = account_acl(R"({"read-write":["p2:u2"]})");
  store::Metadata read_only = account_acl(R"({"read-only":["p2:u2"]})");
  expect_ops(who, {kO, kO, kO, kO, kO, kO}, &admin, nullptr, "admin");
  // read-write: everything on containers and objects, only reads of the account.
  expect_ops(who, {kA, k403, kA, kA, kA, kA}, &read_write, nullptr, "read-write");
  expect_ops(who, {kA, k403, k403, kA, kA, k403}, &read_only, nullptr, "read-only");
}

TEST_F(Authorize, AccountAclsTakeTheHighestLevelThatNamesTheCaller) {
  auth::AuthContext who = caller("p2", "u2", {"member"});
  store::Metadata meta =
      account_acl(R"({"read-only":["p2:*"],"read-write":["u2"],"admin":["p3:u3"]})");
  expect_ops(who, {kA, k403, kA, kA, kA, kA}, &meta);
}

TEST_F(Authorize, AccountAclsNameCallersByBareIdOrProjectUserPair) {
  for (const char* entry : {"u2", "p2", "p2:u2", "*:u2", "name-of-p2:name-of-u2"}) {
    store::Metadata meta = account_acl(std::string(R"({"read-only":[")") + entry + "\"]}");
    EXPECT_EQ(decide(caller("p2", "u2", {"member"}), Op::kObjectRead, &meta), kA) << entry;
  }
  for (const char* entry : {"u3", "p3:u2", "name-of-u2"}) {
    store::Metadata meta = account_acl(std::string(R"({"read-only":[")") + entry + "\"]}");
    EXPECT_EQ(decide(caller("p2", "u2", {"member"}), Op::kObjectRead, &meta), k403) << entry;
  }
}

TEST_F(Authorize, IgnoresAccountAclsItCannotRead) {
  auth::AuthContext who = caller("p2", "u2", {"member"});
  for (const char* json : {"", "not json", "[\"p2:u2\"]", R"({"admin":"p2:u2"})",
                           R"({"admin":[42, null, {"p2":"u2"}]})", R"({"owner":["p2:u2"]})"}) {
    store::Metadata meta = account_acl(json);
    expect_ops(who, {k403, k403, k403, k403, k403, k403}, &meta, nullptr, json);
  }
}

TEST_F(Authorize, AccountAclsDoNothingForAnonymousCallers) {
  store::Metadata meta = account_acl(R"({"admin":["*:*"],"read-only":["*"]})");
  expect_ops(std::nullopt, {k401, k401, k401, k401, k401, k401}, &meta);
}

}  // namespace
}  // namespace onestack::object::api
