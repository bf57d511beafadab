// The routes register_crud makes of a declaration, over real HTTP in
// Neutron's dialect: who sees what, validation, revisions, paging links,
// tags, quotas and a domain hook, each answered in NeutronError's shape.
#include "resource/routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "core/json.h"
#include "store/sql/quota.h"
#include "store/sqlite/sqlite_db.h"
#include "support/raw_client.h"
#include "support/test_server.h"

namespace onestack::resource {
namespace {

namespace json = boost::json;
using test_support::RawClient;
using test_support::RawResponse;
using test_support::TestServer;

constexpr uint32_t kRw = kCreate | kUpdate | kVisible;
constexpr Attr kNetworkAttrs[] = {
    {"name", Type::kString, kRw | kFilter | kSort, 255, "\"\""},
    {"project_id", Type::kString, kCreate | kVisible | kFilter | kSort, 255},
    {"shared", Type::kBool, kRw | kFilter, 0, "false"},
    {"mtu", Type::kInt, kRw | kFilter | kSort, 0, "1500"},
    {"status", Type::kString, kVisible | kFilter, 16, "\"ACTIVE\""},
};
constexpr Def kNetworks{"network", "networks", "networks", kNetworkAttrs, true};

constexpr std::string_view kSchema = R"sql(
CREATE TABLE networks (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  revision_number BIGINT NOT NULL, doc TEXT NOT NULL, name TEXT NOT NULL,
  project_id TEXT NOT NULL, shared BOOLEAN NOT NULL, mtu BIGINT NOT NULL, status TEXT NOT NULL);
CREATE TABLE resource_tags (kind TEXT NOT NULL, resource_id TEXT NOT NULL, tag TEXT NOT NULL,
  PRIMARY KEY (kind, resource_id, tag));
)sql";

// Neutron's Zed defaults for networks, reduced to what the test needs.
constexpr policy::DefaultRule kRules[] = {
    {"context_is_admin", "role:admin"},
    {"admin_or_owner", "rule:context_is_admin or project_id:%(project_id)s"},
    {"create_network", "rule:admin_or_owner"},
    {"get_network", "rule:admin_or_owner"},
    {"update_network", "rule:admin_or_owner"},
    {"delete_network", "rule:admin_or_owner"},
};

// Tokens are the names of fixed callers.
class Callers : public auth::TokenValidator {
 public:
  Result<auth::AuthContext> validate(std::string_view token, bool) const override {
    auth::AuthContext ctx;
    ctx.user_id = std::string(token);
    if (token == "admin") {
      ctx.project_id = "p-admin";
      ctx.role_names = {"admin", "member"};
    } else if (token == "alice") {
      ctx.project_id = "p-alice";
      ctx.role_names = {"member"};
    } else if (token == "bob") {
      ctx.project_id = "p-bob";
      ctx.role_names = {"member"};
    } else {
      return make_error(ErrorCode::kUnauthenticated, "unknown token");
    }
    return ctx;
  }
};

class ResourceRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::sqlite::SqliteDb::open(
        ":memory:", {},
        std::vector<store::sqlite::Migration>{{1, "networks", kSchema},
                                              {2, "quota", store::sql::kQuotaUsageSchema}});
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    auto policy = policy::PolicyEngine::load(kRules, "", false);
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    policy_ = std::make_unique<policy::PolicyEngine>(std::move(policy).value());
    env_ = std::make_unique<Env>(Env{*db_, pool_, *policy_, clock_, "http://net"});
    api_.def = &kNetworks;
    api_.path = "/v2.0/networks";
    api_.quota = Quota{"network", "networks", [this](std::string_view) { return limit_; }};
    api_.hooks.before_delete = [](Tx&, const json::object& item) -> Status {
      if (item.at("name") == "in-use") return make_error(ErrorCode::kConflict, "Network in use.");
      return ok_status();
    };
    http::Router router;
    register_crud(router, *env_, api_, neutron_style());
    test_support::TestServerOptions options;
    options.validator = &callers_;
    server_ = std::make_unique<TestServer>(std::move(router), options);
  }

  RawResponse call(const std::string& method, const std::string& target, const std::string& token,
                   const std::string& body = "", const std::string& extra = "") {
    RawClient client(server_->port());
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: t\r\n";
    if (!token.empty()) req += "X-Auth-Token: " + token + "\r\n";
    req += extra;
    if (!body.empty() || method == "POST" || method == "PUT") {
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    }
    req += "\r\n" + body;
    EXPECT_TRUE(client.send(req));
    auto r = client.read_response();
    EXPECT_TRUE(r.has_value());
    return r.value_or(RawResponse{});
  }

  static json::object body_of(const RawResponse& r) {
    auto v = parse_json_object(r.body);
    EXPECT_TRUE(v.ok()) << r.body;
    return v.ok() ? *v : json::object{};
  }

  static std::string neutron_type(const RawResponse& r) {
    auto b = body_of(r);
    if (!b.contains("NeutronError")) return "";
    return std::string(b.at("NeutronError").at("type").as_string());
  }

  std::string create(const std::string& token, const std::string& name) {
    auto r = call("POST", "/v2.0/networks", token, R"({"network": {"name": ")" + name + R"("}})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(body_of(r).at("network").at("id").as_string());
  }

  FakeClock clock_;
  WorkerPool pool_{2};
  Callers callers_;
  int64_t limit_ = -1;
  std::unique_ptr<store::sql::Db> db_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<Env> env_;
  Api api_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ResourceRoutes, ACreateFillsDefaultsAndTheCallersProjectAndReadsBack) {
  auto r = call("POST", "/v2.0/networks", "alice", R"({"network": {"name": "n1"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto net = body_of(r).at("network").as_object();
  EXPECT_EQ(net.at("project_id"), "p-alice");
  EXPECT_EQ(net.at("mtu"), 1500);
  EXPECT_EQ(net.at("shared"), false);
  EXPECT_EQ(net.at("status"), "ACTIVE");
  EXPECT_EQ(net.at("revision_number"), 1);
  EXPECT_EQ(net.at("tags"), json::array());
  auto shown = call("GET", "/v2.0/networks/" + std::string(net.at("id").as_string()), "alice");
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(body_of(shown).at("network"), net);
  auto fields = call(
      "GET", "/v2.0/networks/" + std::string(net.at("id").as_string()) + "?fields=name&fields=mtu",
      "alice");
  EXPECT_EQ(body_of(fields).at("network").as_object().size(), 2u);
}

TEST_F(ResourceRoutes, AProjectSeesItsOwnAndAnAdminSeesEvery) {
  const std::string a = create("alice", "a");
  const std::string b = create("bob", "b");
  auto mine = body_of(call("GET", "/v2.0/networks", "alice")).at("networks").as_array();
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].at("id"), json::value(a));
  EXPECT_EQ(body_of(call("GET", "/v2.0/networks", "admin")).at("networks").as_array().size(), 2u);
  // Another project's network does not exist for alice, whatever she does.
  for (const auto& [method, body] : std::vector<std::pair<std::string, std::string>>{
           {"GET", ""}, {"PUT", R"({"network": {"name": "x"}})"}, {"DELETE", ""}}) {
    auto r = call(method, "/v2.0/networks/" + b, "alice", body);
    EXPECT_EQ(r.status, 404) << method;
    EXPECT_EQ(neutron_type(r), "HTTPNotFound");
  }
  EXPECT_EQ(call("GET", "/v2.0/networks/" + b, "bob").status, 200);
  // And she cannot create one in bob's project.
  auto forged = call("POST", "/v2.0/networks", "alice",
                     R"({"network": {"name": "x", "project_id": "p-bob"}})");
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(neutron_type(forged), "PolicyNotAuthorized");
  EXPECT_EQ(call("GET", "/v2.0/networks", "").status, 401);
}

