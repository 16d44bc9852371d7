// worker_pool.h: a fixed set of threads with a bounded queue, for work that
// must never run on gRPC's callback threads (password hashing).
//
// TrySubmit refuses work when the queue is full instead of growing without
// bound, so a login storm turns into RESOURCE_EXHAUSTED answers, not memory.
// The destructor runs every queued task, then joins (a pool destroyed by
// one of its own tasks detaches that thread, which then exits).
//
//   WorkerPool pool(2, 256);
//   if (!pool.TrySubmit([=] { reactor->Finish(Work()); })) ... overloaded
//
// Thread-safety: thread-safe.
#ifndef JWTAUTH_COMMON_WORKER_POOL_H_
#define JWTAUTH_COMMON_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace jwtauth::common {

class WorkerPool {
 public:
  // nice > 0 lowers the threads' scheduling priority (Linux per-thread nice;
  // lowering needs no privilege), so their work yields the CPU to the rest
  // of the process: password hashing then cannot crowd out token checks.
  WorkerPool(size_t threads, size_t max_queued, int nice = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // TrySubmit queues `task`; false when the queue already holds max_queued.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);

  size_t threads() const { return threads_.size(); }

 private:
  // State is shared with the threads, so a thread whose task destroyed the
  // pool can still finish its loop safely.
  struct State {
    explicit State(size_t max) : max_queued(max) {}
    const size_t max_queued;
    Mutex mu;
    std::deque<std::function<void()>> queue ABSL_GUARDED_BY(mu);
    bool stopping ABSL_GUARDED_BY(mu) = false;
  };
  static void Run(std::shared_ptr<State> state, int nice);

  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
};

}  // namespace jwtauth::common

#endif  // JWTAUTH_COMMON_WORKER_POOL_H_
