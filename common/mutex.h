// mutex.h: jwtauth's mutex: a std::mutex with abseil's thread-safety
// annotations and absl::Mutex's Await, so code reads as it would with
// absl::Mutex.
//
//   common::Mutex mu;
//   int queued ABSL_GUARDED_BY(mu) = 0;
//   {
//     common::MutexLock lock(&mu);
//     mu.Await([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return queued > 0; });
//     --queued;
//   }
//
// Why not absl::Mutex (docs/design.md, "Locks"): Debian builds abseil without
// NDEBUG, so every absl::Mutex operation pays for deadlock-detection graph
// bookkeeping (~10 % of a busy server's CPU, bench/RESULTS.md), and abseil is
// not built with ThreadSanitizer, which therefore cannot see absl::Mutex and
// reports races on everything it guards. std::mutex is pthread_mutex_t, which
// TSan intercepts and which costs one uncontended atomic per Lock.
//
// Await semantics match absl::Mutex: the condition is evaluated with the lock
// held; whoever releases the lock (Unlock, or entering Await) evaluates the
// waiters' conditions and wakes them only when one holds, so waiters never
// wake each other in a loop. A Mutex nobody Awaits on costs what a plain
// std::mutex costs, plus one empty() check per Unlock.
//
// Thread-safety: thread-safe (it is the lock). Not reentrant.
#ifndef JWTAUTH_COMMON_MUTEX_H_
#define JWTAUTH_COMMON_MUTEX_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"

namespace jwtauth::common {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    // Notify before unlocking: a woken waiter may destroy this Mutex as soon
    // as it holds the lock (ThreadSanitizer found notify-after-unlock racing
    // with the destructor).
    if (!waiters_.empty() && SignalReadyWaiters()) cv_.notify_all();
    mu_.unlock();
  }

  // Await blocks until `condition()` is true; the lock is held on entry and
  // on return (released while waiting). `condition` must only read state
  // this Mutex guards: other threads evaluate it when they release the lock.
  template <typename Condition>
  void Await(Condition condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    while (!condition()) Wait(condition, nullptr);
  }

  // AwaitWithTimeout is Await giving up after `timeout`; returns the final
  // value of `condition()`.
  template <typename Condition>
  bool AwaitWithTimeout(Condition condition, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    const absl::Duration bounded =
        std::clamp(timeout, absl::ZeroDuration(), absl::Hours(24 * 365));
    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(bounded);
    while (!condition()) {
      if (!Wait(condition, &deadline)) return condition();
    }
    return true;
  }

 private:
  // A thread inside Wait. `ready` is set (under mu_) by a releasing thread
  // that found `condition` true.
  struct Waiter {
    absl::FunctionRef<bool()> condition;
    bool ready = false;
  };

  // Wait releases the lock until a releasing thread finds `condition` true
  // (or `deadline`, if not null, passes); false on timeout.
  bool Wait(absl::FunctionRef<bool()> condition,
            const std::chrono::steady_clock::time_point* deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

  // SignalReadyWaiters marks every waiter whose condition now holds; true if
  // any. Called with mu_ held, by whoever is about to release it.
  bool SignalReadyWaiters();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Waiter*> waiters_;  // guarded by mu_
};

// MutexLock holds `mu` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace jwtauth::common

#endif  // JWTAUTH_COMMON_MUTEX_H_
