#include "identity/token/payload.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace onestack::identity::token {
namespace {

constexpr char kUser[] = "0123456789abcdef0123456789abcdef";
constexpr char kProject[] = "fedcba9876543210fedcba9876543210";
constexpr char kAudit[] = "cXVpY2sgYnJvd24gZm94IQ";
constexpr char kParentAudit[] = "AAECAwQFBgcICQoLDA0ODw";

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TokenPayload base(Scope scope) {
  TokenPayload p;
  p.user_id = kUser;
  p.methods = {"password"};
  p.scope = scope;
  p.expires_at = 1935817689.123456;
  p.audit_ids = {kAudit};
  return p;
}

std::vector<TokenPayload> every_kind() {
  std::vector<TokenPayload> out;
  out.push_back(base(Scope::kUnscoped));
  auto d = base(Scope::kDomain);
  d.domain_id = "11112222333344445555666677778888";
  out.push_back(d);
  d.domain_id = "default";
  out.push_back(d);
  auto p = base(Scope::kProject);
  p.project_id = kProject;
  out.push_back(p);
  p.user_id = "ldap-jdoe";
  p.project_id = "admin-project";
  p.methods = {"token", "password"};
  p.audit_ids = {kAudit, kParentAudit};
  out.push_back(p);
  auto s = base(Scope::kSystem);
  s.system = "all";
  out.push_back(s);
  auto a = base(Scope::kApplicationCredential);
  a.project_id = kProject;
  a.app_cred_id = "abcdefabcdefabcdefabcdefabcdef12";
  a.methods = {"application_credential"};
  out.push_back(a);
  a.app_cred_id = "not-a-uuid";
  out.push_back(a);
  return out;
}

TEST(TokenPayloadCodec, RoundTripsEveryKind) {
  for (const TokenPayload& p : every_kind()) {
    auto bytes = encode_payload(p);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    auto back = decode_payload(*bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, p) << "scope " << static_cast<int>(p.scope) << " user " << p.user_id;
  }
}

TEST(TokenPayloadCodec, EncodesAProjectPayloadAsKeystoneDoes) {
  // Keystone 22 (msgpack 1.0, use_bin_type): fixarray(6), version 2,
  // [true, bin16 user], methods 2, [true, bin16 project], float64, [bin16].
  auto p = base(Scope::kProject);
  p.project_id = kProject;
  auto bytes = encode_payload(p);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes,
            unhex("960292c3c4100123456789abcdef0123456789abcdef0292c3c410fedcba9876543210fe"
                  "dcba9876543210cb41dcd88ef647e6b491c410717569636b2062726f776e20666f7821"));
}

TEST(TokenPayloadCodec, WritesNonUuidIdsAsMsgpackStrings) {
  auto p = base(Scope::kProject);
  p.user_id = "ldap-jdoe";
  p.project_id = kProject;
  auto bytes = encode_payload(p);
  ASSERT_TRUE(bytes.ok());
  // [false, str "ldap-jdoe"]
  EXPECT_NE(bytes->find(unhex("92c2a96c6461702d6a646f65")), std::string::npos);
}

struct MethodsCase {
  std::vector<std::string> methods;
  uint64_t mask;
  std::vector<std::string> decoded;  // keystone's order: highest bit first
};

TEST(AuthMethodBitmask, MatchesKeystonesDefaultMethodList) {
  const std::vector<MethodsCase> cases = {
      {{}, 0, {}},
      {{"external"}, 1, {"external"}},
      {{"password"}, 2, {"password"}},
      {{"password", "token"}, 6, {"token", "password"}},
      {{"application_credential"}, 32, {"application_credential"}},
      {{"mapped", "oauth1"}, 24, {"mapped", "oauth1"}},
      {{"ec2credential"}, uint64_t{1} << 32, {"ec2credential"}},
      {{"oauth2_credential", "password"},
       (uint64_t{1} << 33) | 2,
       {"oauth2_credential", "password"}},
  };
  for (const auto& c : cases) {
    auto mask = methods_to_bitmask(c.methods, default_auth_methods());
    ASSERT_TRUE(mask.ok());
    EXPECT_EQ(*mask, c.mask);
    EXPECT_EQ(bitmask_to_methods(c.mask, default_auth_methods()), c.decoded);
  }
  EXPECT_EQ(bitmask_to_methods(64 | 2, default_auth_methods()),
            (std::vector<std::string>{"password"}));
  EXPECT_EQ(
      methods_to_bitmask(std::vector<std::string>{"totp"}, default_auth_methods()).error().code,
      ErrorCode::kInvalidArgument);
}

TEST(AuthMethodBitmask, FollowsAConfiguredMethodList) {
  std::vector<std::string> methods = {"password", "token", "totp"};
  auto mask = methods_to_bitmask(std::vector<std::string>{"totp"}, methods);
  ASSERT_TRUE(mask.ok());
  EXPECT_EQ(*mask, 4u);
}

struct EncodeErrorCase {
  const char* name;
  void (*mutate)(TokenPayload&);
};

