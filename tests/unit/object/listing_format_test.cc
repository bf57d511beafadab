// Account and container listings: the query parameters as Swift's
// container server and request_helpers read them, the format negotiation,
// and the three renderings (plain, JSON, XML) — JSON parsed back, XML
// compared byte for byte.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "object/api/listing.h"
#include "object/api/py_format.h"

namespace onestack::object::api {
namespace {

http::Request with_query(std::initializer_list<std::pair<std::string, std::string>> params,
                         std::string accept = "") {
  http::Request req;
  for (const auto& [k, v] : params) req.query.add(k, v, true);
  if (!accept.empty()) req.headers.set("Accept", accept);
  return req;
}

// ---- listing_query ----

TEST(ListingQuery, DefaultsToTheMaximumLimitAndNoBounds) {
  auto q = listing_query(with_query({}), 10000);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, 10000u);
  EXPECT_EQ(q->marker, "");
  EXPECT_EQ(q->end_marker, "");
  EXPECT_EQ(q->prefix, "");
  EXPECT_EQ(q->delimiter, "");
  EXPECT_FALSE(q->path.has_value());
  EXPECT_FALSE(q->reverse);
}

TEST(ListingQuery, CopiesMarkersPrefixDelimiterAndPath) {
  auto q = listing_query(with_query({{"marker", "b"},
                                     {"end_marker", "y"},
                                     {"prefix", "photos/"},
                                     {"delimiter", "/"},
                                     {"path", "photos"}}),
                         10000);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->marker, "b");
  EXPECT_EQ(q->end_marker, "y");
  EXPECT_EQ(q->prefix, "photos/");
  EXPECT_EQ(q->delimiter, "/");
  ASSERT_TRUE(q->path.has_value());
  EXPECT_EQ(*q->path, "photos");
  // An empty path is still a path (the top level).
  auto top = listing_query(with_query({{"path", ""}}), 10000);
  ASSERT_TRUE(top.ok());
  ASSERT_TRUE(top->path.has_value());
  EXPECT_EQ(*top->path, "");
}

struct LimitCase {
  const char* limit;
  bool ok;
  size_t want;
};

// Swift's constrain_req_limit: a limit of digits up to the maximum is used,
// one above it is 412, and anything that is not all digits is ignored (the
// maximum applies).
TEST(ListingQuery, AcceptsLimitsUpToTheMaximumAndAnswers412Otherwise) {
  const LimitCase cases[] = {
      {"0", true, 0},       {"1", true, 1},        {"10000", true, 10000},
      {"010", true, 10},    {"10001", false, 0},   {"99999999999999999999", false, 0},
      {"abc", true, 10000}, {"-1", true, 10000},   {"1.5", true, 10000},
      {"10 ", true, 10000}, {" 10", true, 10000},  {"", true, 10000},
      {"+5", true, 10000},  {"0x10", true, 10000},
  };
  for (const auto& c : cases) {
    auto q = listing_query(with_query({{"limit", c.limit}}), 10000);
    ASSERT_EQ(q.ok(), c.ok) << "limit=" << c.limit;
    if (c.ok) {
      EXPECT_EQ(q->limit, c.want) << "limit=" << c.limit;
    } else {
      EXPECT_EQ(q.error().code, ErrorCode::kPreconditionFailed) << "limit=" << c.limit;
    }
  }
  auto over = listing_query(with_query({{"limit", "10001"}}), 10000);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "Maximum limit is 10000");
  EXPECT_TRUE(listing_query(with_query({{"limit", "5"}}), 5).ok());
  EXPECT_FALSE(listing_query(with_query({{"limit", "6"}}), 5).ok());
}

struct DelimiterCase {
  const char* what;
  std::string delimiter;
  bool ok;
};

