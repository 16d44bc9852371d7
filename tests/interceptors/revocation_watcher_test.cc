// Tests of local-mode revocation: a RevocationWatcher following a real auth
// server's WatchRevocations (AuthServiceImpl + TokenService + SqliteUserStore
// + RevocationFeed), a protected service validating locally with it, and the
// watcher's own bookkeeping (snapshot replacement, expiry, the max_entries
// bound, staleness) driven with an injected clock.
#include "interceptors/revocation_watcher.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/auth_client.h"
#include "common/worker_pool.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "interceptors/server_auth.h"
#include "interceptors/token_validator.h"
#include "jwt/key_loader.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "server/auth_service.h"
#include "server/revocation_feed.h"
#include "server/sqlite_user_store.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_util.h"

namespace jwtauth::interceptors {
namespace {

namespace ev1 = ::jwtauth::examples::v1;
using ::jwtauth::testing::Eventually;
using ::jwtauth::testing::FakeClock;
using ::jwtauth::testing::TempDir;
using ::testing::HasSubstr;

const std::string kSecret = "revocation watcher test secret, 32+ bytes";
jwt::Key Key() {
  return *jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, kSecret);
}

class EchoProfile final : public ev1::Profile::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const ev1::EchoRequest* req,
                                 ev1::EchoResponse* resp) override {
    resp->set_message(req->message());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

// AuthServer: the real auth server on a SQLite file, restartable on a port.
class AuthServer {
 public:
  AuthServer(const std::string& db, const FakeClock& clock, int port = 0,
             server::RevocationFeedOptions feed_options = {},
             size_t max_revoked_tokens_per_user = 100) {
    store_ = *server::SqliteUserStore::Open(db);
    server::TokenSettings settings;
    settings.expiration_delta = absl::Seconds(300);
    settings.max_revoked_tokens_per_user = max_revoked_tokens_per_user;
    tokens_ = *server::TokenService::Create(
        settings, *jwt::KeySet::Create({Key()}), store_.get(),
        server::PasswordHasher(1000), {}, clock.AsClock());
    feed_ = std::make_unique<server::RevocationFeed>(
        store_.get(), clock.AsClock(), feed_options);
    feed_->Start();
    service_ = std::make_unique<server::AuthServiceImpl>(tokens_.get(), &pool_);
    service_->set_revocation_feed(feed_.get());
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port),
                             grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
  }
  ~AuthServer() {
    feed_->Stop();  // watch streams never end by themselves
    server_->Shutdown();
  }
  int port() const { return port_; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  server::TokenService& tokens() { return *tokens_; }
  server::UserStore& store() { return *store_; }

 private:
  std::unique_ptr<server::SqliteUserStore> store_;
  std::unique_ptr<server::TokenService> tokens_;
  std::unique_ptr<server::RevocationFeed> feed_;
  common::WorkerPool pool_{2, 64};
  std::unique_ptr<server::AuthServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

class RevocationWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_ = std::make_unique<AuthServer>(db_, clock_);
    for (const char* name : {"ada", "bob"}) {
      server::NewUser u;
      u.username = name;
      u.password_hash = *server::PasswordHasher(1000).Hash("pw");
      ASSERT_TRUE(auth_->store().CreateUser(u).ok());
    }
    RevocationWatcherOptions o;
    o.initial_backoff = absl::Milliseconds(50);
    o.max_backoff = absl::Milliseconds(400);
    watcher_ = std::make_shared<RevocationWatcher>(o, clock_.AsClock());
    watcher_->Start(grpc::CreateChannel(auth_->address(),
                                        grpc::InsecureChannelCredentials()));
    ASSERT_TRUE(Eventually([&] { return watcher_->synced(); }));

    validator_ =
        LocalValidator(*jwt::Verifier::Create(*jwt::KeySet::Create({Key()}), {},
                                              clock_.AsClock()),
                       {}, clock_.AsClock(), watcher_);
    ServerAuthOptions so;
    so.validator = validator_;
    so.set_default = false;
    protected_auth_ = *ServerAuth::Create(so);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0",
                             protected_auth_->InsecureCredentials(), &port);
    builder.RegisterService(&profile_);
    protected_server_ = builder.BuildAndStart();
    profile_stub_ = ev1::Profile::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    auth_stub_ = jwtauth::v1::AuthService::NewStub(grpc::CreateChannel(
        auth_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    watcher_->Stop();
    protected_server_->Shutdown();
    auth_.reset();
  }

  std::string Obtain(const std::string& user) {
    absl::StatusOr<server::IssuedToken> t =
        auth_->tokens().Obtain(user, "pw", "test");
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token : "";
  }

  grpc::Status Echo(const std::string& token) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "JWT " + token);
    ev1::EchoRequest req;
    req.set_message("hi");
    ev1::EchoResponse resp;
    return profile_stub_->Echo(&ctx, req, &resp);
  }

  grpc::Status Revoke(const std::string& token, bool all_sessions) {
    grpc::ClientContext ctx;
    jwtauth::v1::RevokeTokenRequest req;
    req.set_token(token);
    req.set_all_sessions(all_sessions);
    jwtauth::v1::RevokeTokenResponse resp;
    return auth_stub_->RevokeToken(&ctx, req, &resp);
  }

  std::shared_ptr<const Caller> CallerOf(const std::string& token) {
    absl::StatusOr<jwt::VerifiedJwt> jwt =
        jwt::Verifier::Create(*jwt::KeySet::Create({Key()}), {},
                              clock_.AsClock())
            ->Verify(token);
    EXPECT_TRUE(jwt.ok()) << jwt.status();
    return CallerFromClaims(jwt->claims());
  }

  bool Revoked(const std::string& token) {
    std::shared_ptr<const Caller> c = CallerOf(token);
    return watcher_->IsRevoked(c->jti, c->user_id, c->generation);
  }

  TempDir dir_;
  const std::string db_ = dir_.File("users.sqlite3");
  FakeClock clock_{absl::Now()};
  std::unique_ptr<AuthServer> auth_;
  std::shared_ptr<RevocationWatcher> watcher_;
  std::shared_ptr<TokenValidator> validator_;
  std::shared_ptr<ServerAuth> protected_auth_;
  EchoProfile profile_;
  std::unique_ptr<grpc::Server> protected_server_;
  std::unique_ptr<ev1::Profile::Stub> profile_stub_;
  std::unique_ptr<jwtauth::v1::AuthService::Stub> auth_stub_;
};

