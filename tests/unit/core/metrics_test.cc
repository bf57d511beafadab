#include "core/http/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace onestack::http {
namespace {

struct Sample {
  std::string name;
  std::string labels;
  double value;
};

// Checks the Prometheus text exposition rules the tests rely on: every line
// is a comment or "name{labels} value"; each family has its TYPE before its
// samples and its samples are contiguous. Returns the samples.
std::vector<Sample> parse_exposition(const std::string& text) {
  static const std::regex sample_re(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+))");
  static const std::regex type_re(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  std::vector<Sample> out;
  std::map<std::string, std::string> types;
  std::set<std::string> finished_families;
  std::string current_family;
  std::istringstream in(text);
  std::string line;
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.starts_with("# HELP ")) continue;
    if (std::regex_match(line, m, type_re)) {
      EXPECT_EQ(types.count(m[1]), 0u) << "TYPE repeated: " << line;
      types[m[1]] = m[2];
      continue;
    }
    EXPECT_FALSE(line.starts_with("#")) << line;
    if (!std::regex_match(line, m, sample_re)) {
      ADD_FAILURE() << "not a sample line: '" << line << "'";
      continue;
    }
    std::string name = m[1];
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix) && types.count(name.substr(0, name.size() - strlen(suffix)))) {
        family = name.substr(0, name.size() - strlen(suffix));
      }
    }
    EXPECT_EQ(types.count(family), 1u) << "sample before its TYPE: " << line;
    if (family != current_family) {
      EXPECT_EQ(finished_families.count(family), 0u) << "family split: " << family;
      if (!current_family.empty()) finished_families.insert(current_family);
      current_family = family;
    }
    char* end = nullptr;
    std::string v = m[4];
    double value = std::strtod(v.c_str(), &end);
    EXPECT_EQ(*end, '\0') << "bad value: " << line;
    out.push_back({name, m[3], value});
  }
  return out;
}

