// Prometheus metrics: per service and route, request counts by status class
// and a latency histogram. Counters are relaxed atomics in fixed arrays sized
// at start-up, so recording is lock-free and allocation-free on the hot path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace onestack::http {

class RouteMetrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};

  // Records one finished request. Thread-safe, lock-free.
  void record(unsigned status, double seconds);
  // Appends this route's series in Prometheus text format.
  void render(const std::string& labels, std::string* out) const;

 private:
  std::array<std::atomic<uint64_t>, 6> by_class_{};                   // 0: other, 1..5: 1xx..5xx
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets_{};  // last: +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

// All routes of all services. Built at start-up; record() and render() are
// thread-safe afterwards.
class Metrics {
 public:
  // Registers `routes` route labels for `service` (plus one slot for
  // unmatched requests); returns the base slot index for that service.
  size_t add_service(const std::string& service, const std::vector<std::string>& routes);
  RouteMetrics& slot(size_t i) { return *slots_[i].metrics; }
  // Adds series kept elsewhere (database transactions): `source` appends
  // them, in the text exposition format, after the HTTP series on every
  // render. Call before the server starts; `source` must be thread-safe.
  void add_source(std::function<void(std::string*)> source) {
    sources_.push_back(std::move(source));
  }
  // Renders every series in the Prometheus text exposition format.
  std::string render() const;

 private:
  std::vector<std::function<void(std::string*)>> sources_;
  struct Slot {
    std::string labels;
    std::unique_ptr<RouteMetrics> metrics;
  };
  std::vector<Slot> slots_;
};

}  // namespace onestack::http