TEST(ListingQuery, AcceptsADelimiterOfAnyLength) {
  // Swift 2.30's container and account servers group by any delimiter.
  const DelimiterCase cases[] = {
      {"slash", "/", true},         {"empty", "", true},
      {"two ascii", "ab", true},    {"two slashes", "//", true},
      {"U+00FF", "\xc3\xbf", true}, {"U+1F600", "\xf0\x9f\x98\x80", true},
  };
  for (const auto& c : cases) {
    auto q = listing_query(with_query({{"delimiter", c.delimiter}}), 10000);
    ASSERT_TRUE(q.ok()) << c.what;
    EXPECT_EQ(q->delimiter, c.delimiter) << c.what;
  }
}

TEST(ListingQuery, RejectsBadUtf8InTheParametersSwiftReadsAsText) {
  for (const char* key :
       {"marker", "end_marker", "prefix", "delimiter", "path", "format", "reverse", "limit"}) {
    for (const std::string& bad :
         {std::string("\xff"), std::string("\xc0\xaf"), std::string("ok\xed\xa0\x80")}) {
      auto q = listing_query(with_query({{key, bad}}), 10000);
      ASSERT_FALSE(q.ok()) << key;
      EXPECT_EQ(q.error().code, ErrorCode::kInvalidArgument) << key;
      EXPECT_EQ(q.error().message, "\"" + std::string(key) + "\" parameter not valid UTF-8");
      EXPECT_EQ(q.error().media_type, "text/plain");
    }
  }
  // NUL is valid UTF-8; parameters Swift does not read are not checked.
  EXPECT_TRUE(listing_query(with_query({{"prefix", std::string("a\0b", 3)}}), 10000).ok());
  EXPECT_TRUE(listing_query(with_query({{"other", "\xff"}}), 10000).ok());
  EXPECT_TRUE(listing_query(with_query({{"prefix", "caf\xc3\xa9"}}), 10000).ok());
}

TEST(ListingQuery, ReadsReverseAsSwiftsConfigTrueValue) {
  for (const char* yes :
       {"true", "True", "TRUE", "1", "yes", "Yes", "on", "ON", "t", "T", "y", "Y"}) {
    auto q = listing_query(with_query({{"reverse", yes}}), 10000);
    ASSERT_TRUE(q.ok());
    EXPECT_TRUE(q->reverse) << yes;
  }
  for (const char* no : {"false", "0", "no", "off", "f", "n", "", "2", "truthy", " true"}) {
    auto q = listing_query(with_query({{"reverse", no}}), 10000);
    ASSERT_TRUE(q.ok());
    EXPECT_FALSE(q->reverse) << no;
  }
}

// ---- listing_format ----

struct FormatCase {
  std::string format;  // "-" for no format parameter
  std::string accept;
  ListFormat want;
};

TEST(ListingFormat, ChoosesFromTheFormatParameterThenAcceptThenPlain) {
  const FormatCase cases[] = {
      {"-", "", ListFormat::kPlain},
      {"json", "", ListFormat::kJson},
      {"xml", "", ListFormat::kXml},
      {"plain", "", ListFormat::kPlain},
      {"JSON", "", ListFormat::kJson},
      {"Xml", "", ListFormat::kXml},
      {"yaml", "", ListFormat::kPlain},
      {"", "", ListFormat::kPlain},
      // format= stands for the Accept header.
      {"plain", "application/json", ListFormat::kPlain},
      {"json", "application/xml", ListFormat::kJson},
      {"-", "application/json", ListFormat::kJson},
      {"-", "application/json; charset=utf-8", ListFormat::kJson},
      {"-", "application/xml", ListFormat::kXml},
      {"-", "text/xml", ListFormat::kTextXml},
      {"-", "text/plain", ListFormat::kPlain},
      {"-", "*/*", ListFormat::kPlain},
      {"-", "application/*", ListFormat::kJson},
      {"-", "text/*", ListFormat::kPlain},
      // Quality first, then exact types before globs; q=0 still counts.
      {"-", "text/xml;q=0.5, application/json", ListFormat::kJson},
      {"-", "*/*;q=0.9, application/xml;q=0.9", ListFormat::kXml},
      {"-", "application/json;q=0", ListFormat::kJson},
      {"-", "image/png, text/xml;q=0.1", ListFormat::kTextXml},
  };
  for (const auto& c : cases) {
    http::Request req =
        c.format == "-" ? with_query({}, c.accept) : with_query({{"format", c.format}}, c.accept);
    auto f = listing_format(req);
    ASSERT_TRUE(f.ok()) << "format=" << c.format << " Accept: " << c.accept;
    EXPECT_EQ(static_cast<int>(*f), static_cast<int>(c.want))
        << "format=" << c.format << " Accept: " << c.accept;
  }
}