TEST_F(RevocationWatcherTest, RevokedTokensAreRefusedWithinASecond) {
  constexpr int kRevocations = 20;
  std::vector<double> delays_ms;
  for (int i = 0; i < kRevocations; ++i) {
    const std::string token = Obtain("ada");
    ASSERT_TRUE(Echo(token).ok());  // now in the protected service's cache
    ASSERT_TRUE(Revoke(token, false).ok());
    const absl::Time revoked_at = absl::Now();
    ASSERT_TRUE(Eventually([&] { return Revoked(token); }));
    delays_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - revoked_at));
    // A cache hit, refused.
    grpc::Status s = Echo(token);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(s.error_message(), "Token is blacklisted.");
  }
  std::sort(delays_ms.begin(), delays_ms.end());
  const double median = delays_ms[delays_ms.size() / 2];
  const double max = delays_ms.back();
  std::printf(
      "propagation RevokeToken -> IsRevoked over %d revocations: "
      "median %.1f ms, max %.1f ms\n",
      kRevocations, median, max);
  EXPECT_LT(max, 1000.0);
  EXPECT_EQ(watcher_->Stats().entries, static_cast<size_t>(kRevocations));
  EXPECT_NE(watcher_->Stats().last_event, absl::InfinitePast());
}

TEST_F(RevocationWatcherTest, CacheHitOfRevokedTokenIsRefusedWithReason) {
  const std::string token = Obtain("ada");
  ASSERT_TRUE(validator_->Validate(token).ok());
  ASSERT_NE(validator_->Cached(token), nullptr);
  ASSERT_TRUE(Revoke(token, false).ok());
  ASSERT_TRUE(Eventually([&] { return Revoked(token); }));
  absl::StatusOr<std::shared_ptr<const Caller>> caller =
      validator_->Validate(token);
  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(caller.status().message(), "Token is blacklisted.");
  EXPECT_EQ(client::ErrorReason(caller.status()), "TOKEN_REVOKED");
  EXPECT_EQ(validator_->Cached(token), nullptr);
  EXPECT_GE(validator_->CacheStats().hits, 1u);
}

