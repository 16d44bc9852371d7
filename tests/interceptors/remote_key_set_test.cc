// Tests of local validation with keys from the auth server: a real
// AuthServiceImpl (TokenService on SQLite, ES256, its GetJwks answering
// PublicJwks of its current keys and counting the calls), a RemoteKeySet
// fetching them over gRPC, and a protected service validating locally.
// Rotations are TokenService::SetKeys; rate limits are crossed by advancing
// an injected clock.
#include "interceptors/remote_key_set.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/worker_pool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interceptors/server_auth.h"
#include "interceptors/token_validator.h"
#include "jwt/base64url.h"
#include "jwt/jwk_export.h"
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
using ::testing::HasSubstr;

jwt::Key EsKey(const std::string& kid) {
  return *jwt::GenerateKey(jwt::Algorithm::kES256, kid);
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

// AuthServer: the real auth server whose GetJwks publishes its current keys
// and counts the calls.
class AuthServer {
 public:
  AuthServer(const std::string& db, jwt::KeySet keys, const FakeClock& clock,
             int port = 0) {
    store_ = *server::SqliteUserStore::Open(db);
    server::TokenSettings settings;
    settings.expiration_delta = absl::Seconds(600);
    tokens_ = *server::TokenService::Create(
        settings, std::move(keys), store_.get(), server::PasswordHasher(1000),
        {}, clock.AsClock());
    service_ = std::make_unique<server::AuthServiceImpl>(tokens_.get(), &pool_);
    service_->set_jwks_source([this] {
      jwks_calls_.fetch_add(1);
      return jwt::SerializeJson(*jwt::PublicJwks(tokens_->keys()));
    });
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port),
                             grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    absl::StatusOr<std::optional<server::User>> found =
        store_->FindByUsername("ada");
    if (found.ok() && !found->has_value()) {
      server::NewUser u;
      u.username = "ada";
      u.password_hash = *server::PasswordHasher(1000).Hash("pw");
      EXPECT_TRUE(store_->CreateUser(u).ok());
    }
  }
  ~AuthServer() { server_->Shutdown(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  server::TokenService& tokens() { return *tokens_; }
  int jwks_calls() const { return jwks_calls_.load(); }

  std::string Obtain() {
    absl::StatusOr<server::IssuedToken> t = tokens_->Obtain("ada", "pw", "t");
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token : "";
  }
  // Replace makes `keys` the only keys (a retired key is dropped).
  void Replace(std::vector<jwt::Key> keys) {
    ASSERT_TRUE(tokens_->SetKeys(*jwt::KeySet::Create(keys)).ok());
  }
  // Rotate makes a new key with `kid` current, keeping the old ones.
  void Rotate(const std::string& kid) {
    std::vector<jwt::Key> keys = {EsKey(kid)};
    const jwt::KeySet current = tokens_->keys();
    for (const jwt::Key& k : current.keys()) keys.push_back(k);
    ASSERT_TRUE(tokens_->SetKeys(*jwt::KeySet::Create(keys)).ok());
  }

 private:
  std::unique_ptr<server::SqliteUserStore> store_;
  std::unique_ptr<server::TokenService> tokens_;
  common::WorkerPool pool_{2, 64};
  std::unique_ptr<server::AuthServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> jwks_calls_{0};
  int port_ = 0;
};

// A token with header {"alg":"ES256","kid":<kid>} and a junk body.
std::string TokenWithKid(const std::string& kid) {
  return absl::StrCat(
      jwt::Base64UrlEncode(
          absl::StrCat(R"({"alg":"ES256","typ":"JWT","kid":")", kid, R"("})")),
      ".", jwt::Base64UrlEncode(R"({"username":"x","exp":9999999999})"), ".",
      jwt::Base64UrlEncode(std::string(64, 'x')));
}

RemoteKeySetOptions Options() {
  RemoteKeySetOptions o;
  o.refresh_interval = absl::Hours(1);  // no background refresh in a test
  o.min_refetch_interval = absl::Seconds(30);
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(200);
  return o;
}

class RemoteKeySetTest : public ::testing::Test {
 protected:
  void StartAuth(jwt::KeySet keys, int port = 0) {
    auth_ = std::make_unique<AuthServer>(dir_.File("users.db"), std::move(keys),
                                         clock_, port);
  }
  void StartKeySet(const std::string& target,
                   RemoteKeySetOptions options = Options()) {
    key_set_ = *RemoteKeySet::Create(options, clock_.AsClock());
    key_set_->Start(target, grpc::InsecureChannelCredentials());
    validator_ = LocalValidator(key_set_, {}, clock_.AsClock());
  }
  // StartProtected serves Profile, validating with validator_.
  void StartProtected() {
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
  }
  void TearDown() override {
    if (protected_server_) protected_server_->Shutdown();
    if (key_set_) key_set_->Stop();
  }

  grpc::Status Echo(const std::string& token) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "JWT " + token);
    ev1::EchoRequest req;
    req.set_message("hi");
    ev1::EchoResponse resp;
    return profile_stub_->Echo(&ctx, req, &resp);
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'900'000'000)};
  std::unique_ptr<AuthServer> auth_;
  std::shared_ptr<RemoteKeySet> key_set_;
  std::shared_ptr<TokenValidator> validator_;
  EchoProfile profile_;
  std::shared_ptr<ServerAuth> protected_auth_;
  std::unique_ptr<grpc::Server> protected_server_;
  std::unique_ptr<ev1::Profile::Stub> profile_stub_;
};

TEST_F(RemoteKeySetTest, TokensVerifyWithFetchedKeysThroughTheService) {
  StartAuth(*jwt::KeySet::Create({EsKey("k1")}));
  StartKeySet(auth_->address());
  ASSERT_TRUE(key_set_->AwaitFirstFetch(absl::Seconds(10)).ok());
  StartProtected();
  EXPECT_TRUE(validator_->blocking());

  const grpc::Status ok = Echo(auth_->Obtain());
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  const grpc::Status forged = Echo(TokenWithKid("k1"));
  EXPECT_EQ(forged.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(forged.error_message(), "Error decoding signature.");
  EXPECT_EQ(auth_->jwks_calls(), 1);
  EXPECT_EQ(key_set_->Stats().keys, 1u);
}

TEST_F(RemoteKeySetTest, RotatedKeyIsAcceptedAfterOneRefetch) {
  StartAuth(*jwt::KeySet::Create({EsKey("k1")}));
  StartKeySet(auth_->address());
  ASSERT_TRUE(key_set_->AwaitFirstFetch(absl::Seconds(10)).ok());
  StartProtected();
  const std::string old_token = auth_->Obtain();
  ASSERT_TRUE(Echo(old_token).ok());
  ASSERT_EQ(auth_->jwks_calls(), 1);

  auth_->Rotate("k2");
  const std::string k2_token = auth_->Obtain();
  const grpc::Status s = Echo(k2_token);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(auth_->jwks_calls(), 2);
  EXPECT_EQ(key_set_->Stats().unknown_kid_fetches, 1u);
  EXPECT_TRUE(Echo(k2_token).ok());         // cached
  EXPECT_TRUE(Echo(auth_->Obtain()).ok());  // known kid: no fetch
  EXPECT_EQ(auth_->jwks_calls(), 2);
  // The old key still verifies (the server kept it for its tokens).
  EXPECT_TRUE(validator_->Validate(old_token).ok());
}

TEST_F(RemoteKeySetTest, RetiredKey_ItsCachedTokensAreRefusedAfterTheFetch) {
  StartAuth(*jwt::KeySet::Create({EsKey("k1")}));
  StartKeySet(auth_->address());
  ASSERT_TRUE(key_set_->AwaitFirstFetch(absl::Seconds(10)).ok());
  StartProtected();
  const std::string k1_token = auth_->Obtain();
  ASSERT_TRUE(Echo(k1_token).ok());
  ASSERT_NE(validator_->Cached(k1_token), nullptr);
  // The same keys fetched again: the cache stands.
  const uint64_t generation = key_set_->generation();
  ASSERT_TRUE(key_set_->Refresh().ok());
  EXPECT_EQ(key_set_->generation(), generation);
  EXPECT_NE(validator_->Cached(k1_token), nullptr);

  // k1 is retired (say it leaked): the auth server now holds only k2.
  auth_->Replace({EsKey("k2")});
  ASSERT_TRUE(key_set_->Refresh().ok());
  EXPECT_NE(key_set_->generation(), generation);
  EXPECT_EQ(validator_->Cached(k1_token), nullptr);
  const grpc::Status s = Echo(k1_token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "Error decoding signature.");
  EXPECT_TRUE(Echo(auth_->Obtain()).ok());  // k2's tokens pass
}

TEST_F(RemoteKeySetTest, SecondUnknownKidWithinTheIntervalDoesNotRefetch) {
  StartAuth(*jwt::KeySet::Create({EsKey("k1")}));
  StartKeySet(auth_->address());
  ASSERT_TRUE(key_set_->AwaitFirstFetch(absl::Seconds(10)).ok());

  auth_->Rotate("k2");
  ASSERT_TRUE(validator_->Validate(auth_->Obtain()).ok());
  ASSERT_EQ(auth_->jwks_calls(), 2);

  auth_->Rotate("k3");
  const std::string k3_token = auth_->Obtain();
  clock_.Advance(absl::Seconds(29));
  absl::StatusOr<std::shared_ptr<const Caller>> refused =
      validator_->Validate(k3_token);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_->jwks_calls(), 2);
  EXPECT_EQ(key_set_->Stats().unknown_kid_limited, 1u);

  clock_.Advance(absl::Seconds(1));  // min_refetch_interval since the last
  EXPECT_TRUE(validator_->Validate(k3_token).ok());
  EXPECT_EQ(auth_->jwks_calls(), 3);
}

TEST_F(RemoteKeySetTest, GarbageKidFloodFetchesAtMostOncePerInterval) {
  StartAuth(*jwt::KeySet::Create({EsKey("k1"), EsKey("k0")}));
  StartKeySet(auth_->address());
  ASSERT_TRUE(key_set_->AwaitFirstFetch(absl::Seconds(10)).ok());
  ASSERT_EQ(auth_->jwks_calls(), 1);

  auto flood = [&](int round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          absl::StatusOr<std::shared_ptr<const Caller>> r =
              validator_->Validate(
                  TokenWithKid(absl::StrCat("junk-", round, "-", t, "-", i)));
          EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
        }
      });
    }
    for (std::thread& t : threads) t.join();
  };
  flood(0);
  EXPECT_EQ(auth_->jwks_calls(), 2);
  clock_.Advance(absl::Seconds(10));
  flood(1);
  EXPECT_EQ(auth_->jwks_calls(), 2);
  clock_.Advance(absl::Seconds(20));
  flood(2);
  EXPECT_EQ(auth_->jwks_calls(), 3);
  const RemoteKeySetStats stats = key_set_->Stats();
  EXPECT_EQ(stats.unknown_kid_fetches, 2u);
  // Every other junk token was refused without a fetch (or joined one).
  EXPECT_GE(stats.unknown_kid_limited, 600u - 2u - 8u);
  // Real tokens still pass meanwhile.
  EXPECT_TRUE(validator_->Validate(auth_->Obtain()).ok());
}

