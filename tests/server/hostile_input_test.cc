// Hostile input at the RPC level, against the auth service and a protected
// service on one real server: oversized tokens and credentials, invalid
// UTF-8 and NUL bytes, tokens of thousands of dots, deeply nested JSON,
// alg:none, algorithm confusion and embedded-key headers. Each gets a clear
// INVALID_ARGUMENT or UNAUTHENTICATED (never INTERNAL/UNKNOWN), no protected
// handler runs, and the next normal call is served.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/worker_pool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interceptors/server_auth.h"
#include "jwt/base64url.h"
#include "jwt/key_loader.h"
#include "jwt/signer.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "server/auth_service.h"
#include "server/sqlite_user_store.h"
#include "tests/testing/temp_dir.h"

namespace jwtauth::server {
namespace {

namespace ev1 = ::jwtauth::examples::v1;
using ::jwtauth::testing::TempDir;

const std::string kSecret = "hostile input test secret, 32+ bytes";
jwt::Key Key() {
  return *jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, kSecret);
}

class CountingProfile final : public ev1::Profile::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const ev1::EchoRequest* req,
                                 ev1::EchoResponse* resp) override {
    ++calls;
    resp->set_message(req->message());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  std::atomic<int> calls{0};
};

std::string Compact(absl::string_view header, absl::string_view payload,
                    const jwt::Key& key) {
  const std::string input = absl::StrCat(jwt::Base64UrlEncode(header), ".",
                                         jwt::Base64UrlEncode(payload));
  return absl::StrCat(input, ".", jwt::Base64UrlEncode(*key.Sign(input)));
}

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *SqliteUserStore::Open(dir_.File("users.sqlite3"));
    NewUser u;
    u.username = "ada";
    u.password_hash = *PasswordHasher(1000).Hash("correct horse");
    ASSERT_TRUE(store_->CreateUser(u).ok());
    tokens_ =
        *TokenService::Create({}, *jwt::KeySet::Create({Key()}), store_.get(),
                              PasswordHasher(1000), {}, jwt::SystemClock());
    service_ = std::make_unique<AuthServiceImpl>(tokens_.get(), &pool_);
    interceptors::ServerAuthOptions o;
    o.validator = interceptors::LocalValidator(
        *jwt::Verifier::Create(*jwt::KeySet::Create({Key()}), {}));
    o.public_methods.push_back("/jwtauth.v1.AuthService/");
    auth_ = *interceptors::ServerAuth::Create(o);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", auth_->InsecureCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    builder.RegisterService(&profile_);
    server_ = builder.BuildAndStart();
    target_ = absl::StrCat("127.0.0.1:", port);
  }
  void TearDown() override { server_->Shutdown(); }

  // A fresh channel per call: a transport-level refusal may close a connection.
  std::shared_ptr<grpc::Channel> Channel() {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    return grpc::CreateCustomChannel(target_,
                                     grpc::InsecureChannelCredentials(), args);
  }

  grpc::Status Verify(const std::string& token) {
    grpc::ClientContext ctx;
    v1::VerifyTokenRequest req;
    req.set_token(token);
    v1::VerifyTokenResponse resp;
    return v1::AuthService::NewStub(Channel())->VerifyToken(&ctx, req, &resp);
  }
  grpc::Status Refresh(const std::string& token) {
    grpc::ClientContext ctx;
    v1::RefreshTokenRequest req;
    req.set_token(token);
    v1::TokenResponse resp;
    return v1::AuthService::NewStub(Channel())->RefreshToken(&ctx, req, &resp);
  }
  grpc::Status Revoke(const std::string& token, bool all_sessions) {
    grpc::ClientContext ctx;
    v1::RevokeTokenRequest req;
    req.set_token(token);
    req.set_all_sessions(all_sessions);
    v1::RevokeTokenResponse resp;
    return v1::AuthService::NewStub(Channel())->RevokeToken(&ctx, req, &resp);
  }
  grpc::Status Obtain(const std::string& user, const std::string& password) {
    grpc::ClientContext ctx;
    v1::ObtainTokenRequest req;
    req.set_username(user);
    req.set_password(password);
    v1::TokenResponse resp;
    return v1::AuthService::NewStub(Channel())->ObtainToken(&ctx, req, &resp);
  }
  grpc::Status Echo(const std::string& authorization) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", authorization);
    ev1::EchoRequest req;
    ev1::EchoResponse resp;
    return ev1::Profile::NewStub(Channel())->Echo(&ctx, req, &resp);
  }

  // ExpectClearRefusal checks the code is one a client can act on.
  static void ExpectClearRefusal(const grpc::Status& s, const std::string& what,
                                 bool needs_message = true) {
    EXPECT_FALSE(s.ok()) << what;
    EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL)
        << what << ": " << s.error_message();
    EXPECT_NE(s.error_code(), grpc::StatusCode::UNKNOWN)
        << what << ": " << s.error_message();
    if (needs_message) {
      EXPECT_FALSE(s.error_message().empty())
          << what << ": code " << s.error_code();
    }
  }

  // ExpectStillServing checks a normal login and protected call still work.
  void ExpectStillServing() {
    EXPECT_TRUE(Obtain("ada", "correct horse").ok());
    jwt::RawJwt raw;
    raw.SetString("username", "ada")
        .SetNumericDate("exp", absl::Now() + absl::Minutes(1));
    const int before = profile_.calls.load();
    EXPECT_TRUE(Echo("JWT " + *jwt::JwtSigner::Create(Key())->Sign(raw)).ok());
    EXPECT_EQ(profile_.calls.load(), before + 1);
  }

  std::vector<std::pair<std::string, std::string>> HostileTokens() {
    const std::string exp =
        absl::StrCat(absl::ToUnixSeconds(absl::Now()) + 300);
    const std::string payload =
        absl::StrCat(R"({"username":"ada","exp":)", exp, "}");
    std::string nested = R"({"username":"ada","exp":)" + exp + R"(,"x":)";
    nested += std::string(5000, '[') + std::string(5000, ']') + "}";
    jwt::Key rsa = *jwt::GenerateKey(jwt::Algorithm::kRS256);
    jwt::Key confused = *jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256,
                                                *jwt::PublicKeyPem(rsa));
    jwt::Key attacker = *jwt::GenerateKey(jwt::Algorithm::kHS256);
    return {
        {"8 KiB + 1 of base64", std::string(8193, 'a')},
        {"1 MiB token", std::string(1 << 20, 'a')},
        {"thousands of dots", std::string(5000, '.')},
        {"dots and letters",
         std::string(3000, 'a') + "." + std::string(3000, '.')},
        {"NUL bytes", std::string("eyJhbGciOiJIUzI1NiJ9\0.e30.\0\0", 29)},
        {"deeply nested payload (signed)",
         Compact(R"({"alg":"HS256"})", nested, Key())},
        {"alg none, empty signature",
         absl::StrCat(jwt::Base64UrlEncode(R"({"alg":"none"})"), ".",
                      jwt::Base64UrlEncode(payload), ".")},
        {"alg none with a signature",
         absl::StrCat(jwt::Base64UrlEncode(R"({"alg":"none"})"), ".",
                      jwt::Base64UrlEncode(payload), ".c2ln")},
        {"RS256 public key as HS256 secret",
         Compact(R"({"alg":"HS256"})", payload, confused)},
        {"attacker key embedded as jwk",
         Compact(
             absl::StrCat(R"({"alg":"HS256","jwk":{"kty":"oct","k":")",
                          jwt::Base64UrlEncode(std::string(32, 'a')), R"("}})"),
             payload, attacker)},
        {"jku / x5u pointing elsewhere",
         Compact(
             R"({"alg":"HS256","jku":"http://127.0.0.1:1/jwks","x5u":"http://127.0.0.1:1/x"})",
             payload, attacker)},
        {"crit extension",
         Compact(R"({"alg":"HS256","crit":["exp"]})", payload, Key())},
        {"duplicate claims",
         Compact(R"({"alg":"HS256"})",
                 absl::StrCat(R"({"username":"bob","username":"ada","exp":)",
                              exp, "}"),
                 Key())},
    };
  }

  TempDir dir_;
  std::unique_ptr<SqliteUserStore> store_;
  common::WorkerPool pool_{2, 64};
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<AuthServiceImpl> service_;
  std::shared_ptr<interceptors::ServerAuth> auth_;
  CountingProfile profile_;
  std::unique_ptr<grpc::Server> server_;
  std::string target_;
};