TEST_F(RevocationWatcherTest, LogOutEverywhereRefusesOnlyThatUsersTokens) {
  const std::string ada1 = Obtain("ada");
  const std::string ada2 = Obtain("ada");
  const std::string bob = Obtain("bob");
  for (const std::string* t : {&ada1, &ada2, &bob}) ASSERT_TRUE(Echo(*t).ok());
  ASSERT_TRUE(Revoke(ada1, true).ok());
  ASSERT_TRUE(Eventually([&] { return Revoked(ada2); }));
  EXPECT_TRUE(Revoked(ada1));
  EXPECT_EQ(Echo(ada1).error_message(), "Token is blacklisted.");
  EXPECT_EQ(Echo(ada2).error_message(), "Token is blacklisted.");
  EXPECT_TRUE(Echo(bob).ok());
  // A token issued after log-out-everywhere carries the new generation.
  const std::string ada3 = Obtain("ada");
  EXPECT_FALSE(Revoked(ada3));
  EXPECT_TRUE(Echo(ada3).ok());
}

// One account looping Obtain (or Refresh) and Revoke adds at most the
// server's per-user cap to every watcher's set; the rest of its revocations
// are generation bumps, one entry per user.
TEST_F(RevocationWatcherTest, OneAccountFloodingRevocations_AddsAtMostTheCap) {
  const int port = auth_->port();
  auth_.reset();
  ASSERT_TRUE(Eventually([&] { return !watcher_->Stats().connected; }));
  auth_ = std::make_unique<AuthServer>(db_, clock_, port,
                                       server::RevocationFeedOptions(), 3);
  ASSERT_TRUE(Eventually([&] { return watcher_->Stats().connected; }));
  const std::string bob = Obtain("bob");
  std::vector<std::string> flood;
  for (int i = 0; i < 20; ++i) {
    flood.push_back(Obtain("ada"));
    ASSERT_TRUE(Revoke(flood.back(), false).ok());
  }
  // Once the watcher lists ada with her latest generation (a token of it
  // passes), it has every delta: the jtis came before the bumps.
  const std::string fresh = Obtain("ada");
  ASSERT_TRUE(Eventually(
      [&] { return watcher_->Stats().users == 1 && !Revoked(fresh); }));
  EXPECT_EQ(watcher_->Stats().entries, 3u);
  EXPECT_EQ(watcher_->Stats().users, 1u);
  for (const std::string& t : flood) EXPECT_TRUE(Revoked(t));
  EXPECT_FALSE(Revoked(bob));
  EXPECT_TRUE(Echo(bob).ok());
  EXPECT_TRUE(Echo(fresh).ok());
}

TEST_F(RevocationWatcherTest, ResynchronisesAfterTheAuthServerRestarts) {
  const std::string before = Obtain("ada");
  const std::string during = Obtain("ada");
  const std::string kept = Obtain("ada");
  ASSERT_TRUE(Revoke(before, false).ok());
  ASSERT_TRUE(Eventually([&] { return Revoked(before); }));

  const int port = auth_->port();
  auth_.reset();
  ASSERT_TRUE(Eventually([&] { return !watcher_->Stats().connected; }));
  // Revoked while the watcher cannot hear about it (the same SQLite file).
  {
    std::unique_ptr<server::SqliteUserStore> store =
        *server::SqliteUserStore::Open(db_);
    std::unique_ptr<server::TokenService> tokens =
        *server::TokenService::Create({}, *jwt::KeySet::Create({Key()}),
                                      store.get(), server::PasswordHasher(1000),
                                      {}, clock_.AsClock());
    ASSERT_TRUE(tokens->Revoke(during, false).ok());
  }
  // Fail open while down: the last known set is still enforced.
  EXPECT_TRUE(Revoked(before));
  EXPECT_FALSE(watcher_->stale());

  auth_ = std::make_unique<AuthServer>(db_, clock_, port);
  ASSERT_EQ(auth_->port(), port);
  const absl::Time restarted = absl::Now();
  ASSERT_TRUE(Eventually([&] { return Revoked(during); }));
  std::printf("resynchronised %.0f ms after the restart\n",
              absl::ToDoubleMilliseconds(absl::Now() - restarted));
  EXPECT_TRUE(Revoked(before));
  EXPECT_FALSE(Revoked(kept));
  EXPECT_TRUE(watcher_->Stats().connected);
  EXPECT_GE(watcher_->Stats().reconnects, 1u);
  EXPECT_EQ(Echo(during).error_message(), "Token is blacklisted.");
  EXPECT_TRUE(Echo(kept).ok());
}