TEST_F(RemoteKeySetTest, UnavailableUntilTheFirstFetchThenRecovers) {
  int port = 0;
  {  // a port nobody listens on (for now)
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    EchoProfile any;
    b.RegisterService(&any);
    b.BuildAndStart()->Shutdown();
  }
  StartKeySet(absl::StrCat("127.0.0.1:", port));
  EXPECT_EQ(key_set_->AwaitFirstFetch(absl::Seconds(10)).code(),
            absl::StatusCode::kUnavailable);

  jwt::Key k1 = EsKey("k1");
  {
    // A valid token from a server that is not serving its keys.
    AuthServer other(dir_.File("other.db"), *jwt::KeySet::Create({k1}), clock_);
    const std::string token = other.Obtain();
    absl::StatusOr<std::shared_ptr<const Caller>> r =
        validator_->Validate(token);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(r.status().message(), "Authentication service unavailable.");
    EXPECT_FALSE(key_set_->Stats().ready);
    EXPECT_THAT(std::string(key_set_->Stats().last_error.message()),
                HasSubstr("GetJwks failed"));
  }

  StartAuth(*jwt::KeySet::Create({k1}), port);
  ASSERT_TRUE(Eventually([&] { return key_set_->Stats().ready; }));
  EXPECT_TRUE(validator_->Validate(auth_->Obtain()).ok());

  // A failed refresh keeps the last good set.
  auth_.reset();
  EXPECT_FALSE(key_set_->Refresh().ok());
  EXPECT_TRUE(key_set_->Stats().ready);
}

TEST_F(RemoteKeySetTest, Hs256ServerPublishesNoKeysAndSaysSo) {
  StartAuth(*jwt::KeySet::Create({*jwt::HmacKeyFromSecret(
      jwt::Algorithm::kHS256, "a secret that is never published, 32+ bytes")}));
  StartKeySet(auth_->address());
  const absl::Status first = key_set_->AwaitFirstFetch(absl::Seconds(10));
  EXPECT_EQ(first.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(first.message()), HasSubstr("no public keys"));
  EXPECT_THAT(std::string(first.message()), HasSubstr("HS*"));
  absl::StatusOr<std::shared_ptr<const Caller>> r =
      validator_->Validate(auth_->Obtain());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(key_set_->Stats().last_error.code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RemoteKeySetCreateTest, RefusesBadOptions) {
  RemoteKeySetOptions o;
  o.refresh_interval = absl::ZeroDuration();
  EXPECT_EQ(RemoteKeySet::Create(o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RemoteKeySetCreateTest, UnstartedIsUnavailable) {
  std::shared_ptr<RemoteKeySet> keys = *RemoteKeySet::Create({});
  EXPECT_EQ(keys->Current().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(keys->Refresh().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace jwtauth::interceptors