TEST(TokenPayloadCodec, RefusesToEncodeWhatTheFormatCannotCarry) {
  const std::vector<EncodeErrorCase> cases = {
      {"empty user", [](TokenPayload& p) { p.user_id.clear(); }},
      {"unknown method", [](TokenPayload& p) { p.methods = {"kerberos5"}; }},
      {"no audit id", [](TokenPayload& p) { p.audit_ids.clear(); }},
      {"three audit ids",
       [](TokenPayload& p) {
         p.audit_ids = {kAudit, kAudit, kAudit};
       }},
      {"audit id with padding",
       [](TokenPayload& p) { p.audit_ids = {"cXVpY2sgYnJvd24gZm94IQ=="}; }},
      {"audit id not canonical", [](TokenPayload& p) { p.audit_ids = {"cXVpY2sgYnJvd24gZm94IR"}; }},
      {"audit id bad alphabet", [](TokenPayload& p) { p.audit_ids = {"cXVpY2sgYnJvd24gZm94+Q"}; }},
      {"project without id", [](TokenPayload& p) { p.scope = Scope::kProject; }},
      {"domain without id", [](TokenPayload& p) { p.scope = Scope::kDomain; }},
      {"system without target", [](TokenPayload& p) { p.scope = Scope::kSystem; }},
      {"app cred without id",
       [](TokenPayload& p) {
         p.scope = Scope::kApplicationCredential;
         p.project_id = kProject;
       }},
      {"negative expiry", [](TokenPayload& p) { p.expires_at = -1; }},
      {"user id not UTF-8", [](TokenPayload& p) { p.user_id = "\xff\xfe"; }},
  };
  for (const auto& c : cases) {
    TokenPayload p = base(Scope::kUnscoped);
    c.mutate(p);
    auto got = encode_payload(p);
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument) << c.name;
  }
}

struct DecodeCase {
  const char* name;
  std::string hex;
};

TEST(TokenPayloadCodec, RejectsMalformedPayloads) {
  const std::string user = "92c3c4100123456789abcdef0123456789abcdef";
  const std::string tail = "cb41dcd88ef647e6b491c410717569636b2062726f776e20666f7821";
  const std::vector<DecodeCase> cases = {
      {"empty", ""},
      {"not an array", "02"},
      {"empty array", "90"},
      {"unknown version", "950f" + user + "02" + tail},
      {"trust version unsupported", "9603" + user + "02" + tail},
      {"negative version", "95ff" + user + "02" + tail},
      {"too few fields", "9400" + user + "02cb41dcd88ef647e6b4"},
      {"too many fields", "9600" + user + "02" + tail + "c0"},
      {"truncated", ("9500" + user + "02" + tail).substr(0, 60)},
      {"trailing bytes", "9500" + user + "02" + tail + "00"},
      {"user not a pair", "9500c4100123456789abcdef0123456789abcdef02" + tail},
      {"uuid flag not bool",
       "950092"
       "01"
       "c4100123456789abcdef0123456789abcdef02" +
           tail},
      {"uuid of 15 bytes", "950092c3c40f0123456789abcdef0123456789abcdef02" + tail},
      {"empty user string",
       "950092c2a0"
       "02" +
           tail},
      {"user not UTF-8",
       "950092c2a2fffe"
       "02" +
           tail},
      {"methods not int", "9500" + user +
                              "a1"
                              "61" +
                              tail},
      {"expiry a string", "9500" + user +
                              "02a131"
                              "91c410717569636b2062726f776e20666f7821"},
      {"expiry NaN", "9500" + user +
                         "02cb7ff8000000000000"
                         "91c410717569636b2062726f776e20666f7821"},
      {"audit ids not array", "9500" + user +
                                  "02cb41dcd88ef647e6b4"
                                  "c410717569636b2062726f776e20666f7821"},
      {"audit id not bytes", "9500" + user +
                                 "02cb41dcd88ef647e6b4"
                                 "9101"},
      {"nine audit ids", "9500" + user +
                             "02cb41dcd88ef647e6b4"
                             "99c0c0c0c0c0c0c0c0c0"},
      {"huge declared string", "950092c2dbffffffff41"},
      {"huge declared array", "dd7fffffff00"},
      {"domain of empty text", "9601" + user + "02a0" + tail},
      {"system not text", "9608" + user + "0201" + tail},
  };
  for (const auto& c : cases) {
    auto got = decode_payload(unhex(c.hex));
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_EQ(got.error().code, ErrorCode::kUnauthenticated) << c.name;
  }
}

TEST(TokenPayloadCodec, AcceptsAnIntegerExpiryAndStringOrBinIds) {
  // [0, [false, bin "abc"], 2, 1700000000 (uint32), []]
  auto got =
      decode_payload(unhex("950092c2c403616263"
                           "02"
                           "ce6553f100"
                           "90"));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->user_id, "abc");
  EXPECT_EQ(got->expires_at, 1700000000.0);
  EXPECT_TRUE(got->audit_ids.empty());
}

TEST(TokenPayloadCodec, SurvivesEveryTruncationAndByteFlipOfAValidPayload) {
  for (const TokenPayload& p : every_kind()) {
    std::string bytes = *encode_payload(p);
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(decode_payload(bytes.substr(0, n)).ok());
    }
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
        (void)decode_payload(bad);  // may or may not parse; must not crash
      }
    }
  }
}

TEST(KeystoneIsotime, ShowsSecondsWithZeroMicrosecondsLikeKeystone) {
  EXPECT_EQ(keystone_isotime(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(keystone_isotime(1935817689.123456), "2031-05-06T07:08:09.000000Z");
  EXPECT_EQ(keystone_isotime(981173106.9999999), "2001-02-03T04:05:07.000000Z");
  EXPECT_EQ(keystone_isotime(981173106.999999), "2001-02-03T04:05:06.000000Z");
}

}  // namespace
}  // namespace onestack::identity::token