TEST_F(RevocationWatcherTest, SnapshotInSeveralMessages_IsTakenWhole) {
  std::vector<std::string> revoked;
  for (int i = 0; i < 5; ++i) {
    revoked.push_back(Obtain(i % 2 == 0 ? "ada" : "bob"));
    ASSERT_TRUE(Revoke(revoked.back(), false).ok());
  }
  const std::string kept = Obtain("ada");
  ASSERT_TRUE(Eventually([&] { return watcher_->Stats().entries == 5; }));
  const uint64_t reconnects = watcher_->Stats().reconnects;

  const int port = auth_->port();
  auth_.reset();
  ASSERT_TRUE(Eventually([&] { return !watcher_->Stats().connected; }));
  server::RevocationFeedOptions chunked;
  chunked.chunk = 2;  // the five jtis in three messages
  auth_ = std::make_unique<AuthServer>(db_, clock_, port, chunked);
  // Connected means the message that completes the snapshot arrived.
  ASSERT_TRUE(Eventually([&] { return watcher_->Stats().connected; }));
  EXPECT_GT(watcher_->Stats().reconnects, reconnects);
  EXPECT_EQ(watcher_->Stats().entries, 5u);
  for (const std::string& token : revoked) EXPECT_TRUE(Revoked(token));
  EXPECT_FALSE(Revoked(kept));
}

