// Concurrent logins, verifications and refreshes through TokenService on a
// real SQLite store, with no gRPC in between, so ThreadSanitizer sees every
// lock involved (the TSan stage of scripts/test runs it). Also checks the
// outcomes: throttling of one name never locks out another.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "jwt/key_loader.h"
#include "jwt/key_set.h"
#include "server/auth_error.h"
#include "server/password_hasher.h"
#include "server/sqlite_user_store.h"
#include "server/token_service.h"
#include "tests/testing/temp_dir.h"

namespace jwtauth::server {
namespace {

constexpr char kSecret[] = "concurrency-test-secret-of-at-least-32-bytes!";

class TokenServiceConcurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *SqliteUserStore::Open(dir_.File("users.sqlite3"));
    for (const char* name : {"alice", "bob", "carol"}) {
      NewUser u;
      u.username = name;
      u.email = absl::StrCat(name, "@example.com");
      u.password_hash = *hasher_.Hash(absl::StrCat(name, "-password"));
      ASSERT_TRUE(store_->CreateUser(u).ok());
    }
    TokenSettings settings;
    settings.allow_refresh = true;
    ThrottleOptions throttle;
    throttle.max_failures_per_username = 5;
    throttle.max_failures_per_peer = 1000;
    tokens_ = *TokenService::Create(
        settings,
        *jwt::KeySet::Create(
            {*jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, kSecret)}),
        store_.get(), hasher_, throttle, jwt::SystemClock());
  }

  testing::TempDir dir_;
  PasswordHasher hasher_{1000};
  std::unique_ptr<SqliteUserStore> store_;
  std::unique_ptr<TokenService> tokens_;
};

TEST_F(TokenServiceConcurrency,
       ParallelLoginsVerifiesAndAttackOnOneNameStayConsistent) {
  constexpr int kRounds = 15;
  std::atomic<int> good_logins{0}, verified{0}, refreshed{0}, unexpected{0};
  std::atomic<int> bob_bad_credentials{0}, bob_throttled{0};
  std::vector<std::thread> threads;
  // Legitimate users, each on their own peer: obtain, verify, refresh.
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string user = t % 2 == 0 ? "alice" : "carol";
      const std::string peer = absl::StrCat("ipv4:10.0.0.", t);
      for (int i = 0; i < kRounds; ++i) {
        absl::StatusOr<IssuedToken> issued =
            tokens_->Obtain(user, user + "-password", peer);
        if (!issued.ok()) {
          ++unexpected;
          continue;
        }
        ++good_logins;
        if (tokens_->Verify(issued->token).ok())
          ++verified;
        else
          ++unexpected;
        if (tokens_->Refresh(issued->token).ok())
          ++refreshed;
        else
          ++unexpected;
      }
    });
  }
  // An attack on "bob" from several peers at once.
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      const std::string peer = absl::StrCat("ipv4:192.0.2.", t);
      for (int i = 0; i < kRounds; ++i) {
        absl::StatusOr<IssuedToken> issued =
            tokens_->Obtain("bob", "wrong", peer);
        const std::optional<std::string> reason = ReasonOf(issued.status());
        if (reason == "BAD_CREDENTIALS") {
          ++bob_bad_credentials;
        } else if (reason == "THROTTLED") {
          ++bob_throttled;
        } else {
          ++unexpected;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(good_logins.load(), 4 * kRounds);
  EXPECT_EQ(verified.load(), 4 * kRounds);
  EXPECT_EQ(refreshed.load(), 4 * kRounds);
  // Exactly the allowed failures are checked; every other attempt is
  // throttled before any hash.
  EXPECT_EQ(bob_bad_credentials.load(), 5);
  EXPECT_EQ(bob_throttled.load(), 3 * kRounds - 5);
}

}  // namespace
}  // namespace jwtauth::server
