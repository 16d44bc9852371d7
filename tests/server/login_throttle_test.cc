// Tests of LoginThrottle on a FakeClock (no sleeps): limits per username and
// per peer, the sliding window, waits as DRF reports them, the memory bound
// and exact counting under concurrency.
#include "server/login_throttle.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::FakeClock;
using ::testing::Optional;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
constexpr char kPeer[] = "ipv4:10.0.0.1:5000";
constexpr char kOtherPeer[] = "ipv6:[::1]:6000";

ThrottleOptions SmallOptions() {
  ThrottleOptions options;
  options.max_failures_per_username = 3;
  options.max_failures_per_peer = 10;
  options.window = absl::Minutes(5);
  options.max_keys = 1000;
  return options;
}

TEST(LoginThrottle, FreshKeysAreAllowed) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  EXPECT_EQ(throttle.Check("ada", kPeer), std::nullopt);
  EXPECT_EQ(throttle.tracked_keys(), 0u);
}

TEST(LoginThrottle, FailuresBelowUsernameLimitAreAllowed) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  throttle.RecordFailure("ada", kPeer);
  throttle.RecordFailure("ada", kPeer);
  EXPECT_EQ(throttle.Check("ada", kPeer), std::nullopt);
}

TEST(LoginThrottle,
     UsernameLimitReachedIsThrottledUntilOldestFailureLeavesWindow) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  throttle.RecordFailure("ada", kPeer);  // t = 0
  clock.Advance(absl::Seconds(10));
  throttle.RecordFailure("ada", kPeer);  // t = 10
  clock.Advance(absl::Seconds(10));
  throttle.RecordFailure("ada", kPeer);  // t = 20
  // The first failure leaves the window at t = 300: 280 s from now.
  EXPECT_THAT(throttle.Check("ada", kPeer), Optional(absl::Seconds(280)));
  clock.Advance(absl::Seconds(279));
  EXPECT_THAT(throttle.Check("ada", kPeer), Optional(absl::Seconds(1)));
}

TEST(LoginThrottle, WaitIsRoundedUpToWholeSeconds) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("ada", kPeer);
  clock.Advance(absl::Milliseconds(1500));
  // 298.5 s remain: reported as 299.
  EXPECT_THAT(throttle.Check("ada", kPeer), Optional(absl::Seconds(299)));
}

TEST(LoginThrottle, WaitUnderOneSecondIsReportedAsOneSecond) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("ada", kPeer);
  clock.Advance(absl::Minutes(5) - absl::Milliseconds(1));
  EXPECT_THAT(throttle.Check("ada", kPeer), Optional(absl::Seconds(1)));
}

TEST(LoginThrottle, WindowPassedIsAllowedAgain) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("ada", kPeer);
  ASSERT_NE(throttle.Check("ada", kPeer), std::nullopt);
  clock.Advance(
      absl::Minutes(5));  // a failure at t counts while now - t < window
  EXPECT_EQ(throttle.Check("ada", kPeer), std::nullopt);
}

TEST(LoginThrottle, SlidingWindowReleasesOneFailureAtATime) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  throttle.RecordFailure("ada", kPeer);  // t = 0
  clock.Advance(absl::Seconds(100));
  throttle.RecordFailure("ada", kPeer);  // t = 100
  throttle.RecordFailure("ada", kPeer);  // t = 100
  clock.Set(kStart + absl::Seconds(300));
  EXPECT_EQ(throttle.Check("ada", kPeer), std::nullopt);  // the t = 0 one left
  throttle.RecordFailure("ada", kPeer);  // t = 300: three again
  // Now the oldest in the window is at t = 100: free at t = 400.
  EXPECT_THAT(throttle.Check("ada", kPeer), Optional(absl::Seconds(100)));
}

TEST(LoginThrottle, FailuresBeyondLimitWaitForTheFailureThatFreesASlot) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  for (int i = 0; i < 5; ++i) {  // t = 0, 10, 20, 30, 40: two over the limit
    throttle.RecordFailure("ada", kPeer);
    clock.Advance(absl::Seconds(10));
  }
  // now = 50. Below the limit again once t = 20 leaves, at t = 320.
  EXPECT_THAT(throttle.Check("ada", kPeer), Optional(absl::Seconds(270)));
}

TEST(LoginThrottle, SuccessClearsUsernameButNotPeer) {
  FakeClock clock(kStart);
  ThrottleOptions options = SmallOptions();
  options.max_failures_per_peer = 3;
  LoginThrottle throttle(options, clock.AsClock());
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("ada", kPeer);
  throttle.RecordSuccess("ada");
  // The username is clear (seen from another peer) ...
  EXPECT_EQ(throttle.Check("ada", kOtherPeer), std::nullopt);
  // ... but the peer still carries its three failures.
  EXPECT_THAT(throttle.Check("ada", kPeer), Optional(absl::Seconds(300)));
  EXPECT_THAT(throttle.Check("bob", kPeer), Optional(absl::Seconds(300)));
}

