// A bounded pool of threads for blocking work: SQLite, fsync, bcrypt. I/O
// threads only move bytes; a handler hands anything that may block to run()
// and resumes on its own executor when the result is ready.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace onestack {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads) : pool_(threads) {}
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() { join(); }

  // Runs `fn` on a pool thread; the awaiting coroutine resumes on its own
  // executor with fn's result. `fn` must not throw (results are values).
  template <typename F>
  auto run(F fn) {
    using R = std::invoke_result_t<F&>;
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(R)>(
        [this](auto handler, F f) {
          auto work = boost::asio::make_work_guard(handler);
          boost::asio::post(
              pool_, [h = std::move(handler), w = std::move(work), f = std::move(f)]() mutable {
                R result = f();
                auto ex = w.get_executor();
                boost::asio::dispatch(ex, [h = std::move(h), r = std::move(result)]() mutable {
                  std::move(h)(std::move(r));
                });
              });
        },
        boost::asio::use_awaitable, std::move(fn));
  }

  // Waits for queued work to finish and stops the threads. Idempotent.
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace onestack
