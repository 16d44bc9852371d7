// End-to-end tests of the client side and of remote validation, on a real
// jwtauth auth server and a real protected service, with one injected clock:
// the interceptor on sync and callback stubs, AuthService calls carrying no
// token, the auth-service token source refreshing across several expiries
// and logging in again when refused, and remote mode catching a disabled user.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "common/worker_pool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interceptors/client_interceptor.h"
#include "interceptors/server_auth.h"
#include "interceptors/token_source.h"
#include "jwt/key_loader.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "server/auth_service.h"
#include "server/sqlite_user_store.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_util.h"

namespace jwtauth::interceptors {
namespace {

namespace ev1 = ::jwtauth::examples::v1;
using ::jwtauth::testing::Eventually;
using ::jwtauth::testing::FakeClock;
using ::jwtauth::testing::TempDir;

const std::string kSecret = "client side test secret, 32+ bytes!";
jwt::Key Key() {
  return *jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, kSecret);
}

// Profile that records the authorization it saw and answers WhoAmI.
class RecordingProfile final : public ev1::Profile::CallbackService {
 public:
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx,
                                   const ev1::WhoAmIRequest*,
                                   ev1::WhoAmIResponse* resp) override {
    Record(*ctx);
    absl::StatusOr<std::shared_ptr<const Caller>> caller = CallerClaims(*ctx);
    if (caller.ok()) resp->set_username((*caller)->username);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const ev1::EchoRequest* req,
                                 ev1::EchoResponse* resp) override {
    Record(*ctx);
    resp->set_message(req->message());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  std::string last_authorization() {
    common::MutexLock lock(&mu_);
    return last_;
  }
  int calls() {
    common::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  void Record(const grpc::CallbackServerContext& ctx) {
    common::MutexLock lock(&mu_);
    ++calls_;
    auto it = ctx.client_metadata().find("authorization");
    last_ = it == ctx.client_metadata().end()
                ? ""
                : std::string(it->second.data(), it->second.size());
  }
  common::Mutex mu_;
  std::string last_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// RejectFirst wraps a validator and refuses the first token it is shown
// (as if that token had been revoked), so the client must log in again.
class RejectFirst final : public TokenValidator {
 public:
  explicit RejectFirst(std::shared_ptr<TokenValidator> inner)
      : inner_(std::move(inner)) {}
  absl::StatusOr<std::shared_ptr<const Caller>> Validate(
      absl::string_view token) override {
    {
      common::MutexLock lock(&mu_);
      if (rejected_.empty()) rejected_ = std::string(token);
      if (rejected_ == token)
        return absl::UnauthenticatedError(
            "Incorrect authentication credentials.");
    }
    return inner_->Validate(token);
  }
  std::shared_ptr<const Caller> Cached(absl::string_view) override {
    return nullptr;
  }
  bool blocking() const override { return false; }
  TokenCacheStats CacheStats() const override { return inner_->CacheStats(); }

 private:
  std::shared_ptr<TokenValidator> inner_;
  common::Mutex mu_;
  std::string rejected_ ABSL_GUARDED_BY(mu_);
};

class ClientSideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *server::SqliteUserStore::Open(dir_.File("users.sqlite3"));
    server::NewUser u;
    u.username = "ada";
    u.email = "ada@example.com";
    u.password_hash = *server::PasswordHasher(1000).Hash("correct horse");
    ada_id_ = store_->CreateUser(u)->id;
    server::TokenSettings settings;
    settings.expiration_delta = absl::Seconds(60);
    settings.allow_refresh = true;
    settings.refresh_expiration_delta = absl::Seconds(200);
    tokens_ = *server::TokenService::Create(
        settings, *jwt::KeySet::Create({Key()}), store_.get(),
        server::PasswordHasher(1000), {}, clock_.AsClock());
    auth_service_ =
        std::make_unique<server::AuthServiceImpl>(tokens_.get(), &pool_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(auth_service_.get());
    auth_server_ = builder.BuildAndStart();
    auth_address_ = absl::StrCat("127.0.0.1:", port);
  }

  void TearDown() override {
    if (protected_server_ != nullptr) protected_server_->Shutdown();
    auth_server_->Shutdown();
  }

  std::shared_ptr<TokenValidator> Local() {
    return LocalValidator(*jwt::Verifier::Create(*jwt::KeySet::Create({Key()}),
                                                 {}, clock_.AsClock()),
                          {}, clock_.AsClock());
  }

  std::shared_ptr<TokenValidator> Remote() {
    RemoteOptions o;
    o.cache.max_age = absl::Seconds(5);
    return RemoteValidator(
        grpc::CreateChannel(auth_address_, grpc::InsecureChannelCredentials()),
        o, clock_.AsClock());
  }

  // StartProtected serves RecordingProfile behind `validator` and returns
  // its address.
  std::string StartProtected(std::shared_ptr<TokenValidator> validator) {
    ServerAuthOptions o;
    o.validator = std::move(validator);
    server_auth_ = *ServerAuth::Create(o);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", server_auth_->InsecureCredentials(),
                             &port);
    builder.RegisterService(&profile_);
    protected_server_ = builder.BuildAndStart();
    return absl::StrCat("127.0.0.1:", port);
  }

  std::shared_ptr<AuthServiceTokenSource> Source(
      AuthServiceSourceOptions o = {}) {
    o.refresh_margin = absl::Seconds(10);
    absl::StatusOr<std::shared_ptr<AuthServiceTokenSource>> source =
        AuthServiceTokenSource::Create(
            grpc::CreateChannel(auth_address_,
                                grpc::InsecureChannelCredentials()),
            "ada", "correct horse", o, clock_.AsClock());
    EXPECT_TRUE(source.ok()) << source.status();
    return *source;
  }

  std::shared_ptr<grpc::Channel> ChannelWith(
      const std::string& target, std::shared_ptr<TokenSource> source) {
    std::vector<
        std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        f;
    f.push_back(ClientAuthInterceptorFactory(std::move(source)));
    return grpc::experimental::CreateCustomChannelWithInterceptors(
        target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
        std::move(f));
  }

  grpc::Status WhoAmI(const std::shared_ptr<grpc::Channel>& channel,
                      std::string* who) {
    grpc::ClientContext ctx;
    ev1::WhoAmIResponse resp;
    grpc::Status s = ev1::Profile::NewStub(channel)->WhoAmI(&ctx, {}, &resp);
    *who = resp.username();
    return s;
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  std::unique_ptr<server::SqliteUserStore> store_;
  int64_t ada_id_ = 0;
  common::WorkerPool pool_{2, 64};
  std::unique_ptr<server::TokenService> tokens_;
  std::unique_ptr<server::AuthServiceImpl> auth_service_;
  std::unique_ptr<grpc::Server> auth_server_;
  std::string auth_address_;
  RecordingProfile profile_;
  std::shared_ptr<ServerAuth> server_auth_;
  std::unique_ptr<grpc::Server> protected_server_;
};

TEST_F(ClientSideTest, InterceptorAttachesTokenOnSyncAndCallbackStubs) {
  auto source = Source();
  auto channel = ChannelWith(StartProtected(Local()), source);
  std::string who;
  ASSERT_TRUE(WhoAmI(channel, &who).ok());
  EXPECT_EQ(who, "ada");
  EXPECT_EQ(profile_.last_authorization(), "JWT " + *source->Token());

  auto stub = ev1::Profile::NewStub(channel);
  grpc::ClientContext ctx;
  ev1::WhoAmIResponse resp;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  ev1::WhoAmIRequest req;
  stub->async()->WhoAmI(&ctx, &req, &resp, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = s;
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.username(), "ada");
}

TEST_F(ClientSideTest, CallsToAuthServiceCarryNoToken) {
  // The AuthService is served next to a recording service on one server, so
  // the same intercepted channel reaches both.
  auto source = Source();
  const std::string address = StartProtected(Local());
  auto channel = ChannelWith(address, source);
  std::string who;
  ASSERT_TRUE(WhoAmI(channel, &who).ok());
  EXPECT_FALSE(profile_.last_authorization().empty());
  // A call to jwtauth.v1.AuthService through the intercepted channel: the
  // protected server refuses it for lack of credentials, which shows the
  // interceptor attached none.
  grpc::ClientContext ctx;
  v1::VerifyTokenRequest req;
  v1::VerifyTokenResponse resp;
  grpc::Status s =
      v1::AuthService::NewStub(channel)->VerifyToken(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "Authentication credentials were not provided.");
}

TEST_F(ClientSideTest,
       TokenSourceRefreshesAcrossSeveralExpiriesThenLogsInAgain) {
  auto source = Source();
  auto channel = ChannelWith(StartProtected(Local()), source);
  EXPECT_EQ(source->obtains(), 1);
  std::string first = *source->Token();
  // Token lifetime 60 s, refreshed 10 s before exp: advance 55 s at a time.
  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(absl::Seconds(55));
    source->Poke();
    ASSERT_TRUE(Eventually([&] { return source->refreshes() == i; }))
        << "refresh " << i;
    std::string who;
    ASSERT_TRUE(WhoAmI(channel, &who).ok()) << "after refresh " << i;
    EXPECT_EQ(who, "ada");
  }
  EXPECT_NE(*source->Token(), first);
  EXPECT_EQ(source->obtains(), 1);
  // 165 s in; the refresh window (orig_iat + 200 s) ends before the next
  // renewal is due at ~210 s: the source logs in again instead.
  clock_.Advance(absl::Seconds(55));
  source->Poke();
  ASSERT_TRUE(Eventually([&] { return source->obtains() == 2; }));
  std::string who;
  EXPECT_TRUE(WhoAmI(channel, &who).ok());
}

TEST_F(ClientSideTest, RefusedTokenMakesSourceLogInAgain) {
  auto source = Source();
  auto channel = ChannelWith(
      StartProtected(std::make_shared<RejectFirst>(Local())), source);
  std::string who;
  grpc::Status s = WhoAmI(channel, &who);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Eventually([&] { return source->obtains() == 2; }));
  EXPECT_TRUE(WhoAmI(channel, &who).ok());
  EXPECT_EQ(who, "ada");
}

