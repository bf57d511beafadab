#include "core/http/metrics.h"

#include <fmt/format.h>

namespace onestack::http {

void RouteMetrics::record(unsigned status, double seconds) {
  unsigned cls = status / 100;
  by_class_[cls >= 1 && cls <= 5 ? cls : 0].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  buckets_[b].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void RouteMetrics::render(const std::string& labels, std::string* out) const {
  static constexpr const char* kClass[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (size_t c = 0; c < by_class_.size(); ++c) {
    uint64_t v = by_class_[c].load(std::memory_order_relaxed);
    if (v == 0) continue;
    *out +=
        fmt::format("onestack_http_requests_total{{{},code=\"{}\"}} {}\n", labels, kClass[c], v);
  }
  uint64_t count = count_.load(std::memory_order_relaxed);
  if (count == 0) return;
  uint64_t cumulative = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    cumulative += buckets_[b].load(std::memory_order_relaxed);
    std::string le = b < kBuckets.size() ? fmt::format("{}", kBuckets[b]) : "+Inf";
    *out += fmt::format("onestack_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                        labels, le, cumulative);
  }
  *out += fmt::format("onestack_http_request_duration_seconds_sum{{{}}} {}\n", labels,
                      static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6);
  *out += fmt::format("onestack_http_request_duration_seconds_count{{{}}} {}\n", labels, count);
}

size_t Metrics::add_service(const std::string& service, const std::vector<std::string>& routes) {
  size_t base = slots_.size();
  for (const auto& r : routes) {
    slots_.push_back(
        {fmt::format("service=\"{}\",route=\"{}\"", service, r), std::make_unique<RouteMetrics>()});
  }
  slots_.push_back({fmt::format("service=\"{}\",route=\"unmatched\"", service),
                    std::make_unique<RouteMetrics>()});
  return base;
}

std::string Metrics::render() const {
  std::string out =
      "# HELP onestack_http_requests_total HTTP requests by service, route and status class.\n"
      "# TYPE onestack_http_requests_total counter\n";
  std::string hist =
      "# HELP onestack_http_request_duration_seconds Request latency.\n"
      "# TYPE onestack_http_request_duration_seconds histogram\n";
  for (const auto& s : slots_) {
    std::string series;
    s.metrics->render(s.labels, &series);
    for (size_t pos = 0; pos < series.size();) {
      size_t nl = series.find('\n', pos);
      std::string_view line(series.data() + pos, nl - pos + 1);
      (line.starts_with("onestack_http_requests_total") ? out : hist) += line;
      pos = nl + 1;
    }
  }
  out += hist;
  for (const auto& source : sources_) source(&out);
  return out;
}

}  // namespace onestack::http
