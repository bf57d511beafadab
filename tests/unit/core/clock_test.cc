// The clock seam: SystemClock reads the real clocks; FakeClock stands still
// until a test moves it, and ends the waits of other threads when it does.
#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>

namespace onestack {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

TEST(SystemClock, ReadsTheSystemsWallClock) {
  const auto before = static_cast<int64_t>(std::time(nullptr));
  const Clock& clock = SystemClock::instance();
  const int64_t unix = clock.now_unix();
  EXPECT_GE(unix, before);
  EXPECT_LE(unix, before + 5);
  EXPECT_NEAR(clock.now_seconds(), static_cast<double>(unix), 5.0);
  EXPECT_EQ(&SystemClock::instance(), &clock);
}

TEST(SystemClock, WaitEndsAtAPassedDeadlineOrWhenStopped) {
  const Clock& clock = SystemClock::instance();
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  EXPECT_FALSE(clock.wait_until(cv, lock, clock.monotonic_now(), [] { return false; }));
  EXPECT_TRUE(clock.wait_for(cv, lock, hours(1), [] { return true; }));
}

TEST(FakeClock, StandsStillAtItsStartUntilMoved) {
  FakeClock clock;
  EXPECT_EQ(clock.now_unix(), 1700000000);
  EXPECT_EQ(clock.now_us(), 1700000000000000);
  EXPECT_EQ(clock.now_seconds(), 1700000000.0);
  const auto mono = clock.monotonic_now();
  EXPECT_EQ(clock.monotonic_now(), mono);
  EXPECT_EQ(clock.now_unix(), 1700000000);
}

TEST(FakeClock, GivesWallTimeWithMicroseconds) {
  FakeClock clock(system_clock::time_point(seconds(1700000000) + microseconds(123456)));
  EXPECT_EQ(clock.now_us(), 1700000000123456);
  EXPECT_DOUBLE_EQ(clock.now_seconds(), 1700000000.123456);
  EXPECT_EQ(clock.now_unix(), 1700000000);  // truncated, as std::time() does
}

TEST(FakeClock, AdvanceMovesBothTimesAndSetOnlyWallTime) {
  FakeClock clock;
  const auto mono = clock.monotonic_now();
  clock.advance(milliseconds(1500));
  EXPECT_EQ(clock.now_us(), 1700000001500000);
  EXPECT_EQ(clock.monotonic_now() - mono, milliseconds(1500));

  // A wall-clock step, backwards here, leaves intervals alone.
  clock.set(system_clock::time_point(seconds(1600000000)));
  EXPECT_EQ(clock.now_unix(), 1600000000);
  EXPECT_EQ(clock.monotonic_now() - mono, milliseconds(1500));
}

TEST(FakeClock, AWaitWhoseDeadlineHasComeReturnsAtOnce) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  EXPECT_FALSE(clock.wait_until(cv, lock, clock.monotonic_now(), [] { return false; }));
  EXPECT_TRUE(clock.wait_for(cv, lock, seconds(10), [] { return true; }));
  EXPECT_TRUE(clock.await_sleepers(0));
}

TEST(FakeClock, AWaitEndsOnlyWhenAdvanceReachesItsDeadline) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool returned = false;  // guarded by mu
  bool result = true;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    result = clock.wait_for(cv, lock, seconds(10), [] { return false; });
    returned = true;
  });
  EXPECT_TRUE(clock.await_sleepers(1));
  clock.advance(seconds(9));
  EXPECT_TRUE(clock.await_sleepers(1));  // still asleep: its deadline is a second away
  {
    std::lock_guard g(mu);
    EXPECT_FALSE(returned);
  }
  clock.advance(seconds(1));
  waiter.join();
  EXPECT_TRUE(returned);
  EXPECT_FALSE(result);  // the deadline came, not a stop
  EXPECT_TRUE(clock.await_sleepers(0));
}

TEST(FakeClock, AWaitEndsWhenStoppedWithoutTimeMoving) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;  // guarded by mu
  bool result = false;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    result = clock.wait_for(cv, lock, hours(1), [&] { return stopping; });
  });
  EXPECT_TRUE(clock.await_sleepers(1));
  {
    std::lock_guard g(mu);
    stopping = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_TRUE(result);
}

TEST(FakeClock, AwaitSleepersGivesUpAfterItsLimit) {
  FakeClock clock;
  EXPECT_FALSE(clock.await_sleepers(1, milliseconds(1)));
}

TEST(FakeClock, IsSafeToReadWhileAnotherThreadAdvancesIt) {
  FakeClock clock;
  std::thread mover([&] {
    for (int i = 0; i < 1000; ++i) clock.advance(microseconds(1));
  });
  int64_t last = clock.now_us();
  for (int i = 0; i < 1000; ++i) {
    const int64_t now = clock.now_us();
    EXPECT_GE(now, last);
    last = now;
  }
  mover.join();
  EXPECT_EQ(clock.now_us(), 1700000000000000 + 1000);
}

}  // namespace
}  // namespace onestack