TEST(ListingFormat, RefusesMalformedAndUnsatisfiableAcceptHeaders) {
  for (const char* bad : {"garbage", "text/", "/json", "text/plain;", "text/plain; q=x",
                          "text/plain;q=1;q=1", "application/json,"}) {
    auto f = listing_format(with_query({}, bad));
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(f.error().message, "Invalid Accept header") << bad;
  }
  for (const char* none : {"image/png", "text/html, application/octet-stream"}) {
    auto f = listing_format(with_query({}, none));
    ASSERT_FALSE(f.ok()) << none;
    EXPECT_EQ(f.error().code, ErrorCode::kNotAcceptable) << none;
  }
}

TEST(ListingFormat, AcceptsJsonAsSwobsBestMatchOverJsonAlone) {
  EXPECT_TRUE(accepts_json(with_query({})));
  EXPECT_TRUE(accepts_json(with_query({{"format", "JSON"}})));
  EXPECT_TRUE(accepts_json(with_query({}, "*/*")));
  EXPECT_TRUE(accepts_json(with_query({}, "application/*;q=0.5, text/plain")));
  EXPECT_FALSE(accepts_json(with_query({{"format", "xml"}})));
  EXPECT_FALSE(accepts_json(with_query({{"format", "plain"}})));
  EXPECT_FALSE(accepts_json(with_query({}, "text/plain")));
  EXPECT_FALSE(accepts_json(with_query({}, "garbage")));
  // ?format= stands for the Accept header.
  EXPECT_FALSE(accepts_json(with_query({{"format", "xml"}}, "application/json")));
}

TEST(ListingFormat, NamesSwiftsContentTypes) {
  EXPECT_STREQ(listing_content_type(ListFormat::kPlain), "text/plain; charset=utf-8");
  EXPECT_STREQ(listing_content_type(ListFormat::kJson), "application/json; charset=utf-8");
  EXPECT_STREQ(listing_content_type(ListFormat::kXml), "application/xml; charset=utf-8");
  EXPECT_STREQ(listing_content_type(ListFormat::kTextXml), "text/xml; charset=utf-8");
}

// ---- rendering ----

// 2023-11-14T22:13:20.123450 (Swift keeps 10 µs, so the last digit is 0).
constexpr int64_t kPutUs = 1700000000123456;
constexpr const char* kIso = "2023-11-14T22:13:20.123450";
const std::string kNasty = "a&b<c>d\"e'f";

std::vector<store::ContainerListEntry> containers() {
  std::vector<store::ContainerListEntry> out(3);
  out[0].container.name = "alpha";
  out[0].container.object_count = 3;
  out[0].container.bytes_used = 1234;
  out[0].container.put_us = kPutUs;
  out[1].subdir = "beta-";
  out[2].container.name = kNasty;
  out[2].container.put_us = 0;
  return out;
}

