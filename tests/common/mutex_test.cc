// Tests of common::Mutex: mutual exclusion, Await and AwaitWithTimeout.
// Also run under ThreadSanitizer (scripts/test), which sees this Mutex.
#include "common/mutex.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace jwtauth::common {
namespace {

TEST(Mutex, ConcurrentIncrementsUnderLockAreAllCounted) {
  Mutex mu;
  int64_t count = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        MutexLock lock(&mu);
        ++count;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  MutexLock lock(&mu);
  EXPECT_EQ(count, 80000);
}

TEST(Mutex, AwaitReturnsOnceAnotherThreadMakesTheConditionTrue) {
  Mutex mu;
  int stage = 0;
  std::thread producer([&] {
    for (int i = 1; i <= 3; ++i) {
      MutexLock lock(&mu);
      stage = i;
    }
  });
  {
    MutexLock lock(&mu);
    mu.Await([&] { return stage == 3; });
    EXPECT_EQ(stage, 3);
  }
  producer.join();
}

TEST(Mutex, AwaitWithTrueConditionReturnsAtOnce) {
  Mutex mu;
  MutexLock lock(&mu);
  mu.Await([] { return true; });
  EXPECT_TRUE(mu.AwaitWithTimeout([] { return true; }, absl::ZeroDuration()));
}

TEST(Mutex, AwaitWithTimeoutOnConditionNeverTrueReturnsFalse) {
  Mutex mu;
  MutexLock lock(&mu);
  EXPECT_FALSE(
      mu.AwaitWithTimeout([] { return false; }, absl::Milliseconds(5)));
  EXPECT_FALSE(mu.AwaitWithTimeout([] { return false; }, absl::ZeroDuration()));
  EXPECT_FALSE(mu.AwaitWithTimeout([] { return false; }, -absl::Seconds(1)));
}

TEST(Mutex, AwaitWithTimeoutSeesConditionMadeTrueBeforeTheTimeout) {
  Mutex mu;
  bool ready = false;
  std::thread setter([&] {
    MutexLock lock(&mu);
    ready = true;
  });
  {
    MutexLock lock(&mu);
    // The timeout is a bound on a broken Mutex, never reached when it works.
    EXPECT_TRUE(mu.AwaitWithTimeout([&] { return ready; }, absl::Minutes(5)));
  }
  setter.join();
}

// A thread that changes state and then Awaits (releasing the lock inside
// Await, not through Unlock) must still wake the threads waiting for that
// change.
TEST(Mutex, StateChangedBeforeAwaitingWakesOtherWaiters) {
  Mutex mu;
  bool started = false;
  bool release = false;
  std::thread worker([&] {
    MutexLock lock(&mu);
    started = true;
    mu.Await([&] { return release; });
  });
  {
    MutexLock lock(&mu);
    mu.Await([&] { return started; });
    release = true;
  }
  worker.join();
}

TEST(Mutex, ManyWaitersOnDifferentConditionsAllWake) {
  Mutex mu;
  int value = 0;
  int woken = 0;
  std::vector<std::thread> waiters;
  for (int want = 1; want <= 6; ++want) {
    waiters.emplace_back([&, want] {
      MutexLock lock(&mu);
      mu.Await([&] { return value >= want; });
      ++woken;
    });
  }
  for (int i = 1; i <= 6; ++i) {
    MutexLock lock(&mu);
    value = i;
  }
  for (std::thread& t : waiters) t.join();
  MutexLock lock(&mu);
  EXPECT_EQ(woken, 6);
}

}  // namespace
}  // namespace jwtauth::common