TEST(LoginThrottle, OtherUsernamesFromAnotherPeerAreUnaffected) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("ada", kPeer);
  EXPECT_NE(throttle.Check("ada", kPeer), std::nullopt);
  EXPECT_EQ(throttle.Check("bob", kOtherPeer), std::nullopt);
  EXPECT_EQ(throttle.Check("bob", kPeer),
            std::nullopt);  // peer below its limit
}

TEST(LoginThrottle, ThrottledUsernameIsThrottledFromEveryPeer) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("ada", kPeer);
  EXPECT_THAT(throttle.Check("ada", kOtherPeer), Optional(absl::Seconds(300)));
}

TEST(LoginThrottle, PeerLimitHoldsAcrossManyUsernames) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  for (int i = 0; i < 10; ++i) {
    const std::string user = absl::StrCat("user", i);
    ASSERT_EQ(throttle.Check(user, kPeer), std::nullopt) << i;
    throttle.RecordFailure(user, kPeer);
    clock.Advance(absl::Seconds(1));
  }
  // A username never tried before is refused from that peer ...
  EXPECT_THAT(throttle.Check("fresh", kPeer), Optional(absl::Seconds(290)));
  // ... but not from elsewhere.
  EXPECT_EQ(throttle.Check("fresh", kOtherPeer), std::nullopt);
}

TEST(LoginThrottle, Ipv6PeersAreKeyedByTheirSlash64) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  // Ten addresses of one /64, each used once: one peer budget between them.
  for (int i = 0; i < 10; ++i) {
    const std::string peer = absl::StrCat("ipv6:[2001:db8:0:7:", i + 1, "::]");
    ASSERT_EQ(throttle.Admit(absl::StrCat("user", i), peer), std::nullopt);
  }
  EXPECT_NE(throttle.Check("fresh", "ipv6:[2001:db8::7:ffff:ffff:ffff:1]"),
            std::nullopt);
  // The next /64, IPv4 and IPv4-mapped addresses are other peers.
  EXPECT_EQ(throttle.Check("fresh", "ipv6:[2001:db8:0:8::1]"), std::nullopt);
  EXPECT_EQ(throttle.Check("fresh", "ipv4:10.0.0.9"), std::nullopt);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(
        throttle.Admit(absl::StrCat("v4user", i), "ipv6:[::ffff:10.0.0.1]"),
        std::nullopt);
  }
  EXPECT_NE(throttle.Check("fresh", "ipv6:[::ffff:10.0.0.1]"), std::nullopt);
  EXPECT_EQ(throttle.Check("fresh", "ipv6:[::ffff:10.0.0.2]"), std::nullopt);
}

TEST(LoginThrottle, LongerOfUserAndPeerWaitIsReported) {
  FakeClock clock(kStart);
  ThrottleOptions options = SmallOptions();
  options.max_failures_per_peer = 3;
  LoginThrottle throttle(options, clock.AsClock());
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("ada", kPeer);  // t = 0
  clock.Advance(absl::Seconds(60));
  for (int i = 0; i < 3; ++i)
    throttle.RecordFailure("bob", kOtherPeer);  // t = 60
  // ada from kOtherPeer: user wait 240 s, peer wait 300 s.
  EXPECT_THAT(throttle.Check("ada", kOtherPeer), Optional(absl::Seconds(300)));
}

TEST(LoginThrottle, UsernameAndPeerKeysDoNotCollide) {
  FakeClock clock(kStart);
  ThrottleOptions options = SmallOptions();
  options.max_failures_per_peer = 100;
  LoginThrottle throttle(options, clock.AsClock());
  // A username spelled like a peer address counts against that username only.
  for (int i = 0; i < 3; ++i) throttle.RecordFailure(kPeer, kOtherPeer);
  EXPECT_NE(throttle.Check(kPeer, "ipv4:192.0.2.1:1"), std::nullopt);
  EXPECT_EQ(throttle.Check("ada", kPeer), std::nullopt);
}

TEST(LoginThrottle, MaxKeysBoundHolds) {
  FakeClock clock(kStart);
  ThrottleOptions options = SmallOptions();
  options.max_keys = 50;
  LoginThrottle throttle(options, clock.AsClock());
  for (int i = 0; i < 1000; ++i) {
    throttle.RecordFailure(
        absl::StrCat("user", i),
        absl::StrCat("ipv4:10.0.", i / 250, ".", i % 250, ":1"));
    ASSERT_LE(throttle.tracked_keys(), 50u) << i;
    throttle.Check(absl::StrCat("probe", i), kPeer);
    ASSERT_LE(throttle.tracked_keys(), 50u) << i;
  }
  EXPECT_EQ(throttle.tracked_keys(), 50u);
}