TEST_F(ClientSideTest, ExpiredStaticTokenIsNotSent) {
  jwt::RawJwt raw;
  raw.SetString("username", "ada")
      .SetNumericDate("exp", clock_.Now() + absl::Seconds(5));
  auto source = std::make_shared<StaticTokenSource>(
      *jwt::JwtSigner::Create(Key())->Sign(raw), clock_.AsClock());
  auto channel = ChannelWith(StartProtected(Local()), source);
  std::string who;
  EXPECT_TRUE(WhoAmI(channel, &who).ok());
  clock_.Advance(absl::Seconds(5));
  grpc::Status s = WhoAmI(channel, &who);
  EXPECT_EQ(s.error_message(), "Authentication credentials were not provided.");
  EXPECT_EQ(profile_.last_authorization().substr(0, 4), "JWT ");
}

TEST_F(ClientSideTest, RemoteModeCatchesDisabledUser) {
  auto source = Source();
  auto channel = ChannelWith(StartProtected(Remote()), source);
  std::string who;
  ASSERT_TRUE(WhoAmI(channel, &who).ok());
  EXPECT_EQ(who, "ada");
  ASSERT_TRUE(store_->SetActive(ada_id_, false).ok());
  // The cached answer is reused for at most 5 s: this call succeeds although
  // the auth server would now refuse, so it was answered from the cache.
  EXPECT_TRUE(WhoAmI(channel, &who).ok());
  EXPECT_GE(server_auth_->CacheStats().hits, 1u);
  clock_.Advance(absl::Seconds(5));
  // ...then the auth server is asked again and refuses the disabled user.
  grpc::Status s = WhoAmI(channel, &who);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "User account is disabled.");
  EXPECT_EQ(profile_.calls(), 2);
}

TEST_F(ClientSideTest, RemoteModeWithAuthServerDownIsUnavailable) {
  auto source = Source();
  auto channel = ChannelWith(StartProtected(Remote()), source);
  auth_server_->Shutdown();
  std::string who;
  grpc::Status s = WhoAmI(channel, &who);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.error_message(), "Authentication service unavailable.");
  EXPECT_EQ(profile_.calls(), 0);
}

}  // namespace
}  // namespace jwtauth::interceptors
