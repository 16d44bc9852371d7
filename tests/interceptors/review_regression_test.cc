// Regression tests for the findings of the security review (2026-11-29).
// Each failed before its fix: IPv6 peers escaping the per-client throttle,
// login timing revealing the kind of stored hash, byte-counted usernames,
// misspelt method keys leaving methods unprotected, scope splitting on any
// claim, a token source spinning on short-lived tokens or logging in on
// every refused call, public calls queued behind slow remote checks, and an
// abort when a plaintext server stops with a remote check in flight.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/worker_pool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interceptors/client_interceptor.h"
#include "interceptors/server_auth.h"
#include "interceptors/token_source.h"
#include "jwt/key_loader.h"
#include "jwt/signer.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "server/auth_service.h"
#include "server/sqlite_user_store.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_util.h"

namespace jwtauth {
namespace {

namespace ev1 = ::jwtauth::examples::v1;
using ::jwtauth::testing::FakeClock;
using ::jwtauth::testing::TempDir;

const std::string kSecret = "review regression secret, 32+ bytes";
jwt::Key Key() {
  return *jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, kSecret);
}

std::string Sign(const std::string& username) {
  jwt::RawJwt raw;
  raw.SetString("username", username)
      .SetNumericDate("exp", absl::Now() + absl::Minutes(5));
  return *jwt::JwtSigner::Create(Key())->Sign(raw);
}

std::shared_ptr<interceptors::TokenValidator> Local() {
  return interceptors::LocalValidator(
      *jwt::Verifier::Create(*jwt::KeySet::Create({Key()}), {}));
}

// A validator standing in for a slow or unreachable auth server.
class SlowValidator final : public interceptors::TokenValidator {
 public:
  absl::StatusOr<std::shared_ptr<const interceptors::Caller>> Validate(
      absl::string_view) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return absl::UnavailableError("Authentication service unavailable.");
  }
  std::shared_ptr<const interceptors::Caller> Cached(
      absl::string_view) override {
    return nullptr;
  }
  bool blocking() const override { return true; }
  interceptors::TokenCacheStats CacheStats() const override { return {}; }
};

class CountingEcho final : public ev1::Profile::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const ev1::EchoRequest* req,
                                 ev1::EchoResponse* resp) override {
    ++handled;
    resp->set_message(req->message());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  std::atomic<int> handled{0};
};

TEST(PeerAddress, Ipv6PeersAreDecodedAndLoseTheirPort) {
  EXPECT_EQ(server::PeerAddress("ipv6:%5B::1%5D:1234"), "ipv6:[::1]");
  EXPECT_EQ(server::PeerAddress("ipv6:%5B::1%5D:1234"),
            server::PeerAddress("ipv6:%5B::1%5D:99"));
  EXPECT_EQ(server::PeerAddress("ipv6:%5B::ffff:10.0.0.1%5D:5"),
            "ipv6:[::ffff:10.0.0.1]");
  EXPECT_EQ(server::PeerAddress("ipv4:10.0.0.1:443"), "ipv4:10.0.0.1");
}

class LoginTiming : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *server::SqliteUserStore::Open(dir_.File("u.sqlite3"));
  }
  void Add(const std::string& name, const std::string& hash) {
    server::NewUser u;
    u.username = name;
    u.password_hash = hash;
    ASSERT_TRUE(store_->CreateUser(u).ok());
  }
  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  std::unique_ptr<server::SqliteUserStore> store_;
};

