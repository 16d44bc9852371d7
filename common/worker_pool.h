// worker_pool.h: a fixed set of threads with a bounded queue, for work that
// must never run on gRPC's callback threads (password hashing).
//
// TrySubmit refuses work when the queue is full instead of growing without
// bound, so a login storm turns into RESOURCE_EXHAUSTED answers, not memory.
// The destructor runs every queued task, then joins.
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
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace jwtauth::common {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // TrySubmit queues `task`; false when the queue already holds max_queued.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);

  size_t threads() const { return threads_.size(); }

 private:
  void Run();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace jwtauth::common

#endif  // JWTAUTH_COMMON_WORKER_POOL_H_
