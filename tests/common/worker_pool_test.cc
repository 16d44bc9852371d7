// Tests of common::WorkerPool: bounded queue, draining destructor, many
// submitters, a pool destroyed by its own task. Also run under TSan.
#include "common/worker_pool.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "gtest/gtest.h"

namespace jwtauth::common {
namespace {

TEST(WorkerPool, FullQueueRefusesMoreWorkUntilAThreadTakesSome) {
  Mutex mu;
  bool release = false;
  bool started = false;
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1, 2);
    // The one thread blocks in the first task; the queue then holds 2.
    ASSERT_TRUE(pool.TrySubmit([&] {
      MutexLock lock(&mu);
      started = true;
      mu.Await([&] { return release; });
      ++ran;
    }));
    {
      MutexLock lock(&mu);
      mu.Await([&] { return started; });
    }
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));
    MutexLock lock(&mu);
    release = true;
  }
  EXPECT_EQ(ran.load(), 3);
}

TEST(WorkerPool, DestructorRunsEveryQueuedTask) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(2, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
  }
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkerPool, ManySubmittersEachTaskRunsExactlyOnce) {
  Mutex mu;
  std::vector<int> seen(4000, 0);
  {
    WorkerPool pool(3, 100000);
    std::vector<std::thread> submitters;
    for (int t = 0; t < 4; ++t) {
      submitters.emplace_back([&, t] {
        for (int i = 0; i < 1000; ++i) {
          const int id = t * 1000 + i;
          ASSERT_TRUE(pool.TrySubmit([&, id] {
            MutexLock lock(&mu);
            ++seen[static_cast<size_t>(id)];
          }));
        }
      });
    }
    for (std::thread& t : submitters) t.join();
  }
  for (int n : seen) ASSERT_EQ(n, 1);
}

TEST(WorkerPool, PoolDestroyedByItsOwnTaskDoesNotDeadlock) {
  auto pool = std::make_shared<std::unique_ptr<WorkerPool>>(
      std::make_unique<WorkerPool>(2, 8));
  Mutex mu;
  bool done = false;
  ASSERT_TRUE((*pool)->TrySubmit([pool, &mu, &done] {
    pool->reset();  // the pool's destructor runs on its own thread
    MutexLock lock(&mu);
    done = true;
  }));
  MutexLock lock(&mu);
  mu.Await([&] { return done; });
}

TEST(WorkerPool, NiceLowersOnlyThePoolThreadsPriority) {
  const int before =
      ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
  std::atomic<int> seen{-100};
  {
    WorkerPool pool(1, 4, /*nice=*/7);
    ASSERT_TRUE(pool.TrySubmit([&] {
      seen =
          ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
    }));
  }
  // setpriority sets an absolute niceness; raising priority back is refused
  // to unprivileged processes, so a process already above 7 stays there.
  EXPECT_EQ(seen.load(), std::max(before, 7));
  EXPECT_EQ(
      ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))),
      before);
}

}  // namespace
}  // namespace jwtauth::common
