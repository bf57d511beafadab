// Tokens minted by Keystone itself (testdata/mint_with_keystone.py, which
// regenerates testdata/) must decode here to the fields Keystone decodes, and
// the same fields must encode to the very plaintext bytes Keystone sealed.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "identity/token/fernet.h"
#include "identity/token/key_repository.h"
#include "identity/token/payload.h"
#include "identity/token/token_formatter.h"

namespace onestack::identity::token {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

fs::path testdata() {
  const char* src = std::getenv("ONESTACK_SOURCE_DIR");
  return fs::path(src ? src : ".") / "tests/unit/identity/token/testdata";
}

json::value load_fixture() {
  std::ifstream in(testdata() / "keystone_tokens.json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return json::parse(text);
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& e : v.as_array()) out.push_back(str(e));
  return out;
}

Scope scope_named(const std::string& s) {
  if (s == "domain") return Scope::kDomain;
  if (s == "project") return Scope::kProject;
  if (s == "system") return Scope::kSystem;
  if (s == "application_credential") return Scope::kApplicationCredential;
  return Scope::kUnscoped;
}

TokenPayload expected_payload(const json::object& e) {
  TokenPayload p;
  p.user_id = str(e.at("user_id"));
  p.methods = strings(e.at("methods"));
  p.scope = scope_named(str(e.at("scope")));
  p.project_id = str(e.at("project_id"));
  p.domain_id = str(e.at("domain_id"));
  p.system = str(e.at("system"));
  p.app_cred_id = str(e.at("app_cred_id"));
  p.expires_at = e.at("expires_at").to_number<double>();
  p.audit_ids = strings(e.at("audit_ids"));
  p.issued_at = e.at("issued_at").to_number<uint64_t>();
  return p;
}

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(KeystoneFixtures, LoadTheKeyRepositoryKeystoneWrote) {
  auto set = KeyRepository::load(testdata() / "keystone_keys");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->indexes, (std::vector<int>{2, 1, 0}));
}

TEST(KeystoneFixtures, EveryKeystoneTokenDecodesToTheFieldsKeystoneDecodes) {
  json::value fixture = load_fixture();
  std::vector<std::string> methods = strings(fixture.at("auth_methods"));
  auto formatter = TokenFormatter::open(testdata() / "keystone_keys", methods);
  ASSERT_TRUE(formatter.ok()) << formatter.error().message;
  const auto& tokens = fixture.at("tokens").as_array();
  ASSERT_GE(tokens.size(), 10u);
  for (const auto& t : tokens) {
    const auto& o = t.as_object();
    std::string name = str(o.at("name"));
    auto got = (*formatter)->validate(str(o.at("token")));
    ASSERT_TRUE(got.ok()) << name << ": " << got.error().message;
    const auto& e = o.at("expected").as_object();
    EXPECT_EQ(*got, expected_payload(e)) << name;
    EXPECT_EQ(keystone_isotime(got->expires_at), str(e.at("keystone_expires_at"))) << name;
    EXPECT_EQ(keystone_isotime(static_cast<double>(got->issued_at)),
              str(e.at("keystone_issued_at")))
        << name;
  }
}

TEST(KeystoneFixtures, TheSameFieldsEncodeToKeystonesPlaintextBytes) {
  json::value fixture = load_fixture();
  std::vector<std::string> methods = strings(fixture.at("auth_methods"));
  auto keys = KeyRepository::load(testdata() / "keystone_keys");
  ASSERT_TRUE(keys.ok());
  for (const auto& t : fixture.at("tokens").as_array()) {
    const auto& o = t.as_object();
    std::string name = str(o.at("name"));
    std::string plaintext = unhex(str(o.at("plaintext_hex")));
    auto opened = fernet_decrypt(keys->keys, str(o.at("token")));
    ASSERT_TRUE(opened.ok()) << name;
    EXPECT_EQ(opened->plaintext, plaintext) << name;
    auto encoded = encode_payload(expected_payload(o.at("expected").as_object()), methods);
    ASSERT_TRUE(encoded.ok()) << name << ": " << encoded.error().message;
    EXPECT_EQ(*encoded, plaintext) << name;
  }
}

TEST(KeystoneFixtures, TokensOfARemovedKeyNoLongerValidate) {
  json::value fixture = load_fixture();
  auto keys = KeyRepository::load(testdata() / "keystone_keys");
  ASSERT_TRUE(keys.ok());
  TokenFormatter formatter(testdata() / "keystone_keys", strings(fixture.at("auth_methods")));
  auto only_primary = std::make_shared<KeySet>();
  only_primary->keys = {keys->keys.front()};
  only_primary->indexes = {keys->indexes.front()};
  formatter.set_keys(only_primary);
  for (const auto& t : fixture.at("tokens").as_array()) {
    const auto& o = t.as_object();
    bool by_primary = o.at("signed_with_key").to_number<int>() == keys->indexes.front();
    EXPECT_EQ(formatter.validate(str(o.at("token"))).ok(), by_primary) << str(o.at("name"));
  }
}

}  // namespace
}  // namespace onestack::identity::token