TEST_F(RevocationWatcherTest, MaxStalenessCountsFromTheLostConnection) {
  RevocationWatcherOptions o;
  o.initial_backoff = absl::Milliseconds(10);
  o.max_backoff = absl::Milliseconds(20);
  o.max_staleness = absl::Seconds(30);
  RevocationWatcher w(o, clock_.AsClock());
  w.Start(auth_->address(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(Eventually([&] { return w.Stats().connected; }));
  Caller caller;
  caller.jti = "x";
  EXPECT_TRUE(CheckRevocation(w, caller).ok());

  const int port = auth_->port();
  auth_.reset();
  ASSERT_TRUE(Eventually([&] { return !w.Stats().connected; }));
  clock_.Advance(absl::Seconds(29));
  EXPECT_FALSE(w.stale());  // fail open within max_staleness
  clock_.Advance(absl::Seconds(2));
  // Failed reconnection attempts do not restart the count.
  const uint64_t attempts = w.Stats().reconnects;
  ASSERT_TRUE(Eventually([&] { return w.Stats().reconnects >= attempts + 2; }));
  EXPECT_TRUE(w.stale());
  EXPECT_TRUE(w.IsRevoked("anything", 1, 0));
  EXPECT_EQ(CheckRevocation(w, caller).code(), absl::StatusCode::kUnavailable);

  auth_ = std::make_unique<AuthServer>(db_, clock_, port);
  const absl::Time restarted = absl::Now();
  ASSERT_TRUE(Eventually([&] { return w.Stats().connected; }));
  std::printf("resynchronised %.0f ms after the restart\n",
              absl::ToDoubleMilliseconds(absl::Now() - restarted));
  EXPECT_FALSE(w.stale());
  EXPECT_TRUE(CheckRevocation(w, caller).ok());
  w.Stop();
}

TEST_F(RevocationWatcherTest, StopEndsTheStreamPromptly) {
  const absl::Time start = absl::Now();
  watcher_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  watcher_->Stop();  // idempotent
}

// Bookkeeping, without a server: messages applied directly.

using Jtis = std::vector<std::pair<std::string, absl::Time>>;
using Users = std::vector<std::pair<int64_t, int64_t>>;

// Events builds one message: Events(true, ...) is a whole snapshot in one
// message, Events(false, ...) a delta or a middle chunk of a snapshot.
jwtauth::v1::RevocationEvents Events(bool snapshot, const Jtis& jtis,
                                     const Users& users = {}) {
  jwtauth::v1::RevocationEvents e;
  e.set_snapshot(snapshot);
  e.set_snapshot_complete(snapshot);
  for (const auto& [jti, exp] : jtis) {
    jwtauth::v1::RevokedToken* t = e.add_tokens();
    t->set_jti(jti);
    *t->mutable_expires_at() =
        google::protobuf::util::TimeUtil::SecondsToTimestamp(
            absl::ToUnixSeconds(exp));
  }
  for (const auto& [user, gen] : users) {
    jwtauth::v1::UserGeneration* g = e.add_users();
    g->set_user_id(absl::StrCat(user));
    g->set_generation(gen);
  }
  return e;
}

// FirstChunk and LastChunk: a snapshot sent in several messages.
jwtauth::v1::RevocationEvents FirstChunk(const Jtis& jtis,
                                         const Users& users = {}) {
  jwtauth::v1::RevocationEvents e = Events(true, jtis, users);
  e.set_snapshot_complete(false);
  return e;
}
jwtauth::v1::RevocationEvents LastChunk(const Jtis& jtis,
                                        const Users& users = {}) {
  jwtauth::v1::RevocationEvents e = Events(false, jtis, users);
  e.set_snapshot_complete(true);
  return e;
}

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

TEST(RevocationWatcherBookkeeping, ExpiredEntriesAreDropped) {
  FakeClock clock(kT0);
  RevocationWatcher w({}, clock.AsClock());
  w.Apply(Events(true, {{"soon", kT0 + absl::Seconds(10)},
                        {"later", kT0 + absl::Seconds(100)},
                        {"gone", kT0 - absl::Seconds(1)}}),
          true);
  EXPECT_EQ(w.Stats().entries, 2u);  // "gone" had already expired
  EXPECT_TRUE(w.IsRevoked("soon", std::nullopt, 0));
  clock.Advance(absl::Seconds(11));
  w.DropExpired();
  EXPECT_EQ(w.Stats().entries, 1u);
  EXPECT_EQ(w.Stats().dropped_expired, 1u);
  EXPECT_FALSE(w.IsRevoked("soon", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("later", std::nullopt, 0));
}

TEST(RevocationWatcherBookkeeping, MaxEntriesDropsTheSoonestExpiring) {
  FakeClock clock(kT0);
  RevocationWatcherOptions o;
  o.max_entries = 10;
  RevocationWatcher w(o, clock.AsClock());
  w.Apply(Events(true, {}), true);
  for (int i = 0; i < 100; ++i) {
    // Expiries out of order: i = 0..99 expire at kT0 + (i*37 % 100 + 1) s.
    w.Apply(Events(false, {{absl::StrCat("j", i),
                            kT0 + absl::Seconds((i * 37) % 100 + 1)}}),
            false);
    ASSERT_LE(w.Stats().entries, 10u);
  }
  EXPECT_EQ(w.Stats().entries, 10u);
  EXPECT_EQ(w.Stats().dropped_over_capacity, 90u);
  // Kept: the ten expiring last (offsets 91..100 s).
  for (int i = 0; i < 100; ++i) {
    const bool late = (i * 37) % 100 + 1 > 90;
    EXPECT_EQ(w.IsRevoked(absl::StrCat("j", i), std::nullopt, 0), late) << i;
  }
}

TEST(RevocationWatcherBookkeeping, LargeSetsStayWithinMaxEntries) {
  FakeClock clock(kT0);
  RevocationWatcherOptions o;
  o.max_entries = 2'000;  // sharded
  RevocationWatcher w(o, clock.AsClock());
  std::vector<std::pair<std::string, absl::Time>> jtis;
  for (int i = 0; i < 5'000; ++i)
    jtis.push_back({absl::StrCat("j", i), kT0 + absl::Seconds(i + 1)});
  w.Apply(Events(true, jtis), true);
  EXPECT_LE(w.Stats().entries, 2'000u);
  EXPECT_EQ(w.Stats().entries + w.Stats().dropped_over_capacity, 5'000u);
  EXPECT_TRUE(w.IsRevoked("j4999", std::nullopt, 0));  // the latest expiry
}

TEST(RevocationWatcherBookkeeping, SnapshotReplacesDeltasAdd) {
  FakeClock clock(kT0);
  RevocationWatcher w({}, clock.AsClock());
  EXPECT_FALSE(w.synced());
  const absl::Time exp = kT0 + absl::Hours(1);
  w.Apply(Events(true, {{"a", exp}}, {{7, 2}}), true);
  w.Apply(Events(false, {{"b", exp}}), false);  // a delta
  EXPECT_TRUE(w.synced());
  EXPECT_TRUE(w.IsRevoked("a", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("b", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("", 7, 1));   // older generation
  EXPECT_FALSE(w.IsRevoked("", 7, 2));  // current generation
  EXPECT_FALSE(w.IsRevoked("", 8, 5));  // unlisted user
  // A new stream's snapshot replaces everything.
  w.Apply(Events(true, {{"c", exp}}, {{7, 3}}), true);
  EXPECT_FALSE(w.IsRevoked("a", std::nullopt, 0));
  EXPECT_FALSE(w.IsRevoked("b", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("c", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("", 7, 2));
  EXPECT_FALSE(w.IsRevoked("", 7, 3));
  EXPECT_EQ(w.Stats().users, 1u);
}

TEST(RevocationWatcherBookkeeping,
     ResyncKeepsEnforcingWhatWasHeldUntilTheSnapshotIsComplete) {
  FakeClock clock(kT0);
  RevocationWatcher w({}, clock.AsClock());
  const absl::Time exp = kT0 + absl::Hours(1);
  w.Apply(Events(true, {{"a", exp}, {"b", exp}}, {{7, 2}, {8, 1}}), true);
  // A new stream, whose snapshot takes three messages. "a" is listed in the
  // last one; "b" and user 8 are no longer listed at all.
  w.Apply(FirstChunk({{"c", exp}}, {{7, 3}}), true);
  EXPECT_TRUE(w.IsRevoked("a", std::nullopt, 0));  // not forgotten meanwhile
  EXPECT_TRUE(w.IsRevoked("b", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("c", std::nullopt, 0));  // enforced on arrival
  EXPECT_TRUE(w.IsRevoked("", 7, 2));              // the newer generation
  EXPECT_FALSE(w.IsRevoked("", 7, 3));
  EXPECT_TRUE(w.IsRevoked("", 8, 0));
  w.Apply(Events(false, {{"d", exp}}), false);
  EXPECT_TRUE(w.IsRevoked("a", std::nullopt, 0));
  w.Apply(LastChunk({{"a", exp}}), false);
  for (const char* jti : {"a", "c", "d"})
    EXPECT_TRUE(w.IsRevoked(jti, std::nullopt, 0)) << jti;
  EXPECT_FALSE(w.IsRevoked("b", std::nullopt, 0));  // unlisted: dropped
  EXPECT_FALSE(w.IsRevoked("", 8, 0));
  EXPECT_TRUE(w.IsRevoked("", 7, 2));
  EXPECT_EQ(w.Stats().entries, 3u);
  EXPECT_EQ(w.Stats().users, 1u);
  // Deltas after the snapshot add to it.
  w.Apply(Events(false, {{"e", exp}}), false);
  EXPECT_TRUE(w.IsRevoked("e", std::nullopt, 0));
  EXPECT_EQ(w.Stats().entries, 4u);
}

TEST(RevocationWatcherBookkeeping,
     ServerWithoutSnapshotComplete_FirstMessageIsTheWholeSnapshot) {
  FakeClock clock(kT0);
  RevocationWatcher w({}, clock.AsClock());
  const absl::Time exp = kT0 + absl::Hours(1);
  w.Apply(Events(true, {{"a", exp}}), true);
  jwtauth::v1::RevocationEvents legacy = Events(true, {{"b", exp}});
  legacy.clear_snapshot_complete();  // as a server from before the field
  w.Apply(legacy, true);
  EXPECT_TRUE(w.synced());
  EXPECT_FALSE(w.IsRevoked("a", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("b", std::nullopt, 0));
  EXPECT_EQ(w.Stats().entries, 1u);
}

TEST(RevocationWatcherBookkeeping,
     ResyncAtCapacity_EvictsEntriesNotListedAgainFirst) {
  FakeClock clock(kT0);
  RevocationWatcherOptions o;
  o.max_entries = 4;  // one shard: exact
  RevocationWatcher w(o, clock.AsClock());
  const absl::Time late = kT0 + absl::Hours(2);
  const absl::Time soon = kT0 + absl::Hours(1);
  w.Apply(Events(true, {{"a", late}, {"b", late}, {"c", late}, {"d", late}}),
          true);
  // The new snapshot lists "d" again and four newer revocations that expire
  // sooner than the entries held.
  w.Apply(FirstChunk({{"e", soon}, {"f", soon}}), true);
  w.Apply(Events(false, {{"d", late}, {"g", soon}}), false);
  for (const char* jti : {"e", "f", "d", "g"})
    EXPECT_TRUE(w.IsRevoked(jti, std::nullopt, 0)) << jti;
  w.Apply(LastChunk({}), false);
  EXPECT_EQ(w.Stats().entries, 4u);
  for (const char* jti : {"e", "f", "d", "g"})
    EXPECT_TRUE(w.IsRevoked(jti, std::nullopt, 0)) << jti;
  EXPECT_EQ(w.Stats().dropped_over_capacity, 3u);  // a, b, c
  // Once complete, the bound is the soonest-expiring again.
  w.Apply(Events(false, {{"h", late}}), false);
  EXPECT_EQ(w.Stats().entries, 4u);
  EXPECT_TRUE(w.IsRevoked("h", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("d", std::nullopt, 0));
}

TEST(RevocationWatcherBookkeeping, StreamLostMidSnapshot_DropsNothing) {
  FakeClock clock(kT0);
  RevocationWatcher w({}, clock.AsClock());
  const absl::Time exp = kT0 + absl::Hours(1);
  w.Apply(Events(true, {{"a", exp}}), true);
  w.Apply(FirstChunk({{"b", exp}}), true);  // this stream ends here
  w.Apply(FirstChunk({{"c", exp}}), true);  // the next one
  for (const char* jti : {"a", "b", "c"})
    EXPECT_TRUE(w.IsRevoked(jti, std::nullopt, 0)) << jti;
  // Only the snapshot that completes decides what is dropped.
  w.Apply(LastChunk({}), false);
  EXPECT_FALSE(w.IsRevoked("a", std::nullopt, 0));
  EXPECT_FALSE(w.IsRevoked("b", std::nullopt, 0));
  EXPECT_TRUE(w.IsRevoked("c", std::nullopt, 0));
  EXPECT_EQ(w.Stats().entries, 1u);
}

TEST(RevocationWatcherBookkeeping, MaxStalenessRefusesEverythingOnceExceeded) {
  FakeClock clock(kT0);
  RevocationWatcherOptions o;
  o.max_staleness = absl::Seconds(30);
  RevocationWatcher w(o, clock.AsClock());
  Caller caller;
  caller.jti = "x";
  caller.user_id = 1;
  EXPECT_FALSE(w.stale());
  EXPECT_TRUE(CheckRevocation(w, caller).ok());  // fail open at first
  clock.Advance(absl::Seconds(31));
  EXPECT_TRUE(w.stale());
  EXPECT_TRUE(w.IsRevoked("x", 1, 0));
  EXPECT_EQ(CheckRevocation(w, caller).code(), absl::StatusCode::kUnavailable);
  // A stream is up again, but its snapshot is not complete: still stale.
  w.Apply(FirstChunk({}), true);
  EXPECT_TRUE(w.stale());
  w.Apply(LastChunk({}), false);  // connected again
  EXPECT_FALSE(w.stale());
  EXPECT_TRUE(CheckRevocation(w, caller).ok());
}

TEST(RevocationWatcherBookkeeping, WithoutMaxStalenessNeverStale) {
  FakeClock clock(kT0);
  RevocationWatcher w({}, clock.AsClock());
  clock.Advance(absl::Hours(24 * 365));
  EXPECT_FALSE(w.stale());
  EXPECT_FALSE(w.IsRevoked("x", 1, 0));
}

}  // namespace
}  // namespace jwtauth::interceptors
