#include "core/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/result.h"

namespace onestack {
namespace {

namespace asio = boost::asio;

struct ThreadTrace {
  std::thread::id before;
  std::thread::id in_job;
  std::thread::id after;
  int value = 0;
};

asio::awaitable<void> traced_run(WorkerPool& pool, ThreadTrace& trace) {
  trace.before = std::this_thread::get_id();
  auto job = [&trace] {
    trace.in_job = std::this_thread::get_id();
    return 42;
  };
  trace.value = co_await pool.run(job);
  trace.after = std::this_thread::get_id();
}

TEST(WorkerPool, RunsTheJobOnAPoolThreadAndResumesOnTheCallersThread) {
  WorkerPool pool(2);
  asio::io_context io;
  ThreadTrace trace;
  asio::co_spawn(io, traced_run(pool, trace), asio::detached);
  std::thread::id io_thread;
  std::thread t([&] {
    io_thread = std::this_thread::get_id();
    io.run();
  });
  t.join();
  EXPECT_EQ(trace.value, 42);
  EXPECT_EQ(trace.before, io_thread);
  EXPECT_EQ(trace.after, io_thread);
  EXPECT_NE(trace.in_job, io_thread);
  EXPECT_NE(trace.in_job, std::thread::id());
}

asio::awaitable<void> move_only_result(WorkerPool& pool, std::unique_ptr<int>& out) {
  auto job = [] { return std::make_unique<int>(7); };
  out = co_await pool.run(job);
}

TEST(WorkerPool, CarriesMoveOnlyResults) {
  WorkerPool pool(1);
  asio::io_context io;
  std::unique_ptr<int> out;
  asio::co_spawn(io, move_only_result(pool, out), asio::detached);
  io.run();
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 7);
}

asio::awaitable<void> result_job(WorkerPool& pool, bool fail, Status& out) {
  auto job = [fail]() -> Status {
    if (fail) return make_error(ErrorCode::kUnavailable, "disk gone");
    return ok_status();
  };
  out = co_await pool.run(job);
}

TEST(WorkerPool, CarriesErrorsAsValues) {
  WorkerPool pool(1);
  asio::io_context io;
  Status ok = make_error(ErrorCode::kInternal, "unset");
  Status failed;
  asio::co_spawn(io, result_job(pool, false, ok), asio::detached);
  asio::co_spawn(io, result_job(pool, true, failed), asio::detached);
  io.run();
  EXPECT_TRUE(ok.ok());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
}

asio::awaitable<void> many_runs(WorkerPool& pool, int i, std::atomic<long>& sum,
                                std::atomic<int>& wrong_thread,
                                std::set<std::thread::id> const& io_threads) {
  auto job = [&i] { return i * 2; };
  int v = co_await pool.run(job);
  sum += v;
  if (!io_threads.count(std::this_thread::get_id())) ++wrong_thread;
}

TEST(WorkerPool, ServesManyConcurrentRunsFromSeveralIoThreads) {
  WorkerPool pool(3);
  asio::io_context io;
  std::atomic<long> sum{0};
  std::atomic<int> wrong_thread{0};
  std::set<std::thread::id> io_threads;
  constexpr int kRuns = 2000;
  for (int i = 0; i < kRuns; ++i) {
    asio::co_spawn(io, many_runs(pool, i, sum, wrong_thread, io_threads), asio::detached);
  }
  std::vector<std::thread> threads(2);
  std::mutex mu;
  std::atomic<int> started{0};
  // Every io thread adds its id before any of them starts running jobs.
  for (auto& t : threads) {
    t = std::thread([&] {
      {
        std::lock_guard lock(mu);
        io_threads.insert(std::this_thread::get_id());
      }
      ++started;
      while (started.load() < 2) std::this_thread::yield();
      io.run();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sum.load(), static_cast<long>(kRuns) * (kRuns - 1));
  EXPECT_EQ(wrong_thread.load(), 0);
}

TEST(WorkerPool, JoinWaitsForQueuedWorkAndIsIdempotent) {
  WorkerPool pool(1);
  asio::io_context io;
  ThreadTrace trace;
  asio::co_spawn(io, traced_run(pool, trace), asio::detached);
  io.run();
  pool.join();
  pool.join();
  EXPECT_EQ(trace.value, 42);
}

}  // namespace
}  // namespace onestack