TEST_F(ResourceRoutes, BadBodiesAreRefusedInNeutronsWordsAndStoreNothing) {
  for (const std::string& body : std::vector<std::string>{
           "", "{", R"({"net": {}})", R"({"network": {"colour": "red"}})",
           R"({"network": {"mtu": "big"}})", R"({"network": {"status": "DOWN"}})",
           R"({"network": {"name": ")" + std::string(256, 'x') + R"("}})"}) {
    auto r = call("POST", "/v2.0/networks", "alice", body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(neutron_type(r), "HTTPBadRequest") << body;
  }
  EXPECT_TRUE(body_of(call("GET", "/v2.0/networks", "admin")).at("networks").as_array().empty());
  EXPECT_EQ(call("GET", "/v2.0/networks?colour=red", "alice").status, 400);
  EXPECT_EQ(call("GET", "/v2.0/networks?sort_key=status", "alice").status, 400);
}

TEST_F(ResourceRoutes, AnUpdateMovesTheRevisionAndAStaleIfMatchIsRefused) {
  const std::string id = create("alice", "n");
  auto r = call("PUT", "/v2.0/networks/" + id, "alice", R"({"network": {"mtu": 9000}})",
                "If-Match: revision_number=1\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("network").at("mtu"), 9000);
  EXPECT_EQ(body_of(r).at("network").at("revision_number"), 2);
  auto stale = call("PUT", "/v2.0/networks/" + id, "alice", R"({"network": {"mtu": 1400}})",
                    "If-Match: revision_number=1\r\n");
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(neutron_type(stale), "RevisionNumberConstraintFailed");
  auto read_only =
      call("PUT", "/v2.0/networks/" + id, "alice", R"({"network": {"project_id": "p-bob"}})");
  EXPECT_EQ(read_only.status, 400);
  EXPECT_EQ(body_of(call("GET", "/v2.0/networks/" + id, "alice")).at("network").at("mtu"), 9000);
}

TEST_F(ResourceRoutes, PagesLinkToTheNextUntilTheLast) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create("alice", "n" + std::to_string(i)));
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> seen;
  std::string target = "/v2.0/networks?limit=2";
  for (int guard = 0; guard < 10; ++guard) {
    auto body = body_of(call("GET", target, "alice"));
    for (const auto& n : body.at("networks").as_array()) seen.emplace_back(n.at("id").as_string());
    if (!body.contains("networks_links")) break;
    std::string href(body.at("networks_links").as_array()[0].at("href").as_string());
    ASSERT_EQ(href.rfind("http://net/v2.0/networks?", 0), 0u) << href;
    target = href.substr(std::string("http://net").size());
  }
  EXPECT_EQ(seen, ids);
}