std::vector<store::ObjectListRow> objects() {
  std::vector<store::ObjectListRow> out(4);
  auto& a = out[0];
  a.name = "photos/cat.jpg";
  a.size = 42;
  a.etag = "0123456789abcdef0123456789abcdef";
  a.content_type = "image/jpeg";
  a.timestamp_us = kPutUs;
  out[1].subdir = "photos/2024/";
  auto& n = out[2];
  n.name = kNasty;
  n.etag = "d41d8cd98f00b204e9800998ecf8427e";
  n.content_type = "text/x-<odd>&\"type\"";
  auto& link = out[3];
  link.name = "link";
  link.etag = "d41d8cd98f00b204e9800998ecf8427e";
  link.content_type = "application/symlink";
  link.symlink_target = "c2/target";
  return out;
}

// A listing of account AUTH_p's container `container` through the writer.
std::string render_objects(ListFormat f, const std::string& container,
                           const std::vector<store::ObjectListRow>& items) {
  ObjectListingWriter w(f, "AUTH_p", container);
  for (const auto& row : items) w.add(row);
  EXPECT_EQ(w.count(), items.size());
  return w.finish();
}

TEST(RenderContainers, PlainListsOneNameOrSubdirPerLine) {
  EXPECT_EQ(render_containers(ListFormat::kPlain, "AUTH_p", containers()),
            "alpha\nbeta-\n" + kNasty + "\n");
  EXPECT_EQ(render_containers(ListFormat::kPlain, "AUTH_p", {}), "");
}

TEST(RenderContainers, JsonIsWhatPythonsJsonDumpsWrites) {
  EXPECT_EQ(render_containers(ListFormat::kJson, "AUTH_p", containers()),
            "[{\"name\": \"alpha\", \"count\": 3, \"bytes\": 1234, \"last_modified\": "
            "\"2023-11-14T22:13:20.123450\"}, {\"subdir\": \"beta-\"}, {\"name\": "
            "\"a&b<c>d\\\"e'f\", \"count\": 0, \"bytes\": 0, \"last_modified\": "
            "\"1970-01-01T00:00:00.000000\"}]");
}

TEST(RenderContainers, JsonParsesBackToSwiftsFields) {
  boost::json::value v =
      boost::json::parse(render_containers(ListFormat::kJson, "AUTH_p", containers()));
  ASSERT_TRUE(v.is_array());
  const auto& arr = v.as_array();
  ASSERT_EQ(arr.size(), 3u);
  EXPECT_EQ(arr[0],
            (boost::json::object{
                {"name", "alpha"}, {"count", 3}, {"bytes", 1234}, {"last_modified", kIso}}));
  EXPECT_EQ(arr[1], (boost::json::object{{"subdir", "beta-"}}));
  EXPECT_EQ(arr[2].at("name").as_string(), kNasty);
  EXPECT_EQ(arr[2].at("last_modified").as_string(), "1970-01-01T00:00:00.000000");
  EXPECT_EQ(render_containers(ListFormat::kJson, "AUTH_p", {}), "[]");
}

TEST(RenderContainers, XmlEscapesNamesAndTheAccount) {
  EXPECT_EQ(render_containers(ListFormat::kXml, "AUTH_<p>", containers()),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<account name=\"AUTH_&lt;p&gt;\">\n"
            "<container><name>alpha</name><count>3</count><bytes>1234</bytes>"
            "<last_modified>2023-11-14T22:13:20.123450</last_modified></container>\n"
            "<subdir name=\"beta-\" />\n"
            "<container><name>a&amp;b&lt;c&gt;d\"e'f</name><count>0</count>"
            "<bytes>0</bytes><last_modified>1970-01-01T00:00:00.000000</last_modified>"
            "</container>\n</account>");
  EXPECT_EQ(render_containers(ListFormat::kXml, "AUTH_p", {}),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"AUTH_p\">\n</account>");
}

TEST(RenderObjects, PlainListsOneNameOrSubdirPerLine) {
  EXPECT_EQ(render_objects(ListFormat::kPlain, "c", objects()),
            "photos/cat.jpg\nphotos/2024/\n" + kNasty + "\nlink\n");
}

