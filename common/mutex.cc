#include "common/mutex.h"

namespace jwtauth::common {

bool Mutex::SignalReadyWaiters() {
  bool any = false;
  for (Waiter* w : waiters_) {
    if (!w->ready && w->condition()) {
      w->ready = true;
      any = true;
    }
  }
  return any;
}

bool Mutex::Wait(absl::FunctionRef<bool()> condition,
                 const std::chrono::steady_clock::time_point* deadline) {
  // The caller holds mu_ and may have changed what others wait for: waiting
  // releases the lock as Unlock() does, so wake those whose condition holds.
  if (!waiters_.empty() && SignalReadyWaiters()) cv_.notify_all();
  Waiter self{condition};
  waiters_.push_back(&self);
  // Hand mu_ to the condition variable, and back still locked.
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  bool ready = true;
  if (deadline == nullptr) {
    cv_.wait(lock, [&self] { return self.ready; });
  } else {
    ready = cv_.wait_until(lock, *deadline, [&self] { return self.ready; });
  }
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &self));
  lock.release();
  return ready;
}

}  // namespace jwtauth::common
