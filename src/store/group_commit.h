// Group commit: many threads' writes share one transaction. Shared by the
// object stores of both engines (store/sqlite, store/pg); what differs is
// only how a batch runs (savepoints, retries), which each store supplies.
//
// A writing thread queues its operation; the thread at the front of the
// queue leads: it takes what is queued (at most `max_batch`), runs the batch
// without the queue's lock while later callers queue up for the next one,
// then wakes each caller of the batch with its own result and hands the lead
// to the next in line. A thread is never woken before its result is set,
// and no caller's entry is touched after it has been woken.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "core/result.h"

namespace onestack::store {

template <typename Op>
class GroupCommit {
 public:
  // One queued operation; run_batch sets `result` for each of its entries.
  struct Entry {
    explicit Entry(const Op& o) : op(o) {}
    const Op& op;
    Status result;
    bool done = false;  // guarded by the queue's mutex
    std::condition_variable cv;
  };
  using Batch = std::vector<Entry*>;

  explicit GroupCommit(size_t max_batch) : max_batch_(max_batch) {}

  // Runs `op` in some thread's batch and returns its result. `run_batch` is
  // called by the leading thread with the batch (this thread's op among
  // them, in queue order) and must set every entry's result; it must not
  // throw. Blocking; thread-safe.
  Status submit(const Op& op, const std::function<void(const Batch&)>& run_batch) {
    Entry self(op);
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(&self);
    self.cv.wait(lock, [&] { return self.done || queue_.front() == &self; });
    if (self.done) return std::move(self.result);

    Batch batch;
    for (Entry* e : queue_) {
      if (batch.size() == max_batch_) break;
      batch.push_back(e);
    }
    lock.unlock();
    run_batch(batch);
    lock.lock();
    for (size_t i = 0; i < batch.size(); ++i) {
      Entry* e = queue_.front();
      queue_.pop_front();
      if (e != &self) {
        e->done = true;
        // Notified under the lock: the waiter cannot return (and destroy
        // its entry) before we let go of it.
        e->cv.notify_one();
      }
    }
    if (!queue_.empty()) queue_.front()->cv.notify_one();
    return std::move(self.result);
  }

 private:
  const size_t max_batch_;
  std::mutex mu_;
  std::deque<Entry*> queue_;  // guarded by mu_; the front leads
};

}  // namespace onestack::store