TEST(RenderObjects, JsonParsesBackToSwiftsFieldsWithSymlinkPaths) {
  boost::json::value v = boost::json::parse(render_objects(ListFormat::kJson, "c", objects()));
  ASSERT_TRUE(v.is_array());
  const auto& arr = v.as_array();
  ASSERT_EQ(arr.size(), 4u);
  EXPECT_EQ(render_objects(ListFormat::kJson, "c", {objects()[0], objects()[1]}),
            "[{\"bytes\": 42, \"hash\": \"0123456789abcdef0123456789abcdef\", \"name\": "
            "\"photos/cat.jpg\", \"content_type\": \"image/jpeg\", \"last_modified\": "
            "\"2023-11-14T22:13:20.123450\"}, {\"subdir\": \"photos/2024/\"}]");
  EXPECT_EQ(arr[0], (boost::json::object{{"hash", "0123456789abcdef0123456789abcdef"},
                                         {"last_modified", kIso},
                                         {"bytes", 42},
                                         {"name", "photos/cat.jpg"},
                                         {"content_type", "image/jpeg"}}));
  EXPECT_EQ(arr[1], (boost::json::object{{"subdir", "photos/2024/"}}));
  EXPECT_EQ(arr[2].at("name").as_string(), kNasty);
  EXPECT_EQ(arr[2].at("content_type").as_string(), "text/x-<odd>&\"type\"");
  EXPECT_FALSE(arr[2].as_object().contains("symlink_path"));
  EXPECT_EQ(arr[3].at("symlink_path").as_string(), "/v1/AUTH_p/c2/target");
}

TEST(RenderObjects, JsonSymlinkPathNamesTheTargetAccountWhenGiven) {
  auto items = objects();
  items[3].symlink_account = "AUTH_other";
  boost::json::value v = boost::json::parse(render_objects(ListFormat::kJson, "c", items));
  EXPECT_EQ(v.as_array()[3].at("symlink_path").as_string(), "/v1/AUTH_other/c2/target");
}

TEST(RenderObjects, JsonSymlinkPathIsQuotedAsTheLinkKeepsItsTarget) {
  auto items = objects();
  items[3].symlink_target = "c2/caf\xc3\xa9 au lait";
  boost::json::value v = boost::json::parse(render_objects(ListFormat::kJson, "c", items));
  EXPECT_EQ(v.as_array()[3].at("symlink_path").as_string(), "/v1/AUTH_p/c2/caf%C3%A9%20au%20lait");
}

TEST(RenderObjects, JsonStaticLinkNamesItsTargetEtagAndBytesBeforeThePath) {
  auto items = objects();
  items[3].symlink_etag = "42aefbae01d2dfd981f7da7d823d689e";
  items[3].symlink_bytes = "6";
  std::string json = render_objects(ListFormat::kJson, "c", {items[3]});
  EXPECT_NE(
      json.find("\"symlink_etag\": \"42aefbae01d2dfd981f7da7d823d689e\", \"symlink_bytes\": 6, "
                "\"symlink_path\": \"/v1/AUTH_p/c2/target\""),
      std::string::npos)
      << json;
  // A size that is not a number never breaks the JSON.
  items[3].symlink_bytes = "6, \"x\": 1";
  boost::json::value v = boost::json::parse(render_objects(ListFormat::kJson, "c", {items[3]}));
  EXPECT_EQ(v.as_array()[0].at("symlink_bytes"), 0);
  EXPECT_FALSE(v.as_array()[0].as_object().contains("x"));
}

TEST(RenderObjects, XmlEscapesNamesContentTypesAndTheContainer) {
  auto items = objects();
  items.resize(3);
  EXPECT_EQ(render_objects(ListFormat::kXml, "c&'", items),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<container name=\"c&amp;'\">"
            "<object><name>photos/cat.jpg</name><hash>0123456789abcdef0123456789abcdef</hash>"
            "<bytes>42</bytes><content_type>image/jpeg</content_type>"
            "<last_modified>2023-11-14T22:13:20.123450</last_modified></object>"
            "<subdir name=\"photos/2024/\"><name>photos/2024/</name></subdir>"
            "<object><name>a&amp;b&lt;c&gt;d\"e'f</name>"
            "<hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes>"
            "<content_type>text/x-&lt;odd&gt;&amp;\"type\"</content_type>"
            "<last_modified>1970-01-01T00:00:00.000000</last_modified></object>"
            "</container>");
}