TEST_F(LoginTiming, FailedLoginCostsAFullHashWhateverTheStoredHash) {
  constexpr int64_t kIterations = 100'000;
  Add("social", "!unusable-password-marker");
  Add("legacy", *server::PasswordHasher(1'000).Hash("old"));
  server::ThrottleOptions off;
  off.max_failures_per_username = 0;
  off.max_failures_per_peer = 0;
  auto s = *server::TokenService::Create(
      {}, *jwt::KeySet::Create({Key()}), store_.get(),
      server::PasswordHasher(kIterations), off, clock_.AsClock());
  auto time_of = [&](const std::string& user) {
    const absl::Time start = absl::Now();
    EXPECT_FALSE(s->Obtain(user, "wrong", "ipv4:10.0.0.1").ok());
    return absl::ToDoubleMicroseconds(absl::Now() - start);
  };
  // Interleaved rounds, so drifting machine load affects every kind alike;
  // the bound (a quarter) still catches a hashless path (~1000x faster) and a
  // 1,000-iteration one (100x faster).
  std::vector<double> social, legacy;
  for (int i = 0; i < 5; ++i) {
    const double unknown = time_of("nobody");
    social.push_back(time_of("social") / unknown);
    legacy.push_back(time_of("legacy") / unknown);
  }
  std::sort(social.begin(), social.end());
  std::sort(legacy.begin(), legacy.end());
  EXPECT_GT(social[2], 0.25)
      << "unusable-password users answered without hashing";
  EXPECT_GT(legacy[2], 0.25) << "low-iteration hashes answered faster";
}

TEST_F(LoginTiming, UsernameOf150CharactersCanLogIn) {
  std::string name;
  for (int i = 0; i < 100; ++i) name += "\xd0\xb6";  // 100 x U+0436: 200 bytes
  Add(name, *server::PasswordHasher(1'000).Hash("pw"));
  auto s = *server::TokenService::Create(
      {}, *jwt::KeySet::Create({Key()}), store_.get(),
      server::PasswordHasher(1'000), {}, clock_.AsClock());
  EXPECT_TRUE(s->Obtain(name, "pw", "ipv4:10.0.0.1").ok());
}

TEST(ServerAuthOptionsCheck, MethodKeysThatCouldNeverMatchAreRefused) {
  for (const char* bad :
       {"/pkg.Admin", "pkg.Admin/", "/pkg.Admin/Delete/", "//Delete", "/"}) {
    interceptors::ServerAuthOptions o;
    o.validator = Local();
    o.set_default = false;
    o.required_claims[bad] = {{"role", "admin"}};
    EXPECT_FALSE(interceptors::ServerAuth::Create(o).ok()) << bad;
  }
  interceptors::ServerAuthOptions o;
  o.validator = Local();
  o.set_default = false;
  o.public_methods = {"/grpc.health.v1.Health"};
  EXPECT_FALSE(interceptors::ServerAuth::Create(o).ok());
}

TEST(ServerAuthOptionsCheck, OnlyScopeClaimsAreSplitIntoWords) {
  interceptors::ServerAuthOptions o;
  o.validator = Local();
  o.set_default = false;
  o.required_claims["/pkg.Admin/"] = {{"username", "admin"}};
  auto auth = *interceptors::ServerAuth::Create(o);
  EXPECT_EQ(auth->Check("/pkg.Admin/Delete", {"JWT " + Sign("eve admin")})
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(auth->Check("/pkg.Admin/Delete", {"JWT " + Sign("admin")}).ok());
}

TEST(RemoteChecks, PublicCallsAreNotQueuedBehindSlowRemoteChecks) {
  interceptors::ServerAuthOptions o;
  o.validator = std::make_shared<SlowValidator>();
  o.set_default = false;
  auto auth = *interceptors::ServerAuth::Create(o);
  CountingEcho service;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", auth->InsecureCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  grpc::EnableDefaultHealthCheckService(false);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = ev1::Profile::NewStub(channel);
  struct Call {
    grpc::ClientContext ctx;
    ev1::EchoRequest req;
    ev1::EchoResponse resp;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::atomic<int> done{0};
  for (int i = 0; i < 16; ++i) {  // 16 x 300 ms on 4 threads: ~1.2 s of queue
    auto c = std::make_unique<Call>();
    c->ctx.AddMetadata("authorization", absl::StrCat("JWT junk", i, ".x.y"));
    stub->async()->Echo(&c->ctx, &c->req, &c->resp,
                        [&](grpc::Status) { ++done; });
    calls.push_back(std::move(c));
  }
  grpc::GenericStub generic(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext hctx;
  grpc::Slice empty("", 0);
  grpc::ByteBuffer req(&empty, 1), resp;
  grpc::Status hs;
  const absl::Time start = absl::Now();
  auto rpc =
      generic.PrepareUnaryCall(&hctx, "/grpc.health.v1.Health/Check", req, &cq);
  rpc->StartCall();
  rpc->Finish(&resp, &hs, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_TRUE(hs.ok()) << hs.error_message();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(900))
      << "health waited behind remote checks";
  while (done.load() < 16) std::this_thread::yield();
  EXPECT_EQ(service.handled.load(), 0);
  server->Shutdown();
}

TEST(RemoteChecks, StoppingWithARemoteCheckInFlightDoesNotAbort) {
  interceptors::ServerAuthOptions o;
  o.validator = std::make_shared<SlowValidator>();
  o.set_default = false;
  auto auth = *interceptors::ServerAuth::Create(o);
  CountingEcho service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", auth->InsecureCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  auth.reset();  // the credentials' processor keeps what it needs
  auto stub = ev1::Profile::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "JWT a.b.c");
  ev1::EchoRequest req;
  ev1::EchoResponse resp;
  std::atomic<bool> finished{false};
  stub->async()->Echo(&ctx, &req, &resp,
                      [&](grpc::Status) { finished = true; });
  std::this_thread::sleep_for(
      std::chrono::milliseconds(100));  // the check is now running
  server->Shutdown(std::chrono::system_clock::now());
  server.reset();  // used to abort: the pool thread joined itself
  while (!finished.load()) std::this_thread::yield();
  std::this_thread::sleep_for(
      std::chrono::milliseconds(400));  // let the check end
  SUCCEED();
}

class SourceTest : public ::testing::Test {
 protected:
  void Start(server::TokenSettings settings) {
    store_ = *server::SqliteUserStore::Open(dir_.File("users.sqlite3"));
    server::NewUser u;
    u.username = "ada";
    u.password_hash = *server::PasswordHasher(1000).Hash("correct horse");
    ASSERT_TRUE(store_->CreateUser(u).ok());
    tokens_ = *server::TokenService::Create(
        settings, *jwt::KeySet::Create({Key()}), store_.get(),
        server::PasswordHasher(1000), {}, clock_.AsClock());
    service_ = std::make_unique<server::AuthServiceImpl>(tokens_.get(), &pool_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    source_ = *interceptors::AuthServiceTokenSource::Create(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                            grpc::InsecureChannelCredentials()),
        "ada", "correct horse", {}, clock_.AsClock());
  }
  void TearDown() override {
    source_.reset();
    if (server_ != nullptr) server_->Shutdown();
  }
  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  std::unique_ptr<server::SqliteUserStore> store_;
  common::WorkerPool pool_{2, 64};
  std::unique_ptr<server::TokenService> tokens_;
  std::unique_ptr<server::AuthServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<interceptors::AuthServiceTokenSource> source_;
};

TEST_F(SourceTest, ShortLivedTokensDoNotMakeTheSourceSpin) {
  server::TokenSettings settings;
  settings.expiration_delta =
      absl::Seconds(30);  // == the default refresh margin
  Start(settings);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(300));  // the clock stands still
  EXPECT_EQ(source_->obtains(), 1);
  EXPECT_EQ(source_->refreshes(), 0);
}

TEST_F(SourceTest, RepeatedRefusalsDoNotForceALoginPerCall) {
  Start({});
  interceptors::ServerAuthOptions o;
  o.validator = interceptors::LocalValidator(
      *jwt::Verifier::Create(
          *jwt::KeySet::Create({*jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256,
                                                        std::string(32, 'x'))}),
          {}),
      {});  // a service with another key refuses every token
  o.set_default = false;
  auto auth = *interceptors::ServerAuth::Create(o);
  CountingEcho service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", auth->InsecureCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      f;
  f.push_back(interceptors::ClientAuthInterceptorFactory(source_));
  auto stub = ev1::Profile::NewStub(
      grpc::experimental::CreateCustomChannelWithInterceptors(
          absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(),
          grpc::ChannelArguments(), std::move(f)));
  for (int i = 0; i < 10; ++i) {
    grpc::ClientContext ctx;
    ev1::EchoResponse resp;
    EXPECT_EQ(stub->Echo(&ctx, {}, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  std::this_thread::sleep_for(
      std::chrono::milliseconds(200));  // let the source react
  // The first refusal forces one login; later ones wait
  // min_forced_login_interval (5 s of the frozen clock).
  EXPECT_LE(source_->obtains(), 2);
  server->Shutdown();
}

}  // namespace
}  // namespace jwtauth