TEST_F(HostileInput,
       HostileTokensAreRefusedByVerifyRefreshAndRevokeAndRevokeNothing) {
  for (const auto& [what, token] : HostileTokens()) {
    for (const grpc::Status& s : {Verify(token), Refresh(token),
                                  Revoke(token, false), Revoke(token, true)}) {
      ExpectClearRefusal(s, what);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << what;
    }
  }
  // Nothing was revoked by any of them.
  absl::StatusOr<Revocations> revoked =
      store_->RevocationsSince(0, absl::InfinitePast());
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_TRUE(revoked->tokens.empty());
  EXPECT_TRUE(revoked->users.empty());
  ExpectStillServing();
}

TEST_F(HostileInput, HostileTokensNeverReachTheProtectedHandler) {
  for (const auto& [what, token] : HostileTokens()) {
    if (token.size() > 6000 || token.find('\0') != std::string::npos)
      continue;  // not sendable as metadata
    grpc::Status s = Echo("JWT " + token);
    ExpectClearRefusal(s, what);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << what;
  }
  EXPECT_EQ(profile_.calls.load(), 0);
  // Metadata gRPC itself refuses: over its 8 KiB limit.
  ExpectClearRefusal(Echo("JWT " + std::string(100000, 'a')),
                     "100 KB authorization");
  EXPECT_EQ(profile_.calls.load(), 0);
  ExpectStillServing();
}