TEST_F(ResourceRoutes, TagsAreAddedReplacedListedFilteredAndRemoved) {
  const std::string id = create("alice", "t");
  const std::string other = create("alice", "u");
  EXPECT_EQ(call("PUT", "/v2.0/networks/" + id + "/tags/red", "alice").status, 201);
  EXPECT_EQ(call("GET", "/v2.0/networks/" + id + "/tags/red", "alice").status, 204);
  EXPECT_EQ(call("GET", "/v2.0/networks/" + id + "/tags/blue", "alice").status, 404);
  auto replaced = call("PUT", "/v2.0/networks/" + id + "/tags", "alice",
                       R"({"tags": ["blue", "red", "blue"]})");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(body_of(replaced).at("tags"), (json::array{"blue", "red"}));
  auto tagged = body_of(call("GET", "/v2.0/networks?tags=blue", "alice")).at("networks").as_array();
  ASSERT_EQ(tagged.size(), 1u);
  EXPECT_EQ(tagged[0].at("id"), json::value(id));
  auto untagged =
      body_of(call("GET", "/v2.0/networks?not-tags-any=red", "alice")).at("networks").as_array();
  ASSERT_EQ(untagged.size(), 1u);
  EXPECT_EQ(untagged[0].at("id"), json::value(other));
  EXPECT_EQ(call("PUT", "/v2.0/networks/" + id + "/tags/bad,tag", "alice").status, 400);
  EXPECT_EQ(call("PUT", "/v2.0/networks/" + id + "/tags/red", "bob").status, 404);
  EXPECT_EQ(call("DELETE", "/v2.0/networks/" + id + "/tags/red", "alice").status, 204);
  EXPECT_EQ(call("DELETE", "/v2.0/networks/" + id + "/tags/red", "alice").status, 404);
  EXPECT_EQ(call("DELETE", "/v2.0/networks/" + id + "/tags", "alice").status, 204);
  auto after = body_of(call("GET", "/v2.0/networks/" + id, "alice")).at("network");
  EXPECT_EQ(after.at("tags"), json::array());
  // Four changes (add, replace, remove one, clear); the refused remove is none.
  EXPECT_EQ(after.at("revision_number"), 5);
}

TEST_F(ResourceRoutes, AQuotaRefusesTheCreateBeyondItAndADeleteGivesItBack) {
  limit_ = 2;
  const std::string first = create("alice", "q1");
  create("alice", "q2");
  auto over = call("POST", "/v2.0/networks", "alice", R"({"network": {"name": "q3"}})");
  EXPECT_EQ(over.status, 409) << over.body;
  EXPECT_EQ(neutron_type(over), "OverQuota");
  create("bob", "b1");  // another project's count
  EXPECT_EQ(body_of(call("GET", "/v2.0/networks", "alice")).at("networks").as_array().size(), 2u);
  EXPECT_EQ(call("DELETE", "/v2.0/networks/" + first, "alice").status, 204);
  create("alice", "q3");
}

TEST_F(ResourceRoutes, ADomainHookRefusesADeleteAndTheItemStays) {
  const std::string id = create("alice", "in-use");
  auto r = call("DELETE", "/v2.0/networks/" + id, "alice");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(call("GET", "/v2.0/networks/" + id, "alice").status, 200);
}

}  // namespace
}  // namespace onestack::resource
