#include "identity/token/fernet.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "identity/token/base64url.h"

namespace onestack::identity::token {
namespace {

// From the Fernet spec's generate.json / verify.json.
constexpr char kSpecKey[] = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
constexpr char kSpecToken[] =
    "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4"
    "IwqDA==";
constexpr uint64_t kSpecTime = 499162800;  // 1985-10-26T01:20:00-07:00

FernetKey key_from(const std::string& text) {
  auto k = parse_fernet_key(text);
  EXPECT_TRUE(k.ok());
  return *k;
}

struct B64Case {
  std::string text;
  bool ok;
  std::string bytes;
};

TEST(UrlsafeBase64, DecodesPaddedAndUnpaddedAndRejectsJunk) {
  const std::vector<B64Case> cases = {
      {"", true, ""},
      {"YQ", true, "a"},
      {"YQ==", true, "a"},
      {"YWI", true, "ab"},
      {"YWI=", true, "ab"},
      {"YWJj", true, "abc"},
      {"-_8", true, "\xfb\xff"},
      {"Y", false, ""},      // 4n+1 characters cannot be base64
      {"YQ=", false, ""},    // padding that does not complete a quantum
      {"YQ===", false, ""},  // too much padding
      {"YWJj=", false, ""},  // padding after a full quantum
      {"Y Q", false, ""},    // space
      {"YQ+/", false, ""},   // standard alphabet, not url-safe
      {"Y=Q=", false, ""},   // padding in the middle
  };
  for (const auto& c : cases) {
    auto got = urlsafe_b64decode(c.text);
    EXPECT_EQ(got.has_value(), c.ok) << c.text;
    if (c.ok && got) {
      EXPECT_EQ(*got, c.bytes) << c.text;
    }
  }
}

TEST(UrlsafeBase64, EncodesWithAndWithoutPadding) {
  EXPECT_EQ(urlsafe_b64encode("a", true), "YQ==");
  EXPECT_EQ(urlsafe_b64encode("a", false), "YQ");
  EXPECT_EQ(urlsafe_b64encode("ab", true), "YWI=");
  EXPECT_EQ(urlsafe_b64encode("abc", false), "YWJj");
  EXPECT_EQ(urlsafe_b64encode("\xfb\xff", false), "-_8");
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes(n, '\0');
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 37 + 11);
    EXPECT_EQ(urlsafe_b64decode(urlsafe_b64encode(bytes, n % 2 == 0)), bytes);
  }
}

TEST(FernetKeyParsing, AcceptsRepositoryFileTextAndRejectsWrongLengths) {
  EXPECT_TRUE(parse_fernet_key(kSpecKey).ok());
  EXPECT_TRUE(parse_fernet_key(std::string(kSpecKey) + "\n").ok());
  EXPECT_FALSE(parse_fernet_key("").ok());
  EXPECT_FALSE(parse_fernet_key("YWJj").ok());
  EXPECT_FALSE(parse_fernet_key(std::string(kSpecKey).substr(0, 40)).ok());
  EXPECT_EQ(parse_fernet_key("not base64!").error().code, ErrorCode::kInvalidArgument);
}

TEST(FernetKeyParsing, GeneratedKeysAreFortyFourCharactersAndParse) {
  std::string k = generate_fernet_key();
  EXPECT_EQ(k.size(), 44u);
  EXPECT_EQ(k.back(), '=');
  EXPECT_TRUE(parse_fernet_key(k).ok());
  EXPECT_NE(generate_fernet_key(), k);
}

TEST(Fernet, EncryptsTheSpecVectorBitForBit) {
  std::array<unsigned char, 16> iv;
  for (unsigned i = 0; i < 16; ++i) iv[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(fernet_encrypt_with_iv(key_from(kSpecKey), "hello", kSpecTime, iv), kSpecToken);
}

TEST(Fernet, DecryptsTheSpecVectorWithOrWithoutPadding) {
  std::vector<FernetKey> keys = {key_from(kSpecKey)};
  for (std::string token : {std::string(kSpecToken), std::string(kSpecToken).substr(0, 118)}) {
    auto got = fernet_decrypt(keys, token);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got->plaintext, "hello");
    EXPECT_EQ(got->timestamp, kSpecTime);
  }
}

TEST(Fernet, RoundTripsEveryPlaintextLengthAcrossABlockBoundary) {
  FernetKey key = key_from(generate_fernet_key());
  for (size_t n = 0; n <= 33; ++n) {
    std::string plaintext(n, 'x');
    auto got = fernet_decrypt({key}, fernet_encrypt(key, plaintext, 1700000000));
    ASSERT_TRUE(got.ok()) << n;
    EXPECT_EQ(got->plaintext, plaintext);
    EXPECT_EQ(got->timestamp, 1700000000u);
  }
}

TEST(Fernet, TriesEveryKeyInTurn) {
  FernetKey a = key_from(generate_fernet_key());
  FernetKey b = key_from(generate_fernet_key());
  FernetKey c = key_from(generate_fernet_key());
  std::string token = fernet_encrypt(c, "payload", 1);
  auto got = fernet_decrypt({a, b, c}, token);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->plaintext, "payload");
}

TEST(Fernet, RejectsATokenUnderAnUnknownKey) {
  FernetKey a = key_from(generate_fernet_key());
  FernetKey b = key_from(generate_fernet_key());
  auto got = fernet_decrypt({a}, fernet_encrypt(b, "payload", 1));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kUnauthenticated);
  EXPECT_FALSE(fernet_decrypt({}, fernet_encrypt(b, "payload", 1)).ok());
}

TEST(Fernet, RejectsEveryTamperedByte) {
  FernetKey key = key_from(generate_fernet_key());
  std::string token = fernet_encrypt(key, "some plaintext of a few blocks, long enough", 42);
  std::string raw = *urlsafe_b64decode(token);
  for (size_t i = 0; i < raw.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80}) {
      std::string bad = raw;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      auto got = fernet_decrypt({key}, urlsafe_b64encode(bad, false));
      ASSERT_FALSE(got.ok()) << "byte " << i;
      EXPECT_EQ(got.error().code, ErrorCode::kUnauthenticated);
    }
  }
}

TEST(Fernet, RejectsMalformedTokensWithoutCrashing) {
  FernetKey key = key_from(generate_fernet_key());
  std::string good = fernet_encrypt(key, "hello", 1);
  std::string raw = *urlsafe_b64decode(good);
  const std::vector<std::string> bad = {
      "",
      "gA",
      "!!!!",
      good + "A",                                               // impossible length
      urlsafe_b64encode(raw.substr(0, raw.size() - 1), false),  // truncated MAC
      urlsafe_b64encode(raw.substr(0, 25 + 32), false),         // no ciphertext
      urlsafe_b64encode(raw + std::string(16, 'x'), false),     // extra block
      std::string(kMaxTokenChars + 4, 'A'),                     // over the bound
      urlsafe_b64encode("\x81" + raw.substr(1), false),         // other version
  };
  for (const auto& token : bad) {
    auto got = fernet_decrypt({key}, token);
    ASSERT_FALSE(got.ok()) << token;
    EXPECT_EQ(got.error().code, ErrorCode::kUnauthenticated);
  }
}

}  // namespace
}  // namespace onestack::identity::token
