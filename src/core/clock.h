// The clock: why this exists.
//
// Code that reads the time (token stamps and expiry, X-Timestamp, object
// expiry, the auditor's pace) takes a `const Clock&` instead of calling
// std::chrono::system_clock::now() or std::time() itself, so a test can
// hand it a FakeClock and move time forward instead of sleeping (LevelDB's
// Env::NowMicros and SleepForMicroseconds play the same part). Production
// code passes SystemClock::instance(), which is also every constructor's
// default.
//
// A Clock has two times: wall time (now(), for anything a client or another
// node sees: stamps, expiry, Last-Modified) and monotonic time
// (monotonic_now(), for intervals and deadlines inside this process, which
// a wall-clock step must not stretch or cut short). Waits for a deadline go
// through the clock too (wait_until), so a FakeClock decides when they end.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>

namespace onestack {

class Clock {
 public:
  virtual ~Clock() = default;

  // Wall time now. Thread-safe.
  virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time now: never goes back, unaffected by changes to wall
  // time. Only differences between two readings mean anything. Thread-safe.
  virtual std::chrono::steady_clock::time_point monotonic_now() const = 0;

  // Blocks the calling thread until `stop()` is true or monotonic_now()
  // reaches `deadline`, as std::condition_variable::wait_until with a
  // predicate: the caller holds `lock` (a lock on the mutex that guards
  // whatever `stop` reads), which is released while waiting and held again
  // on return; whoever makes `stop()` true notifies `cv` after changing it
  // under that mutex. Returns `stop()`'s last value: true when stopped,
  // false when the deadline came first. `stop` is called with `lock` held.
  // Thread-safe.
  virtual bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          std::chrono::steady_clock::time_point deadline,
                          const std::function<bool()>& stop) const = 0;

  // As wait_until(), with the deadline `timeout` from monotonic_now().
  bool wait_for(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                std::chrono::steady_clock::duration timeout,
                const std::function<bool()>& stop) const;

  // Wall time as seconds since the Unix epoch, with microseconds
  // (1700000000.123456). Thread-safe.
  double now_seconds() const;
  // Wall time as microseconds since the Unix epoch. Thread-safe.
  int64_t now_us() const;
  // Wall time as whole seconds since the Unix epoch, as std::time() gives
  // it. Thread-safe.
  int64_t now_unix() const;
};

// The real clocks: std::chrono::system_clock and steady_clock.
class SystemClock final : public Clock {
 public:
  // The process-wide instance; lives as long as the process. Thread-safe.
  static const SystemClock& instance();

  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point monotonic_now() const override;
  bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  std::chrono::steady_clock::time_point deadline,
                  const std::function<bool()>& stop) const override;
};

// A clock for tests: time stands still until the test moves it. Every
// method is thread-safe, so a test may advance the clock while the code
// under test reads it or waits on it from other threads.
class FakeClock final : public Clock {
 public:
  // Wall time 1700000000 (2023-11-14T22:13:20Z) unless told otherwise.
  static constexpr std::chrono::seconds kDefaultStart{1700000000};

  explicit FakeClock(std::chrono::system_clock::time_point start =
                         std::chrono::system_clock::time_point(kDefaultStart));
  FakeClock(const FakeClock&) = delete;
  FakeClock& operator=(const FakeClock&) = delete;

  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point monotonic_now() const override;
  // Ends when `stop()` is true or advance() has moved monotonic time to
  // `deadline`. While it waits the caller counts as a sleeper (see
  // await_sleepers()). It notices a stop at once (the notify of `cv`) and an
  // advance() within a millisecond of real time.
  bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  std::chrono::steady_clock::time_point deadline,
                  const std::function<bool()>& stop) const override;

  // Sets wall time to `t`, backwards too, as an operator or NTP stepping
  // the system clock would; monotonic time does not move.
  void set(std::chrono::system_clock::time_point t);
  // Moves wall and monotonic time forward by `d` (>= 0), ending the waits
  // whose deadline it reaches.
  void advance(std::chrono::steady_clock::duration d);

  // Blocks until at least `n` threads are in wait_until() with a deadline
  // still ahead of monotonic time: the way a test learns that the code
  // under test has reached its wait, instead of sleeping until it probably
  // has. Returns false if that takes longer than `limit` of real time (a
  // guard for a broken test, not a timing assumption).
  bool await_sleepers(size_t n, std::chrono::milliseconds limit = std::chrono::seconds(30)) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable sleepers_cv_;  // with mu_: sleepers_ or mono_ changed
  std::chrono::system_clock::time_point wall_;   // guarded by mu_
  std::chrono::steady_clock::time_point mono_;   // guarded by mu_
  // Deadlines of the threads waiting in wait_until(). Guarded by mu_.
  mutable std::multiset<std::chrono::steady_clock::time_point> sleepers_;
};

}  // namespace onestack