TEST(LoginThrottle, LeastRecentlyTouchedKeyIsEvictedFirst) {
  FakeClock clock(kStart);
  ThrottleOptions options = SmallOptions();
  options.max_keys = 4;
  LoginThrottle throttle(options, clock.AsClock());
  for (int i = 0; i < 3; ++i)
    throttle.RecordFailure("ada", kPeer);     // user:ada, peer:kPeer
  throttle.RecordFailure("bob", kOtherPeer);  // 4 keys
  ASSERT_EQ(throttle.tracked_keys(), 4u);
  ASSERT_NE(throttle.Check("ada", kOtherPeer),
            std::nullopt);                              // touches user:ada
  throttle.RecordFailure("carol", "ipv4:192.0.2.9:1");  // evicts the two oldest
  EXPECT_EQ(throttle.tracked_keys(), 4u);
  EXPECT_NE(throttle.Check("ada", "ipv4:192.0.2.10:1"), std::nullopt);  // kept
}

TEST(LoginThrottle, ExpiredKeysAreForgottenOnCheck) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  throttle.RecordFailure("ada", kPeer);
  ASSERT_EQ(throttle.tracked_keys(), 2u);
  clock.Advance(absl::Minutes(6));
  EXPECT_EQ(throttle.Check("ada", kPeer), std::nullopt);
  EXPECT_EQ(throttle.tracked_keys(), 0u);
}

TEST(LoginThrottle, SuccessOfUnknownUsernameIsHarmless) {
  FakeClock clock(kStart);
  LoginThrottle throttle(SmallOptions(), clock.AsClock());
  throttle.RecordSuccess("nobody");
  EXPECT_EQ(throttle.tracked_keys(), 0u);
}

TEST(LoginThrottle, ConcurrentFailuresAreCountedExactly) {
  FakeClock clock(kStart);
  ThrottleOptions options = SmallOptions();
  options.max_failures_per_username = 800;
  options.max_failures_per_peer = 800;
  LoginThrottle throttle(options, clock.AsClock());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        throttle.RecordFailure("ada", kPeer);
        throttle.Check("ada", kPeer);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // Exactly 800 failures: at the limit of 800, and 799 would not be.
  EXPECT_THAT(throttle.Check("ada", kPeer), Optional(absl::Seconds(300)));
  ThrottleOptions one_more = options;
  one_more.max_failures_per_username = 801;
  one_more.max_failures_per_peer = 801;
  LoginThrottle check(one_more, clock.AsClock());
  std::vector<std::thread> again;
  for (int t = 0; t < kThreads; ++t) {
    again.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) check.RecordFailure("ada", kPeer);
    });
  }
  for (std::thread& t : again) t.join();
  EXPECT_EQ(check.Check("ada", kPeer), std::nullopt);
  check.RecordFailure("ada", kPeer);
  EXPECT_NE(check.Check("ada", kPeer), std::nullopt);
}

TEST(LoginThrottleAdmit, ConcurrentAttemptsAreAdmittedExactlyUpToTheLimit) {
  jwtauth::testing::FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  ThrottleOptions o;
  o.max_failures_per_username = 5;
  o.max_failures_per_peer = 1000;
  LoginThrottle throttle(o, clock.AsClock());
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (!throttle.Admit("ada", absl::StrCat("peer", t)).has_value())
          ++admitted;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 5);
}

TEST(LoginThrottleAdmit, SuccessTakesBackTheAttemptAndClearsTheUser) {
  jwtauth::testing::FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  ThrottleOptions o;
  o.max_failures_per_username = 3;
  o.max_failures_per_peer = 3;
  LoginThrottle throttle(o, clock.AsClock());
  EXPECT_FALSE(throttle.Admit("ada", "p").has_value());  // a failure
  EXPECT_FALSE(throttle.Admit("ada", "p").has_value());  // another
  EXPECT_FALSE(throttle.Admit("bob", "p").has_value());
  throttle.Succeeded("bob", "p");  // bob logged in: his attempt does not count
  EXPECT_FALSE(
      throttle.Admit("carol", "p").has_value());  // peer at 3: ada, ada, carol
  EXPECT_TRUE(throttle.Admit("dave", "p").has_value());
  EXPECT_FALSE(
      throttle.Admit("ada", "q").has_value());  // ada at 2 of 3, from elsewhere
  EXPECT_TRUE(throttle.Admit("ada", "q").has_value());  // now 3
}

TEST(LoginThrottleAdmit, WithdrawTakesBackOneAttemptOnly) {
  jwtauth::testing::FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  ThrottleOptions o;
  o.max_failures_per_username = 2;
  LoginThrottle throttle(o, clock.AsClock());
  EXPECT_FALSE(throttle.Admit("ada", "p").has_value());  // a real failure
  EXPECT_FALSE(throttle.Admit("ada", "p").has_value());  // store was down:
  throttle.Withdraw("ada", "p");                         // ...taken back
  EXPECT_FALSE(throttle.Admit("ada", "p").has_value());  // second failure
  EXPECT_TRUE(throttle.Admit("ada", "p").has_value());   // limit reached
}

}  // namespace
}  // namespace jwtauth::server
