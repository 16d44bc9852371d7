// Tests for the verified-token cache: bounded, never serves expired entries.
#include "interceptors/token_cache.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace jwtauth::interceptors {
namespace {

using ::jwtauth::testing::FakeClock;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

std::shared_ptr<const Caller> CallerExpiring(absl::Time exp,
                                             std::string name = "ada") {
  auto c = std::make_shared<Caller>();
  c->username = std::move(name);
  c->expires_at = exp;
  return c;
}

TEST(TokenCache, HitReturnsStoredCaller) {
  FakeClock clock(kNow);
  TokenCache cache({}, clock.AsClock());
  cache.Insert("t1", CallerExpiring(kNow + absl::Minutes(5)));
  ASSERT_NE(cache.Lookup("t1"), nullptr);
  EXPECT_EQ(cache.Lookup("t1")->username, "ada");
  EXPECT_EQ(cache.Lookup("t2"), nullptr);
  TokenCacheStats s = cache.Stats();
  EXPECT_EQ(s.size, 1u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_NEAR(s.hit_ratio(), 2.0 / 3.0, 1e-9);
}

TEST(TokenCache, EntryIsNeverServedAtOrAfterExp) {
  FakeClock clock(kNow);
  TokenCache cache({}, clock.AsClock());
  cache.Insert("t", CallerExpiring(kNow + absl::Seconds(10)));
  clock.Advance(absl::Seconds(9));
  EXPECT_NE(cache.Lookup("t"), nullptr);
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(cache.Lookup("t"), nullptr);
  EXPECT_EQ(cache.Stats().size, 0u);
}

TEST(TokenCache, AlreadyExpiredCallerIsNotStored) {
  FakeClock clock(kNow);
  TokenCache cache({}, clock.AsClock());
  cache.Insert("t", CallerExpiring(kNow));
  EXPECT_EQ(cache.Stats().size, 0u);
}

TEST(TokenCache, MaxAgeBoundsServingTime) {
  FakeClock clock(kNow);
  TokenCache cache({100, absl::Seconds(5)}, clock.AsClock());
  cache.Insert("t", CallerExpiring(kNow + absl::Hours(1)));
  clock.Advance(absl::Seconds(4));
  EXPECT_NE(cache.Lookup("t"), nullptr);
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(cache.Lookup("t"), nullptr);
}

TEST(TokenCache, SizeNeverExceedsCapacity) {
  FakeClock clock(kNow);
  TokenCache cache({160, absl::InfiniteDuration()}, clock.AsClock());
  for (int i = 0; i < 5000; ++i) {
    cache.Insert(absl::StrCat("token-", i),
                 CallerExpiring(kNow + absl::Hours(1)));
    ASSERT_LE(cache.Stats().size, 160u);
  }
  EXPECT_GT(cache.Stats().size, 100u);
}

TEST(TokenCache, ZeroCapacityDisablesCache) {
  FakeClock clock(kNow);
  TokenCache cache({0, absl::InfiniteDuration()}, clock.AsClock());
  cache.Insert("t", CallerExpiring(kNow + absl::Hours(1)));
  EXPECT_EQ(cache.Lookup("t"), nullptr);
  EXPECT_EQ(cache.Stats().size, 0u);
}

TEST(TokenCache, ConcurrentUseIsConsistent) {
  FakeClock clock(kNow);
  TokenCache cache({1000, absl::InfiniteDuration()}, clock.AsClock());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = absl::StrCat("k", (i * 7 + t) % 300);
        cache.Insert(key, CallerExpiring(kNow + absl::Hours(1), key));
        std::shared_ptr<const Caller> c = cache.Lookup(key);
        if (c != nullptr) {
          EXPECT_EQ(c->username, key);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.Stats().size, 1000u);
}

}  // namespace
}  // namespace jwtauth::interceptors
