#include "common/worker_pool.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>

namespace jwtauth::common {

WorkerPool::WorkerPool(size_t threads, size_t max_queued, int nice)
    : state_(std::make_shared<State>(max_queued)) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back(&WorkerPool::Run, state_, nice);
}

WorkerPool::~WorkerPool() {
  {
    MutexLock lock(&state_->mu);
    state_->stopping = true;
  }
  for (std::thread& t : threads_) {
    // The last task may drop the last reference to the pool's owner, so the
    // pool can be destroyed on one of its own threads: never join yourself.
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

bool WorkerPool::TrySubmit(std::function<void()> task) {
  MutexLock lock(&state_->mu);
  if (state_->stopping || state_->queue.size() >= state_->max_queued)
    return false;
  state_->queue.push_back(std::move(task));
  return true;
}

void WorkerPool::Run(std::shared_ptr<State> state, int nice) {
  if (nice > 0) {
    // Best effort: a refusal leaves the thread at the process's priority.
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    (void)::setpriority(PRIO_PROCESS, tid, nice);
  }
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(&state->mu);
      State* s = state.get();
      s->mu.Await([s]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return s->stopping || !s->queue.empty();
      });
      if (state->queue.empty()) return;  // stopping and drained
      task = std::move(state->queue.front());
      state->queue.pop_front();
    }
    task();
  }
}

}  // namespace jwtauth::common