TEST(RenderObjects, EmptyPagesInEachFormat) {
  EXPECT_EQ(render_objects(ListFormat::kPlain, "c", {}), "");
  EXPECT_EQ(render_objects(ListFormat::kJson, "c", {}), "[]");
  EXPECT_EQ(render_objects(ListFormat::kXml, "c", {}),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"c\" />");
}

TEST(AppendPyJsonString, EscapesAsPythonsJsonDumpsWithEnsureAscii) {
  // json.dumps("a\"b\\c\x01\x1f\n\0end\u00e9\x7f\U0001F600")
  std::string out = "x";
  append_py_json_string(out, std::string("a\"b\\c\x01\x1f\n\0end\xc3\xa9\x7f\xf0\x9f\x98\x80", 19));
  EXPECT_EQ(out, "x\"a\\\"b\\\\c\\u0001\\u001f\\n\\u0000end\\u00e9\\u007f\\ud83d\\ude00\"");
  out.clear();
  append_py_json_string(out, "");
  EXPECT_EQ(out, "\"\"");
  out.clear();
  append_py_json_string(out, "\t\r\b\f/");
  EXPECT_EQ(out, "\"\\t\\r\\b\\f/\"");
}

TEST(PyJson, UsesPythonsSeparatorsAndKeepsKeyOrder) {
  boost::json::value v = {
      {"b", 1}, {"a", boost::json::array{true, nullptr, "x"}}, {"c", {{"d", -2}}}};
  EXPECT_EQ(py_json(v), "{\"b\": 1, \"a\": [true, null, \"x\"], \"c\": {\"d\": -2}}");
  EXPECT_EQ(py_json(boost::json::array{}), "[]");
}

TEST(XmlEscaping, EscapesAsElementTree) {
  std::string text, attr;
  append_xml_text(text, "&<>\"'\n\t");
  append_xml_attr(attr, "&<>\"'\n\t\r");
  EXPECT_EQ(text, "&amp;&lt;&gt;\"'\n\t");
  EXPECT_EQ(attr, "&amp;&lt;&gt;&quot;'&#10;&#09;&#13;");
}

TEST(XmlEscape, EscapesTheFiveSpecialCharactersOnly) {
  EXPECT_EQ(xml_escape("&<>\"'"), "&amp;&lt;&gt;&quot;&apos;");
  EXPECT_EQ(xml_escape("caf\xc3\xa9 / 100%"), "caf\xc3\xa9 / 100%");
  EXPECT_EQ(xml_escape(""), "");
}

TEST(ListedContentType, RejoinsParametersAsSwiftsExtractSwiftBytes) {
  // Expected values are utils.extract_swift_bytes' own answers.
  const std::pair<const char*, const char*> cases[] = {
      {"text/plain", "text/plain"},
      {"text/plain; charset=UTF-8", "text/plain;charset=UTF-8"},
      {"text/plain;charset=utf-8;  foo=\"bar baz\"", "text/plain;charset=utf-8;foo=\"bar baz\""},
      {"a/b;swift_bytes=5", "a/b"},
      {"a/b ; x", "a/b ;x="},
      {"a/b; x=\"unterminated", "a/b;x="},
      {"a/b;;q=1 ; r = 2", "a/b;q=1;r=2"},
      {"a/b;=x;y=", "a/b;y="},
      {"a/b; x=(y)", "a/b;x="},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(listed_content_type(in), want) << in;
}

}  // namespace
}  // namespace onestack::object::api
