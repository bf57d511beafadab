#include "core/clock.h"

#include <cassert>
#include <iterator>
#include <optional>

namespace onestack {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

bool Clock::wait_for(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                     steady_clock::duration timeout, const std::function<bool()>& stop) const {
  return wait_until(cv, lock, monotonic_now() + timeout, stop);
}

double Clock::now_seconds() const { return static_cast<double>(now_us()) / 1e6; }

int64_t Clock::now_us() const {
  return duration_cast<microseconds>(now().time_since_epoch()).count();
}

int64_t Clock::now_unix() const { return duration_cast<seconds>(now().time_since_epoch()).count(); }

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

system_clock::time_point SystemClock::now() const { return system_clock::now(); }

steady_clock::time_point SystemClock::monotonic_now() const { return steady_clock::now(); }

bool SystemClock::wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                             steady_clock::time_point deadline,
                             const std::function<bool()>& stop) const {
  return cv.wait_until(lock, deadline, stop);
}

FakeClock::FakeClock(system_clock::time_point start)
    // Monotonic time starts at an arbitrary point, as steady_clock's does.
    : wall_(start), mono_(steady_clock::time_point(std::chrono::hours(1))) {}

system_clock::time_point FakeClock::now() const {
  std::lock_guard g(mu_);
  return wall_;
}

steady_clock::time_point FakeClock::monotonic_now() const {
  std::lock_guard g(mu_);
  return mono_;
}

bool FakeClock::wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                           steady_clock::time_point deadline,
                           const std::function<bool()>& stop) const {
  // advance() cannot notify `cv` without taking the caller's mutex, which
  // it does not know (and taking it would order it against mu_), so the
  // waiter looks at the fake time again every millisecond of real time. A
  // stop is still seen at once: its notify wakes the wait.
  constexpr auto kPoll = std::chrono::milliseconds(1);
  std::optional<std::multiset<steady_clock::time_point>::iterator> sleeping;
  bool stopped = false;
  for (;;) {
    if (stop()) {
      stopped = true;
      break;
    }
    {
      std::lock_guard g(mu_);
      if (mono_ >= deadline) break;
      if (!sleeping) {
        sleeping = sleepers_.insert(deadline);
        sleepers_cv_.notify_all();
      }
    }
    cv.wait_for(lock, kPoll);
  }
  if (sleeping) {
    std::lock_guard g(mu_);
    sleepers_.erase(*sleeping);
    sleepers_cv_.notify_all();
  }
  return stopped;
}

void FakeClock::set(system_clock::time_point t) {
  std::lock_guard g(mu_);
  wall_ = t;
}

void FakeClock::advance(steady_clock::duration d) {
  assert(d >= steady_clock::duration::zero());
  {
    std::lock_guard g(mu_);
    wall_ += duration_cast<system_clock::duration>(d);
    mono_ += d;
  }
  sleepers_cv_.notify_all();
}

bool FakeClock::await_sleepers(size_t n, std::chrono::milliseconds limit) const {
  std::unique_lock g(mu_);
  return sleepers_cv_.wait_for(g, limit, [&] {
    // Only deadlines still ahead: a sleeper whose deadline an advance()
    // reached is on its way out.
    return static_cast<size_t>(std::distance(sleepers_.upper_bound(mono_), sleepers_.end())) >= n;
  });
}

}  // namespace onestack
