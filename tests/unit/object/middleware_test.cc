// TempURL / FormPost signatures, the streaming multipart reader, bulk-delete
// bodies and CORS origin lists. Expected HMACs were computed with Python's
// hmac module, as Swift computes them.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstring>

#include "object/api/middleware.h"

namespace onestack::object::api {
namespace {

// ---- signatures ----

struct HmacCase {
  Digest digest;
  const char* key;
  const char* message;
  const char* hex;
};

TEST(TempUrlSignature, HmacHexMatchesPython) {
  const HmacCase cases[] = {
      {Digest::kSha1, "Meta", "GET\n1700000000\n/v1/AUTH_test/c/o",
       "4803372b9a9e8b6c77f488253adcf63eb45c93ba"},
      {Digest::kSha256, "Meta", "GET\n1700000000\n/v1/AUTH_test/c/o",
       "36484079b16c5552ade0249b7711abfb28c087f50b19ff1980f80cc3d505c4ee"},
      {Digest::kSha512, "Meta", "GET\n1700000000\n/v1/AUTH_test/c/o",
       "3d698b4acd618d12cf5fcd3363338865de9fe7e95376be39e788d21b5abb31351020d45b331bcb0db9489befe45"
       "921c51682b9b27db9d5b9040f1ce6c837a155"},
      {Digest::kSha1, "Meta", "ip=127.0.0.1\nGET\n1700000000\n/v1/AUTH_test/c/o",
       "ab1f34dd6ea06e75529c42e461c1d16db8deb680"},
      {Digest::kSha1, "secret", "/v1/AUTH_test/c/pre\n\n104857600\n10\n1700000000",
       "70bcc258aee8eb0655c20724b606069d2be397c3"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(hmac_hex(c.digest, c.key, c.message), c.hex) << c.message;
  }
}

TEST(TempUrlSignature, MessageHasSwiftsShape) {
  EXPECT_EQ(tempurl_message("GET", 1700000000, "/v1/AUTH_test/c/o", ""),
            "GET\n1700000000\n/v1/AUTH_test/c/o");
  EXPECT_EQ(tempurl_message("GET", 1700000000, "/v1/AUTH_test/c/o", "127.0.0.1"),
            "ip=127.0.0.1\nGET\n1700000000\n/v1/AUTH_test/c/o");
}

struct SigCase {
  const char* sig;
  bool valid;  // matches HMAC(key "Meta", the GET message)
  bool parses;
};

TEST(TempUrlSignature, VerifiesEveryFormSwiftAccepts) {
  const std::string msg = "GET\n1700000000\n/v1/AUTH_test/c/o";
  const SigCase cases[] = {
      {"4803372b9a9e8b6c77f488253adcf63eb45c93ba", true, true},
      {"4803372B9A9E8B6C77F488253ADCF63EB45C93BA", true, true},
      {"36484079b16c5552ade0249b7711abfb28c087f50b19ff1980f80cc3d505c4ee", true, true},
      {"3d698b4acd618d12cf5fcd3363338865de9fe7e95376be39e788d21b5abb31351020d45b331bcb0db9489befe45"
       "921c51682b9b27db9d5b9040f1ce6c837a155",
       true, true},
      {"sha512:PWmLSs1hjRLPX80zYzOIZd6f5-lTdr4554jSG1q7MTUQINRbMxvLDblIm-_"
       "kWSHFFoK5sn251bkEDxzmyDehVQ",
       true, true},
      {"sha256:NkhAebFsVVKt4CSbdxGr+yjAh/ULGf8ZgPgMw9UFxO4=", true, true},
      {"sha256:NkhAebFsVVKt4CSbdxGr+yjAh/ULGf8ZgPgMw9UFxO4", true, true},
      // Wrong by one digit, wrong lengths, unknown digests, bad alphabet.
      {"4803372b9a9e8b6c77f488253adcf63eb45c93bb", false, true},
      {"4803372b9a9e8b6c77f488253adcf63eb45c93", false, false},
      {"", false, false},
      {"md5:NkhAebFsVVKt4CSbdxGr+yjAh/ULGf8ZgPgMw9UFxO4=", false, false},
      {"sha256:NkhAebFsVVKt4CSbdxGr+yjAh/ULGf8ZgPgMw9UF", false, false},
      {"sha1:!!!!", false, false},
      {"zz03372b9a9e8b6c77f488253adcf63eb45c93ba", false, false},
  };
  for (const auto& c : cases) {
    auto sig = parse_signature(c.sig);
    EXPECT_EQ(sig.has_value(), c.parses) << c.sig;
    EXPECT_EQ(sig && signature_matches(*sig, "Meta", msg), c.valid) << c.sig;
  }
}

TEST(TempUrlSignature, WrongKeyOrMessageDoesNotVerify) {
  auto sig = parse_signature("4803372b9a9e8b6c77f488253adcf63eb45c93ba");
  ASSERT_TRUE(sig);
  EXPECT_FALSE(signature_matches(*sig, "Other", "GET\n1700000000\n/v1/AUTH_test/c/o"));
  EXPECT_FALSE(signature_matches(*sig, "Meta", "PUT\n1700000000\n/v1/AUTH_test/c/o"));
  EXPECT_FALSE(signature_matches(*sig, "Meta", "GET\n1700000000\n/v1/AUTH_test/c/o2"));
}

TEST(TempUrlExpires, ParsesUnixSecondsAndIso8601) {
  struct {
    const char* in;
    std::optional<int64_t> out;
  } cases[] = {
      {"1700000000", 1700000000},
      {"2024-01-01T00:00:00Z", 1704067200},
      {"2024-01-01T00:00:00", std::nullopt},
      {"2024-01-01", std::nullopt},
      {"soon", std::nullopt},
      {"", std::nullopt},
      {"17e8", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_expires(c.in), c.out) << c.in;
}

TEST(TempUrlIpRange, MatchesAddressesLikePythonsIpNetwork) {
  struct {
    const char* ip;
    const char* range;
    bool in;
  } cases[] = {
      {"127.0.0.1", "127.0.0.1", true},
      {"127.0.0.2", "127.0.0.1", false},
      {"10.1.2.3", "10.0.0.0/8", true},
      {"11.1.2.3", "10.0.0.0/8", false},
      {"10.1.2.3", "10.0.0.1/8", false},  // host bits set: ip_network refuses
      {"::1", "::1/128", true},
      {"2001:db8::5", "2001:db8::/32", true},
      {"127.0.0.1", "::1", false},
      {"127.0.0.1", "not-an-ip", false},
      {"127.0.0.1", "127.0.0.0/33", false},
  };
  for (const auto& c : cases) EXPECT_EQ(ip_in_range(c.ip, c.range), c.in) << c.ip << " " << c.range;
}

TEST(TempUrlDisposition, QuotesAsSwift) {
  EXPECT_EQ(disposition_value("attachment", "report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
  EXPECT_EQ(disposition_value("inline", "a b/\xc3\xbc\"x.txt"),
            "inline; filename=\"a b/%C3%BC%22x.txt\"; filename*=UTF-8''a%20b/%C3%BC%22x.txt");
}

// ---- multipart ----

// Serves a string a few bytes at a time, so delimiters straddle reads.
class PieceReader final : public http::BodyReader {
 public:
  PieceReader(std::string data, size_t piece) : data_(std::move(data)), piece_(piece) {}
  boost::asio::awaitable<Result<size_t>> read(char* buf, size_t len) override {
    size_t n = std::min({len, piece_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }
  std::optional<uint64_t> content_length() const override { return data_.size(); }
  bool done() const override { return pos_ == data_.size(); }

 private:
  std::string data_;
  size_t piece_;
  size_t pos_ = 0;
};

struct Part {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string data;
};

boost::asio::awaitable<Result<std::vector<Part>>> read_all(http::BodyReader& body,
                                                           std::string boundary) {
  MultipartReader mr(body, std::move(boundary));
  std::vector<Part> parts;
  for (;;) {
    MultipartReader::PartHeaders h;
    auto more = co_await mr.next_part(&h);
    if (!more.ok()) co_return more.error();
    if (!*more) break;
    Part p{h.name, h.filename, h.content_type, ""};
    char buf[5];
    for (;;) {
      auto n = co_await mr.read(buf, sizeof buf);
      if (!n.ok()) co_return n.error();
      if (*n == 0) break;
      p.data.append(buf, *n);
    }
    parts.push_back(std::move(p));
  }
  co_return parts;
}

boost::asio::awaitable<void> read_into(http::BodyReader& body, std::string boundary,
                                       std::optional<Result<std::vector<Part>>>* out) {
  *out = co_await read_all(body, std::move(boundary));
}

Result<std::vector<Part>> parse(const std::string& body, const std::string& boundary,
                                size_t piece) {
  boost::asio::io_context io;
  PieceReader reader(body, piece);
  std::optional<Result<std::vector<Part>>> out;
  boost::asio::co_spawn(io, read_into(reader, boundary, &out), boost::asio::detached);
  io.run();
  return std::move(*out);
}

// Tempest's form (test_object_formpost.py), CRLF-joined.
std::string tempest_form() {
  return "----boundary--\r\nContent-Disposition: form-data; name=\"redirect\"\r\n\r\n\r\n"
         "----boundary--\r\nContent-Disposition: form-data; "
         "name=\"max_file_size\"\r\n\r\n104857600\r\n"
         "----boundary--\r\nContent-Disposition: form-data; name=\"file1\"; "
         "filename=\"testfile\"\r\n"
         "Content-Type: application/octet-stream\r\n\r\nhello world\r\n"
         "----boundary----\r\n";
}

TEST(MultipartReader, ReadsTempestsFormWhateverTheReadSize) {
  for (size_t piece : {1, 2, 3, 7, 16, 1000}) {
    auto parts = parse(tempest_form(), "--boundary--", piece);
    ASSERT_TRUE(parts.ok()) << piece << ": " << parts.error().message;
    ASSERT_EQ(parts->size(), 3u) << piece;
    EXPECT_EQ((*parts)[0].name, "redirect");
    EXPECT_EQ((*parts)[0].data, "");
    EXPECT_EQ((*parts)[1].name, "max_file_size");
    EXPECT_EQ((*parts)[1].data, "104857600");
    EXPECT_EQ((*parts)[2].name, "file1");
    EXPECT_EQ((*parts)[2].filename, "testfile");
    EXPECT_EQ((*parts)[2].content_type, "application/octet-stream");
    EXPECT_EQ((*parts)[2].data, "hello world");
  }
}

TEST(MultipartReader, KeepsDataThatLooksLikeAPartialDelimiter) {
  std::string body =
      "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n"
      "line\r\n--XyNot a boundary\r\n--XyZZ still data\r\n--XyZ--";
  auto parts = parse(body, "XyZ", 3);
  // "\r\n--XyZZ" starts with the delimiter: it ends the part there, and
  // what follows on that line is not a boundary line.
  ASSERT_FALSE(parts.ok());
  auto ok =
      parse("--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nline\r\n--XyNot\r\n--XyZ--",
            "XyZ", 2);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].data, "line\r\n--XyNot");
}

TEST(MultipartReader, RefusesBadStartsAndTruncatedBodies) {
  struct {
    const char* body;
    const char* message;
  } cases[] = {
      {"garbage\r\n--b\r\n\r\nx\r\n--b--", "invalid starting boundary"},
      {"--c\r\n\r\nx\r\n--c--", "invalid starting boundary"},
      {"", "invalid starting boundary"},
      {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nnever ends",
       "premature end of body"},
      {"--b\r\nContent-Disposition: form-data; name=\"a\"", "malformed part headers"},
  };
  for (const auto& c : cases) {
    auto parts = parse(c.body, "b", 4);
    ASSERT_FALSE(parts.ok()) << c.body;
    EXPECT_EQ(parts.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(parts.error().message, c.message) << c.body;
  }
}

TEST(MultipartReader, AllowsBlankLinesBeforeTheFirstBoundary) {
  auto parts = parse(
      "\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n", "b", 3);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "1");
}

TEST(MultipartReader, ParsesHeaderParameters) {
  std::vector<std::pair<std::string, std::string>> params;
  EXPECT_EQ(
      parse_header_params("Form-Data; name=\"a b\"; filename=\"x\\\"y.txt\"; size=3", &params),
      "form-data");
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0], (std::pair<std::string, std::string>{"name", "a b"}));
  EXPECT_EQ(params[1], (std::pair<std::string, std::string>{"filename", "x\"y.txt"}));
  EXPECT_EQ(params[2], (std::pair<std::string, std::string>{"size", "3"}));
  params.clear();
  EXPECT_EQ(parse_header_params("multipart/form-data; boundary=----abc", &params),
            "multipart/form-data");
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].second, "----abc");
}

// ---- bulk delete ----

TEST(BulkDeleteBody, SplitsAndDecodesLinesKeepingBlankOnes) {
  DeleteList list(10, 100);
  ASSERT_TRUE(list.feed("/c/o%201\n\n  c2/dir/o2  \r\nc3%zz").ok());
  ASSERT_TRUE(list.feed("").ok());
  EXPECT_EQ(std::move(list).names(),
            (std::vector<std::string>{"/c/o 1", "", "c2/dir/o2", "c3%zz"}));
}

TEST(BulkDeleteBody, ABlankLastLineIsNoName) {
  DeleteList list(10, 100);
  ASSERT_TRUE(list.feed("a\n  ").ok());
  ASSERT_TRUE(list.feed("").ok());
  EXPECT_EQ(std::move(list).names(), (std::vector<std::string>{"a"}));
}

TEST(BulkDeleteBody, BlankLinesCountTowardTheLimit) {
  DeleteList list(2, 100);
  auto st = list.feed("a\n\n\n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(st.error().message, "Maximum Bulk Deletes: 2 per request");
}

TEST(BulkDeleteBody, ALineLongerThanTwoPathsIsRefused) {
  DeleteList list(10, 20);
  ASSERT_TRUE(list.feed(std::string(20, 'x')).ok());
  ASSERT_TRUE(list.feed(std::string(20, 'x')).ok());
  auto st = list.feed("x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().message, "Invalid File Name");
}

TEST(BulkDeleteBody, SplitsContainerAndObject) {
  struct {
    const char* line;
    bool ok;
    const char* container;
    const char* object;
  } cases[] = {
      {"/c/o", true, "c", "o"}, {"c/dir/o", true, "c", "dir/o"},
      {"/c", true, "c", ""},    {"c/", true, "c", ""},
      {"/", false, "", ""},     {"//o", true, "o", ""},
  };
  for (const auto& c : cases) {
    std::string container, object;
    EXPECT_EQ(split_delete_path(c.line, &container, &object), c.ok) << c.line;
    EXPECT_EQ(container, c.container) << c.line;
    EXPECT_EQ(object, c.object) << c.line;
  }
}

// ---- CORS ----

TEST(CorsOrigin, MatchesSpaceSeparatedListsAndStar) {
  struct {
    const char* allowed;
    const char* origin;
    bool ok;
  } cases[] = {
      {"http://a.example http://b.example", "http://b.example", true},
      {"http://a.example  http://b.example ", "http://a.example", true},
      {"http://a.example", "http://a.example:8080", false},
      {"http://a.example", "https://a.example", false},
      {"*", "http://anything", true},
      {" * ", "http://anything", true},
      {"", "http://a.example", false},
      {"http://a.example", "", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(cors_origin_allowed(c.allowed, c.origin), c.ok) << c.allowed;
}

}  // namespace
}  // namespace onestack::object::api