TEST_F(HostileInput, MegabyteCredentialsAreInvalidArgument) {
  for (const auto& [user, password] :
       std::vector<std::pair<std::string, std::string>>{
           {std::string(1 << 20, 'u'), "x"},
           {"ada", std::string(3 << 20, 'p')}}) {
    grpc::Status s = Obtain(user, password);
    ExpectClearRefusal(s, "megabyte credentials");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << s.error_message();
  }
  ExpectStillServing();
}

TEST_F(HostileInput, NulBytesAndControlCharactersInCredentialsAreRefused) {
  // DRF refuses NUL characters outright. Without that, "pw\0" would log in
  // as "pw": PBKDF2-HMAC zero-pads short keys (Django behaves the same).
  for (const auto& [user, password] :
       std::vector<std::pair<std::string, std::string>>{
           {std::string("ada\0", 4), "correct horse"},
           {std::string("\0ada", 4), "correct horse"},
           {"ada", std::string("correct horse\0", 14)}}) {
    grpc::Status s = Obtain(user, password);
    ExpectClearRefusal(s, "NUL character");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "Null characters are not allowed.");
  }
  // Other control characters are just a name nobody has (and are escaped in
  // logs).
  for (const std::string& user :
       {std::string("ada\n2026-01-01 auth outcome=OK"), std::string("ad\x01"
                                                                    "a")}) {
    grpc::Status s = Obtain(user, "correct horse");
    ExpectClearRefusal(s, "control characters");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  ExpectStillServing();
}

TEST_F(HostileInput, InvalidUtf8RequestIsRefusedAndServerKeepsServing) {
  // proto3 strings must be UTF-8; the request does not parse, and gRPC 1.51's
  // callback server itself answers (UNIMPLEMENTED, empty message) before any
  // handler runs. Required here: a refusal that is not INTERNAL/UNKNOWN.
  ExpectClearRefusal(Obtain("\xff\xfe\xfd", "x"), "invalid UTF-8 username",
                     false);
  ExpectClearRefusal(Verify("\xc0\xaf.\xc0\xaf.\xc0\xaf"),
                     "invalid UTF-8 token", false);
  ExpectStillServing();
}

}  // namespace
}  // namespace jwtauth::server