double find_value(const std::vector<Sample>& samples, const std::string& name,
                  const std::string& labels) {
  for (const auto& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  ADD_FAILURE() << "no sample " << name << "{" << labels << "}";
  return -1;
}

TEST(Metrics, RendersOnlyHeadersBeforeAnyRequest) {
  Metrics m;
  m.add_service("identity", {"GET /v3"});
  auto samples = parse_exposition(m.render());
  EXPECT_TRUE(samples.empty());
}

TEST(Metrics, AddServiceReservesOneSlotPerRoutePlusUnmatched) {
  Metrics m;
  EXPECT_EQ(m.add_service("identity", {"GET /a", "POST /a"}), 0u);
  EXPECT_EQ(m.add_service("object", {"GET /v1"}), 3u);
  m.slot(2).record(404, 0.001);  // identity's unmatched
  m.slot(4).record(404, 0.001);  // object's unmatched
  auto samples = parse_exposition(m.render());
  find_value(samples, "onestack_http_requests_total",
             R"(service="identity",route="unmatched",code="4xx")");
  find_value(samples, "onestack_http_requests_total",
             R"(service="object",route="unmatched",code="4xx")");
}

TEST(Metrics, CountsRequestsByStatusClass) {
  Metrics m;
  m.add_service("identity", {"GET /v3/users"});
  auto& r = m.slot(0);
  r.record(200, 0.001);
  r.record(201, 0.001);
  r.record(404, 0.001);
  r.record(503, 0.001);
  r.record(100, 0.001);
  r.record(0, 0.001);
  r.record(600, 0.001);
  auto samples = parse_exposition(m.render());
  const std::string base = R"(service="identity",route="GET /v3/users",code=)";
  EXPECT_EQ(find_value(samples, "onestack_http_requests_total", base + "\"2xx\""), 2);
  EXPECT_EQ(find_value(samples, "onestack_http_requests_total", base + "\"4xx\""), 1);
  EXPECT_EQ(find_value(samples, "onestack_http_requests_total", base + "\"5xx\""), 1);
  EXPECT_EQ(find_value(samples, "onestack_http_requests_total", base + "\"1xx\""), 1);
  EXPECT_EQ(find_value(samples, "onestack_http_requests_total", base + "\"other\""), 2);
  for (const auto& s : samples) {
    EXPECT_EQ(s.labels.find("3xx"), std::string::npos) << "zero series rendered: " << s.labels;
  }
}

TEST(Metrics, HistogramBucketsAreCumulativeAndEndInInfEqualToCount) {
  Metrics m;
  m.add_service("identity", {"GET /v3"});
  auto& r = m.slot(0);
  const double durations[] = {0.0001, 0.0005, 0.0007, 0.003, 0.003, 0.2, 0.9, 2, 10};
  double total = 0;
  for (double d : durations) {
    r.record(200, d);
    total += d;
  }
  auto samples = parse_exposition(m.render());
  const std::string labels = R"(service="identity",route="GET /v3")";

  std::vector<std::pair<std::string, double>> buckets;
  std::regex le_re(R"(.*,le="([^"]+)\")");
  for (const auto& s : samples) {
    std::smatch mm;
    if (s.name == "onestack_http_request_duration_seconds_bucket" &&
        std::regex_match(s.labels, mm, le_re)) {
      EXPECT_TRUE(s.labels.starts_with(labels));
      buckets.emplace_back(mm[1], s.value);
    }
  }
  ASSERT_EQ(buckets.size(), RouteMetrics::kBuckets.size() + 1);
  for (size_t i = 0; i < RouteMetrics::kBuckets.size(); ++i) {
    EXPECT_DOUBLE_EQ(std::stod(buckets[i].first), RouteMetrics::kBuckets[i]);
    // Cumulative: each bucket counts every duration <= its bound.
    double expected = 0;
    for (double d : durations) expected += d <= RouteMetrics::kBuckets[i] ? 1 : 0;
    EXPECT_EQ(buckets[i].second, expected) << "le=" << buckets[i].first;
    if (i > 0) {
      EXPECT_GE(buckets[i].second, buckets[i - 1].second);
    }
  }
  EXPECT_EQ(buckets.back().first, "+Inf");
  EXPECT_EQ(buckets.back().second, std::size(durations));
  EXPECT_EQ(find_value(samples, "onestack_http_request_duration_seconds_count", labels),
            std::size(durations));
  EXPECT_NEAR(find_value(samples, "onestack_http_request_duration_seconds_sum", labels), total,
              2e-5);  // stored in whole microseconds
}

TEST(Metrics, KeepsEachFamilyContiguousAcrossRoutesAndServices) {
  Metrics m;
  m.add_service("identity", {"GET /a", "GET /b"});
  m.add_service("object", {"GET /c"});
  for (size_t i = 0; i < 5; ++i) m.slot(i).record(200, 0.01);
  std::string text = m.render();
  auto samples = parse_exposition(text);  // checks contiguity
  EXPECT_EQ(samples.size(), 5u * (1 + RouteMetrics::kBuckets.size() + 1 + 2));
  EXPECT_NE(text.find("# TYPE onestack_http_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE onestack_http_request_duration_seconds histogram"),
            std::string::npos);
}

TEST(Metrics, RecordsFromManyThreadsWithoutLosingCounts) {
  Metrics m;
  m.add_service("identity", {"GET /a"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) m.slot(0).record(200, 0.002);
    });
  }
  for (auto& t : threads) t.join();
  auto samples = parse_exposition(m.render());
  EXPECT_EQ(find_value(samples, "onestack_http_requests_total",
                       R"(service="identity",route="GET /a",code="2xx")"),
            40000);
  EXPECT_EQ(find_value(samples, "onestack_http_request_duration_seconds_count",
                       R"(service="identity",route="GET /a")"),
            40000);
}

}  // namespace
}  // namespace onestack::http
