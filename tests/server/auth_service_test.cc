// End-to-end tests of jwtauth.v1.AuthService: a real gRPC server on
// 127.0.0.1:0, real stubs, a real SQLite file, and an injected clock. Every
// row of SPEC §4 is checked for its exact code, message and ErrorInfo reason.
#include "server/auth_service.h"

#include <grpcpp/grpcpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "jwt/base64url.h"
#include "jwt/drf_messages.h"
#include "jwt/key_loader.h"
#include "jwt/signer.h"
#include "server/auth_metrics.h"
#include "server/sqlite_user_store.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::Eventually;
using ::jwtauth::testing::FakeClock;
using ::jwtauth::testing::TempDir;
using ::testing::HasSubstr;
using v1::ObtainTokenRequest;
using v1::RefreshTokenRequest;
using v1::TokenResponse;
using v1::VerifyTokenRequest;
using v1::VerifyTokenResponse;

const std::string kSecret = "auth service test secret, 32+ bytes";
constexpr int64_t kTestIterations =
    1000;  // fast hashes; the format is what matters here

// Reason reads the ErrorInfo reason from grpc-status-details-bin.
std::string Reason(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "<no details>";
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) {
      EXPECT_EQ(info.domain(), "jwtauth");
      return info.reason();
    }
  }
  return "<no ErrorInfo>";
}

std::string RetryAfter(const grpc::Status& status) {
  google::rpc::Status details;
  details.ParseFromString(status.error_details());
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info))
      return info.metadata().count("retry_after_seconds")
                 ? info.metadata().at("retry_after_seconds")
                 : "";
  }
  return "";
}

MATCHER_P3(IsRpcError, code, message, reason,
           absl::StrCat("is ", code, " \"", message, "\" (", reason, ")")) {
  *result_listener << "got " << arg.error_code() << " \"" << arg.error_message()
                   << "\" (" << Reason(arg) << ")";
  return arg.error_code() == code && arg.error_message() == message &&
         Reason(arg) == reason;
}

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(TokenSettings{}); }

  void Start(TokenSettings settings) {
    if (server_ != nullptr) {
      server_->Shutdown();
      server_.reset();
    }
    if (store_ == nullptr) {
      SqliteOptions store_options;
      store_options.clock = clock_.AsClock();
      store_ =
          *SqliteUserStore::Open(dir_.File("users.sqlite3"), store_options);
      ada_id_ = AddUser("ada", "correct horse", true);
      AddUser("bob", "bob's password", false);
    }
    settings_ = settings;
    ThrottleOptions throttle;
    tokens_ = *TokenService::Create(
        settings, *jwt::KeySet::Create({Key()}), store_.get(),
        PasswordHasher(kTestIterations), throttle, clock_.AsClock());
    service_ = std::make_unique<AuthServiceImpl>(tokens_.get(), &pool_,
                                                 io_pool_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    target_ = absl::StrCat("127.0.0.1:", port);
    stub_ = v1::AuthService::NewStub(
        grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  static jwt::Key Key() {
    return *jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, kSecret);
  }

  int64_t AddUser(const std::string& name, const std::string& password,
                  bool active) {
    NewUser u;
    u.username = name;
    u.email = name + "@example.com";
    u.password_hash = *PasswordHasher(kTestIterations).Hash(password);
    u.is_active = active;
    absl::StatusOr<User> created = store_->CreateUser(u);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->id : 0;
  }

  grpc::Status Obtain(const std::string& user, const std::string& password,
                      TokenResponse* out = nullptr) {
    grpc::ClientContext ctx;
    ObtainTokenRequest req;
    req.set_username(user);
    req.set_password(password);
    TokenResponse resp;
    grpc::Status s = stub_->ObtainToken(&ctx, req, &resp);
    if (out != nullptr) *out = resp;
    return s;
  }

  std::string ObtainToken() {
    TokenResponse resp;
    EXPECT_TRUE(Obtain("ada", "correct horse", &resp).ok());
    return resp.token();
  }

  grpc::Status Verify(const std::string& token,
                      VerifyTokenResponse* out = nullptr) {
    grpc::ClientContext ctx;
    VerifyTokenRequest req;
    req.set_token(token);
    VerifyTokenResponse resp;
    grpc::Status s = stub_->VerifyToken(&ctx, req, &resp);
    if (out != nullptr) *out = resp;
    return s;
  }

  grpc::Status Refresh(const std::string& token, TokenResponse* out = nullptr) {
    grpc::ClientContext ctx;
    RefreshTokenRequest req;
    req.set_token(token);
    TokenResponse resp;
    grpc::Status s = stub_->RefreshToken(&ctx, req, &resp);
    if (out != nullptr) *out = resp;
    return s;
  }

  // Sign signs arbitrary claims with the server's key.
  std::string Sign(const std::string& payload_json) {
    std::string input =
        absl::StrCat(jwt::Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})"),
                     ".", jwt::Base64UrlEncode(payload_json));
    return absl::StrCat(input, ".", jwt::Base64UrlEncode(*Key().Sign(input)));
  }

  int64_t Now() { return absl::ToUnixSeconds(clock_.Now()); }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  std::unique_ptr<SqliteUserStore> store_;
  int64_t ada_id_ = 0;
  TokenSettings settings_;
  common::WorkerPool pool_{2, 64};
  std::unique_ptr<common::WorkerPool> io_pool_;  // set for a networked store
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<AuthServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AuthService::Stub> stub_;
  std::string target_;
};

// ObtainToken -----------------------------------------------------------------

TEST_F(AuthServiceTest, ObtainWithGoodPasswordIssuesDrfPayload) {
  TokenResponse resp;
  ASSERT_TRUE(Obtain("ada", "correct horse", &resp).ok());
  EXPECT_EQ(resp.expires_at().seconds(), Now() + 300);
  EXPECT_FALSE(resp.has_refresh_expires_at());
  VerifyTokenResponse v;
  ASSERT_TRUE(Verify(resp.token(), &v).ok());
  const auto& f = v.claims().fields();
  EXPECT_EQ(f.at("user_id").number_value(), static_cast<double>(ada_id_));
  EXPECT_EQ(f.at("username").string_value(), "ada");
  EXPECT_EQ(f.at("email").string_value(), "ada@example.com");
  EXPECT_EQ(f.at("exp").number_value(), static_cast<double>(Now() + 300));
  EXPECT_EQ(f.at("iat").number_value(), static_cast<double>(Now()));
  EXPECT_EQ(f.count("orig_iat"), 0u);
  EXPECT_EQ(f.at("jti").string_value().size(), 22u);
  EXPECT_EQ(v.token(), resp.token());
  EXPECT_EQ(v.user().id(), absl::StrCat(ada_id_));
  EXPECT_EQ(v.user().username(), "ada");
  EXPECT_EQ(v.user().email(), "ada@example.com");
}

TEST_F(AuthServiceTest, EveryTokenHasItsOwnJti) {
  VerifyTokenResponse a, b;
  ASSERT_TRUE(Verify(ObtainToken(), &a).ok());
  ASSERT_TRUE(Verify(ObtainToken(), &b).ok());
  EXPECT_NE(a.claims().fields().at("jti").string_value(),
            b.claims().fields().at("jti").string_value());
}

TEST_F(AuthServiceTest, ObtainRecordsLastLogin) {
  ObtainToken();
  absl::StatusOr<std::optional<User>> u = store_->FindByUsername("ada");
  ASSERT_TRUE(u.ok() && u->has_value());
  ASSERT_TRUE((*u)->last_login.has_value());
  EXPECT_EQ(absl::ToUnixSeconds(*(*u)->last_login), Now());
}

TEST_F(AuthServiceTest, ObtainWithMissingFieldIsInvalidArgument) {
  const char* kMsg = "Must include \"username\" and \"password\".";
  EXPECT_THAT(Obtain("", "x"),
              IsRpcError(grpc::INVALID_ARGUMENT, kMsg, "CREDENTIALS_MISSING"));
  EXPECT_THAT(Obtain("ada", ""),
              IsRpcError(grpc::INVALID_ARGUMENT, kMsg, "CREDENTIALS_MISSING"));
  EXPECT_THAT(Obtain("", ""),
              IsRpcError(grpc::INVALID_ARGUMENT, kMsg, "CREDENTIALS_MISSING"));
}

TEST_F(AuthServiceTest, WrongPasswordUnknownUserAndInactiveUserAnswerAlike) {
  const char* kMsg = "Unable to log in with provided credentials.";
  EXPECT_THAT(Obtain("ada", "wrong"),
              IsRpcError(grpc::UNAUTHENTICATED, kMsg, "BAD_CREDENTIALS"));
  EXPECT_THAT(Obtain("nobody", "x"),
              IsRpcError(grpc::UNAUTHENTICATED, kMsg, "BAD_CREDENTIALS"));
  EXPECT_THAT(Obtain("bob", "bob's password"),
              IsRpcError(grpc::UNAUTHENTICATED, kMsg, "BAD_CREDENTIALS"));
  EXPECT_THAT(Obtain("ADA", "correct horse"),
              IsRpcError(grpc::UNAUTHENTICATED, kMsg, "BAD_CREDENTIALS"));
}

TEST_F(AuthServiceTest, OversizedOrBinaryCredentialsAreClearErrors) {
  EXPECT_THAT(Obtain(std::string(1 << 20, 'u'), "x"),
              IsRpcError(grpc::INVALID_ARGUMENT,
                         "username must be at most 150 characters and password "
                         "at most 4096 bytes",
                         "REQUEST_TOO_LARGE"));
  EXPECT_EQ(Obtain("ada", std::string(5000, 'p')).error_code(),
            grpc::INVALID_ARGUMENT);
  EXPECT_THAT(
      Obtain(std::string("ada\0x", 5), "correct horse"),
      IsRpcError(grpc::INVALID_ARGUMENT, "Null characters are not allowed.",
                 "NULL_CHARACTERS"));
  // proto3 strings must be UTF-8: gRPC itself refuses to parse such a request.
  EXPECT_NE(Obtain("\xff\xfe", "x").error_code(), grpc::OK);
  EXPECT_TRUE(Obtain("ada", "correct horse").ok());
}

TEST_F(AuthServiceTest, RepeatedFailuresAreThrottledWithDrfMessage) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Obtain("ada", "wrong").error_code(), grpc::UNAUTHENTICATED);
  }
  grpc::Status s = Obtain("ada", "correct horse");
  EXPECT_THAT(
      s, IsRpcError(grpc::RESOURCE_EXHAUSTED,
                    "Request was throttled. Expected available in 300 seconds.",
                    "THROTTLED"));
  EXPECT_EQ(RetryAfter(s), "300");
  // Another user from the same address is not locked out by the attack on ada.
  AddUser("carol", "carol's password", true);
  EXPECT_TRUE(Obtain("carol", "carol's password").ok());
  clock_.Advance(absl::Seconds(299));
  EXPECT_THAT(
      Obtain("ada", "correct horse"),
      IsRpcError(grpc::RESOURCE_EXHAUSTED,
                 "Request was throttled. Expected available in 1 seconds.",
                 "THROTTLED"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(Obtain("ada", "correct horse").ok());
}

TEST_F(AuthServiceTest,
       ThrottlingHoldsUnderConcurrentAttemptsFromManyConnections) {
  // 8 connections x 10 concurrent wrong passwords for ada: exactly the limit
  // (5) get to check a password; every other attempt is throttled.
  std::atomic<int> bad_credentials{0}, throttled{0}, other{0};
  common::Mutex mu;
  std::string first_other;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      grpc::ChannelArguments args;
      args.SetInt("jwtauth.test.connection", t);  // a connection of its own
      auto stub = v1::AuthService::NewStub(grpc::CreateCustomChannel(
          target_, grpc::InsecureChannelCredentials(), args));
      for (int i = 0; i < 10; ++i) {
        grpc::ClientContext ctx;
        // On a loaded CI machine a new connection can take a moment: wait
        // for it rather than fail the call (this test is about throttling).
        ctx.set_wait_for_ready(true);
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(60));
        ObtainTokenRequest req;
        req.set_username("ada");
        req.set_password("wrong");
        TokenResponse resp;
        grpc::Status s = stub->ObtainToken(&ctx, req, &resp);
        if (Reason(s) == "BAD_CREDENTIALS") {
          ++bad_credentials;
        } else if (Reason(s) == "THROTTLED") {
          ++throttled;
        } else {
          ++other;
          common::MutexLock lock(&mu);
          if (first_other.empty()) {
            first_other = absl::StrCat(s.error_code(), " ", s.error_message());
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad_credentials.load(), 5);
  EXPECT_EQ(throttled.load(), 75);
  EXPECT_EQ(other.load(), 0) << first_other;
  // The attack on ada locks out neither ada's address for other users...
  AddUser("carol", "carol's password", true);
  EXPECT_TRUE(Obtain("carol", "carol's password").ok());
  // ...nor ada herself once the window has passed.
  clock_.Advance(absl::Minutes(5));
  EXPECT_TRUE(Obtain("ada", "correct horse").ok());
}

TEST_F(AuthServiceTest, UnknownUserCostsAsMuchAsAWrongPassword) {
  // No timing oracle: an unknown username still costs one password hash.
  // Reports the medians (the goal is within 10%: ~0.92-1.05 measured in the
  // gcc build); asserts only a bound that a missing dummy hash (~1000x
  // faster) breaks, because sanitizer builds skew the store lookup (the
  // found-user path measured ~3x slower under ASan, not yet explained).
  constexpr int64_t kIterations = 50'000;
  NewUser u;
  u.username = "timed";
  u.password_hash = *PasswordHasher(kIterations).Hash("right");
  ASSERT_TRUE(store_->CreateUser(u).ok());
  ThrottleOptions no_throttle;
  no_throttle.max_failures_per_username = 0;
  no_throttle.max_failures_per_peer = 0;
  std::unique_ptr<TokenService> service = *TokenService::Create(
      {}, *jwt::KeySet::Create({Key()}), store_.get(),
      PasswordHasher(kIterations), no_throttle, clock_.AsClock());
  // Interleaved pairs, so drifting machine load affects both sides alike.
  auto time_us = [&](const std::string& user) {
    const absl::Time start = absl::Now();
    EXPECT_FALSE(service->Obtain(user, "wrong", "ipv4:127.0.0.1").ok());
    return absl::ToDoubleMicroseconds(absl::Now() - start);
  };
  std::vector<double> known_t, unknown_t, ratios;
  for (int i = 0; i < 15; ++i) {
    const double k = time_us("timed");
    const double n = time_us("nobody-by-this-name");
    known_t.push_back(k);
    unknown_t.push_back(n);
    ratios.push_back(n / k);
  }
  std::sort(known_t.begin(), known_t.end());
  std::sort(unknown_t.begin(), unknown_t.end());
  std::sort(ratios.begin(), ratios.end());
  const double known = known_t[7], unknown = unknown_t[7], ratio = ratios[7];
  std::printf(
      "[ TIMING   ] wrong password %.0f us, unknown user %.0f us, median ratio "
      "%.3f\n",
      known, unknown, ratio);
  EXPECT_GT(ratio, 0.1);
  EXPECT_LT(ratio, 10.0);
}

// VerifyToken
// -------------------------------------------------------------------

// VerifyToken's and RefreshToken's messages come from ArenaMessages: request
// and response on one arena, which grows past its first block (inside the
// holder) for large claims and is freed whole by Release (LeakSanitizer and
// ASan check that in the sanitizer run).
TEST(ArenaMessages, RequestAndResponseShareAnArenaThatReleaseFrees) {
  ArenaMessages<VerifyTokenRequest, VerifyTokenResponse> messages;
  grpc::MessageHolder<VerifyTokenRequest, VerifyTokenResponse>* held =
      messages.AllocateMessages();
  ASSERT_NE(held->request()->GetArena(), nullptr);
  EXPECT_EQ(held->request()->GetArena(), held->response()->GetArena());
  held->request()->set_token(std::string(4096, 'a'));
  auto& fields = *held->response()->mutable_claims()->mutable_fields();
  for (int i = 0; i < 200; ++i) {
    fields[absl::StrCat("claim", i)].set_string_value(std::string(64, 'v'));
  }
  EXPECT_EQ(held->response()->claims().fields_size(), 200);
  held->Release();
}

TEST_F(AuthServiceTest, VerifyExpiredTokenSaysSignatureHasExpired) {
  const std::string token = ObtainToken();
  clock_.Advance(absl::Seconds(299));
  EXPECT_TRUE(Verify(token).ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Verify(token),
              IsRpcError(grpc::UNAUTHENTICATED, "Signature has expired.",
                         "TOKEN_EXPIRED"));
}

TEST_F(AuthServiceTest,
       VerifyMalformedOrTamperedTokenSaysErrorDecodingSignature) {
  std::string token = ObtainToken();
  token[token.size() - 3] = token[token.size() - 3] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {token, std::string("abc"), std::string(""), std::string("a.b.c"),
        std::string(100000, 'x'), std::string(5000, '.'),
        Sign(R"({"exp":"soon","username":"ada"})")}) {
    EXPECT_THAT(Verify(bad),
                IsRpcError(grpc::UNAUTHENTICATED, "Error decoding signature.",
                           "TOKEN_INVALID"))
        << bad.substr(0, 40);
  }
}

TEST_F(AuthServiceTest, VerifyOtherwiseInvalidTokenSaysIncorrectCredentials) {
  const int64_t exp = Now() + 60;
  for (const std::string& bad :
       {Sign(absl::StrCat(R"({"username":"ada","exp":)", exp,
                          R"(,"aud":"other"})")),
        Sign(absl::StrCat(R"({"username":"ada","exp":)", exp, R"(,"nbf":)", exp,
                          "}")),
        Sign(R"({"username":"ada"})")}) {
    EXPECT_THAT(Verify(bad), IsRpcError(grpc::UNAUTHENTICATED,
                                        "Incorrect authentication credentials.",
                                        "TOKEN_REJECTED"));
  }
  // alg none, even "signed".
  const std::string none =
      absl::StrCat(jwt::Base64UrlEncode(R"({"alg":"none"})"), ".",
                   jwt::Base64UrlEncode(
                       absl::StrCat(R"({"username":"ada","exp":)", exp, "}")),
                   ".AAAA");
  EXPECT_THAT(Verify(none), IsRpcError(grpc::UNAUTHENTICATED,
                                       "Incorrect authentication credentials.",
                                       "TOKEN_REJECTED"));
}

TEST_F(AuthServiceTest, VerifyPayloadWithoutUsernameSaysInvalidPayload) {
  EXPECT_THAT(
      Verify(Sign(absl::StrCat(R"({"user_id":1,"exp":)", Now() + 60, "}"))),
      IsRpcError(grpc::UNAUTHENTICATED, "Invalid payload.", "PAYLOAD_INVALID"));
  EXPECT_THAT(
      Verify(Sign(absl::StrCat(R"({"username":"","exp":)", Now() + 60, "}"))),
      IsRpcError(grpc::UNAUTHENTICATED, "Invalid payload.", "PAYLOAD_INVALID"));
}

TEST_F(AuthServiceTest, VerifyTokenOfDeletedUserSaysUserDoesNotExist) {
  const std::string token = ObtainToken();
  ASSERT_TRUE(store_->DeleteUser(ada_id_).ok());
  EXPECT_THAT(Verify(token),
              IsRpcError(grpc::UNAUTHENTICATED, "User doesn't exist.",
                         "USER_NOT_FOUND"));
  // A new user who takes the name does not inherit the old tokens.
  AddUser("ada", "another", true);
  EXPECT_THAT(Verify(token),
              IsRpcError(grpc::UNAUTHENTICATED, "User doesn't exist.",
                         "USER_NOT_FOUND"));
}

TEST_F(AuthServiceTest, VerifyTokenOfDisabledUserSaysAccountDisabled) {
  const std::string token = ObtainToken();
  ASSERT_TRUE(store_->SetActive(ada_id_, false).ok());
  EXPECT_THAT(Verify(token),
              IsRpcError(grpc::UNAUTHENTICATED, "User account is disabled.",
                         "USER_INACTIVE"));
  EXPECT_THAT(Refresh(token),
              IsRpcError(grpc::UNAUTHENTICATED, "User account is disabled.",
                         "USER_INACTIVE"));
}

// RefreshToken
// -------------------------------------------------------------------

TEST_F(AuthServiceTest, RefreshWithoutAllowRefreshSaysOrigIatRequired) {
  EXPECT_THAT(Refresh(ObtainToken()),
              IsRpcError(grpc::UNAUTHENTICATED, "orig_iat field is required.",
                         "ORIG_IAT_MISSING"));
  EXPECT_THAT(
      Refresh(Sign(absl::StrCat(R"({"username":"ada","orig_iat":0,"exp":)",
                                Now() + 60, "}"))),
      IsRpcError(grpc::UNAUTHENTICATED, "orig_iat field is required.",
                 "ORIG_IAT_MISSING"));
}

TEST_F(AuthServiceTest, RefreshChainNeverOutlivesOrigIatPlusDelta) {
  TokenSettings s;
  s.allow_refresh = true;
  s.refresh_expiration_delta = absl::Seconds(1000);
  Start(s);
  const int64_t orig_iat = Now();
  TokenResponse resp;
  ASSERT_TRUE(Obtain("ada", "correct horse", &resp).ok());
  EXPECT_EQ(resp.refresh_expires_at().seconds(), orig_iat + 1000);
  std::string token = resp.token();
  // Refresh every 250 s: each new token keeps orig_iat and gets a fresh exp.
  for (int i = 1; i <= 4; ++i) {
    clock_.Advance(absl::Seconds(250));
    ASSERT_TRUE(Refresh(token, &resp).ok()) << i;
    EXPECT_EQ(resp.expires_at().seconds(), Now() + 300);
    EXPECT_EQ(resp.refresh_expires_at().seconds(), orig_iat + 1000);
    VerifyTokenResponse v;
    ASSERT_TRUE(Verify(resp.token(), &v).ok());
    EXPECT_EQ(v.claims().fields().at("orig_iat").number_value(),
              static_cast<double>(orig_iat));
    token = resp.token();
  }
  // Now == orig_iat + 1000 exactly: still allowed (drf-jwt uses ">").
  EXPECT_EQ(Now(), orig_iat + 1000);
  ASSERT_TRUE(Refresh(token, &resp).ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Refresh(resp.token()),
              IsRpcError(grpc::UNAUTHENTICATED, "Refresh has expired.",
                         "REFRESH_EXPIRED"));
}

TEST_F(AuthServiceTest, RefreshBuildsPayloadFromCurrentUserRecord) {
  TokenSettings s;
  s.allow_refresh = true;
  Start(s);
  const std::string token = ObtainToken();
  // Change the email the way Django would: an UPDATE on auth_user.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("users.sqlite3").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE auth_user SET email = 'ada@new.example' WHERE "
                         "username = 'ada'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  clock_.Advance(absl::Seconds(10));
  TokenResponse resp;
  ASSERT_TRUE(Refresh(token, &resp).ok());
  VerifyTokenResponse v;
  ASSERT_TRUE(Verify(resp.token(), &v).ok());
  EXPECT_EQ(v.claims().fields().at("email").string_value(), "ada@new.example");
  EXPECT_EQ(v.claims().fields().at("exp").number_value(),
            static_cast<double>(Now() + 300));
}

TEST_F(AuthServiceTest, RefreshOfExpiredTokenNeedsTheOption) {
  TokenSettings s;
  s.allow_refresh = true;
  s.refresh_expiration_delta = absl::Seconds(1000);
  Start(s);
  const std::string token = ObtainToken();
  clock_.Advance(
      absl::Seconds(400));  // expired (exp = +300), inside the window
  EXPECT_THAT(Refresh(token),
              IsRpcError(grpc::UNAUTHENTICATED, "Signature has expired.",
                         "TOKEN_EXPIRED"));
  s.allow_expired_refresh = true;
  Start(s);
  TokenResponse resp;
  EXPECT_TRUE(Refresh(token, &resp).ok());
  // Verification never accepts the expired token, option or not.
  EXPECT_THAT(Verify(token),
              IsRpcError(grpc::UNAUTHENTICATED, "Signature has expired.",
                         "TOKEN_EXPIRED"));
  clock_.Advance(absl::Seconds(601));  // past orig_iat + 1000
  EXPECT_THAT(Refresh(token),
              IsRpcError(grpc::UNAUTHENTICATED, "Refresh has expired.",
                         "REFRESH_EXPIRED"));
}

TEST_F(AuthServiceTest, AudienceAndIssuerAreWrittenAndRequired) {
  TokenSettings s;
  s.audience = "orders";
  s.issuer = "jwtauth.test";
  Start(s);
  VerifyTokenResponse v;
  ASSERT_TRUE(Verify(ObtainToken(), &v).ok());
  EXPECT_EQ(v.claims().fields().at("aud").string_value(), "orders");
  EXPECT_EQ(v.claims().fields().at("iss").string_value(), "jwtauth.test");
  EXPECT_THAT(
      Verify(Sign(absl::StrCat(R"({"username":"ada","exp":)", Now() + 60,
                               R"(,"aud":"orders"})"))),
      IsRpcError(grpc::UNAUTHENTICATED, "Incorrect authentication credentials.",
                 "TOKEN_REJECTED"));
}

TEST_F(AuthServiceTest, VerifyAndRefreshOnAnIoPoolAnswerTheSame) {
  // With a networked store (PostgreSQL) Verify/Refresh leave the callback
  // threads for an io pool; answers must not change.
  io_pool_ = std::make_unique<common::WorkerPool>(2, 16);
  TokenSettings s;
  s.allow_refresh = true;
  Start(s);
  const std::string token = ObtainToken();
  VerifyTokenResponse v;
  ASSERT_TRUE(Verify(token, &v).ok());
  EXPECT_EQ(v.user().username(), "ada");
  EXPECT_TRUE(Refresh(token).ok());
  EXPECT_THAT(Verify("abc"),
              IsRpcError(grpc::UNAUTHENTICATED, "Error decoding signature.",
                         "TOKEN_INVALID"));
  ASSERT_TRUE(store_->SetActive(ada_id_, false).ok());
  EXPECT_THAT(Refresh(token),
              IsRpcError(grpc::UNAUTHENTICATED, "User account is disabled.",
                         "USER_INACTIVE"));
}

// The user store
// ------------------------------------------------------------------

TEST_F(AuthServiceTest, StoreGoneAnswersUnavailable) {
  const std::string token = ObtainToken();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(dir_.File(absl::StrCat("users.sqlite3", suffix)));
  }
  // Reads look at the file again after SqliteOptions::file_check_interval.
  clock_.Advance(SqliteOptions().file_check_interval);
  const char* kMsg = "The user store is unavailable.";
  EXPECT_THAT(Verify(token),
              IsRpcError(grpc::UNAVAILABLE, kMsg, "STORE_UNAVAILABLE"));
  EXPECT_THAT(Obtain("ada", "correct horse"),
              IsRpcError(grpc::UNAVAILABLE, kMsg, "STORE_UNAVAILABLE"));
}

// RevokeToken, WatchRevocations, GetJwks ---------------------------------

class RevocationTest : public AuthServiceTest {
 protected:
  grpc::Status Revoke(const std::string& token, bool all_sessions = false,
                      v1::RevokeTokenResponse* out = nullptr) {
    grpc::ClientContext ctx;
    v1::RevokeTokenRequest req;
    req.set_token(token);
    req.set_all_sessions(all_sessions);
    v1::RevokeTokenResponse resp;
    grpc::Status s = stub_->RevokeToken(&ctx, req, &resp);
    if (out != nullptr) *out = resp;
    return s;
  }
  // StartWatch starts WatchRevocations with a deadline: a watcher the feed
  // forgets fails the test instead of hanging it.
  std::unique_ptr<grpc::ClientReader<v1::RevocationEvents>> StartWatch(
      grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(30));
    return stub_->WatchRevocations(ctx, v1::WatchRevocationsRequest());
  }
  // OpenWatch starts WatchRevocations and reads its first message into
  // `first`; null unless that is a snapshot.
  std::unique_ptr<grpc::ClientReader<v1::RevocationEvents>> OpenWatch(
      grpc::ClientContext* ctx, v1::RevocationEvents* first) {
    std::unique_ptr<grpc::ClientReader<v1::RevocationEvents>> reader =
        StartWatch(ctx);
    if (reader->Read(first) && first->snapshot()) return reader;
    ctx->TryCancel();
    return nullptr;
  }
  std::string TokenOf(const std::string& user, const std::string& password) {
    TokenResponse resp;
    EXPECT_TRUE(Obtain(user, password, &resp).ok());
    return resp.token();
  }
};

constexpr absl::string_view kBlacklisted = "Token is blacklisted.";

TEST_F(RevocationTest, RevokedTokenIsRefusedByVerifyAndRefreshButOthersPass) {
  TokenSettings s;
  s.allow_refresh = true;
  Start(s);
  const std::string revoked = ObtainToken();
  const std::string other = ObtainToken();
  v1::RevokeTokenResponse resp;
  ASSERT_TRUE(Revoke(revoked, false, &resp).ok());
  EXPECT_FALSE(resp.all_sessions());
  // Kept until the token's exp plus the longest leeway a validator may allow
  // (a protected service may allow more than this server).
  EXPECT_EQ(resp.revoked_until().seconds(),
            Now() + absl::ToInt64Seconds(s.expiration_delta) + 600);
  EXPECT_THAT(Verify(revoked), IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                                          kBlacklisted, "TOKEN_REVOKED"));
  // Never refreshed (CVE-2020-10594 in drf-jwt's fork), never revoked twice.
  EXPECT_THAT(Refresh(revoked), IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                                           kBlacklisted, "TOKEN_REVOKED"));
  EXPECT_THAT(Revoke(revoked), IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                                          kBlacklisted, "TOKEN_REVOKED"));
  EXPECT_TRUE(Verify(other).ok());
  EXPECT_TRUE(Refresh(other).ok());
}

// One account looping Refresh and Revoke would otherwise add an entry to
// every watcher's set per loop, until watchers evicted other users'
// revocations.
TEST_F(RevocationTest, RevokingPastThePerUserCap_RevokesEverySessionAndSaysSo) {
  TokenSettings s;
  s.max_revoked_tokens_per_user = 2;
  Start(s);
  std::unique_ptr<AuthMetrics> metrics = *AuthMetrics::Create({});
  service_->set_metrics(metrics.get());
  AddUser("carol", "carol's password", true);
  const std::string carol = TokenOf("carol", "carol's password");
  const std::string kept = ObtainToken();
  for (int i = 0; i < 2; ++i) {
    v1::RevokeTokenResponse resp;
    ASSERT_TRUE(Revoke(ObtainToken(), false, &resp).ok());
    EXPECT_FALSE(resp.all_sessions());
    EXPECT_TRUE(resp.has_revoked_until());
  }
  EXPECT_TRUE(Verify(kept).ok());
  const std::string third = ObtainToken();
  v1::RevokeTokenResponse resp;
  ASSERT_TRUE(Revoke(third, false, &resp).ok());
  EXPECT_TRUE(resp.all_sessions());
  EXPECT_FALSE(resp.has_revoked_until());
  for (const std::string& t : {third, kept}) {
    EXPECT_THAT(Verify(t), IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                                      kBlacklisted, "TOKEN_REVOKED"));
  }
  EXPECT_TRUE(Verify(carol).ok());
  // What watchers are sent: ada's two jtis and her generation, no third.
  absl::StatusOr<Revocations> set =
      store_->RevocationsSince(0, absl::FromUnixSeconds(Now()));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->tokens.size(), 2u);
  ASSERT_EQ(set->users.size(), 1u);
  EXPECT_EQ(set->users[0].user_id, ada_id_);
  // A new login works; the cap still holds for it.
  const std::string fresh = ObtainToken();
  EXPECT_TRUE(Verify(fresh).ok());
  ASSERT_TRUE(Revoke(fresh, false, &resp).ok());
  EXPECT_TRUE(resp.all_sessions());
  // Operators see cap hits apart from asked-for logouts (an abuse signal).
  const std::string text = metrics->Render();
  EXPECT_THAT(text, HasSubstr("jwtauth_revocations_total{kind=\"token\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("jwtauth_revocations_total{kind=\"over_cap\"} 2\n"));
  EXPECT_THAT(
      text, HasSubstr("jwtauth_revocations_total{kind=\"all_sessions\"} 0\n"));
  service_->set_metrics(nullptr);  // no call is in flight
}

TEST_F(RevocationTest, ZeroRevokedTokensPerUser_IsRefusedByCreate) {
  Start(TokenSettings());
  TokenSettings s;
  s.max_revoked_tokens_per_user = 0;
  absl::StatusOr<std::unique_ptr<TokenService>> tokens = TokenService::Create(
      s, *jwt::KeySet::Create({Key()}), store_.get(),
      PasswordHasher(kTestIterations), ThrottleOptions(), clock_.AsClock());
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(tokens.status().message(),
              HasSubstr("max_revoked_tokens_per_user"));
}

TEST_F(RevocationTest, LogOutEverywhereRevokesEveryTokenOfThatUserOnly) {
  TokenSettings s;
  s.allow_refresh = true;
  Start(s);
  AddUser("carol", "carol's password", true);
  const std::string a1 = ObtainToken();
  const std::string a2 = ObtainToken();
  TokenResponse refreshed;
  ASSERT_TRUE(Refresh(a2, &refreshed).ok());
  const std::string carol = TokenOf("carol", "carol's password");
  v1::RevokeTokenResponse resp;
  ASSERT_TRUE(Revoke(a1, /*all_sessions=*/true, &resp).ok());
  EXPECT_FALSE(resp.has_revoked_until());
  EXPECT_TRUE(resp.all_sessions());
  for (const std::string& t : {a1, a2, refreshed.token()}) {
    EXPECT_THAT(Verify(t), IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                                      kBlacklisted, "TOKEN_REVOKED"));
    EXPECT_THAT(Refresh(t), IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                                       kBlacklisted, "TOKEN_REVOKED"));
  }
  EXPECT_TRUE(Verify(carol).ok());
  // Logging in again gives a token of the new generation, which works.
  const std::string fresh = ObtainToken();
  VerifyTokenResponse verified;
  ASSERT_TRUE(Verify(fresh, &verified).ok());
  EXPECT_EQ(verified.claims().fields().at("gen").number_value(), 1);
  TokenResponse again;
  ASSERT_TRUE(Refresh(fresh, &again).ok());
  EXPECT_TRUE(Verify(again.token()).ok());
}

TEST_F(RevocationTest, PasswordChangeAndDeactivationRevokeOutstandingTokens) {
  const std::string before_password = ObtainToken();
  ASSERT_TRUE(
      store_
          ->SetPasswordHash(
              ada_id_, *PasswordHasher(kTestIterations).Hash("new password"))
          .ok());
  EXPECT_THAT(Verify(before_password),
              IsRpcError(grpc::StatusCode::UNAUTHENTICATED, kBlacklisted,
                         "TOKEN_REVOKED"));
  const std::string before_disable = TokenOf("ada", "new password");
  ASSERT_TRUE(Verify(before_disable).ok());
  ASSERT_TRUE(store_->SetActive(ada_id_, false).ok());
  ASSERT_TRUE(store_->SetActive(ada_id_, true).ok());
  // Re-enabling does not bring the old token back.
  EXPECT_THAT(Verify(before_disable),
              IsRpcError(grpc::StatusCode::UNAUTHENTICATED, kBlacklisted,
                         "TOKEN_REVOKED"));
  EXPECT_TRUE(Verify(TokenOf("ada", "new password")).ok());
}

TEST_F(RevocationTest, WithoutSignatureChecks_RevokeIsRefusedLikeRefresh) {
  TokenSettings s;
  s.verify = false;  // JWT_VERIFY = False
  s.allow_refresh = true;
  Start(s);
  std::string forged = ObtainToken();
  char& c = forged[forged.size() - 10];  // inside the signature
  c = c == 'A' ? 'B' : 'A';
  ASSERT_TRUE(Verify(forged).ok());  // drf-jwt accepts it without checks
  for (bool all_sessions : {false, true}) {
    EXPECT_THAT(Revoke(forged, all_sessions),
                IsRpcError(grpc::UNAUTHENTICATED, jwt::kMsgIncorrectCredentials,
                           "TOKEN_REJECTED"))
        << all_sessions;
  }
  EXPECT_THAT(Refresh(forged),
              IsRpcError(grpc::UNAUTHENTICATED, jwt::kMsgIncorrectCredentials,
                         "TOKEN_REJECTED"));
  EXPECT_TRUE(Verify(forged).ok());  // nothing was revoked
}

TEST_F(RevocationTest, InvalidTokensRevokeNothingAndSayWhy) {
  const std::string good = ObtainToken();
  EXPECT_THAT(Revoke(""),
              IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                         "Error decoding signature.", "TOKEN_INVALID"));
  EXPECT_EQ(Revoke(good.substr(0, good.size() - 2) + "xx").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // A validly signed token without jti can only be revoked all at once.
  const std::string no_jti =
      Sign(absl::StrCat(R"({"user_id":)", ada_id_,
                        R"(,"username":"ada","exp":)", Now() + 60, "}"));
  ASSERT_TRUE(Verify(no_jti).ok());
  EXPECT_THAT(Revoke(no_jti),
              IsRpcError(grpc::StatusCode::INVALID_ARGUMENT,
                         "Token has no jti claim: revoke all sessions instead.",
                         "JTI_MISSING"));
  // A gen claim that is not an integer is an invalid payload.
  EXPECT_THAT(Verify(Sign(absl::StrCat(R"({"user_id":)", ada_id_,
                                       R"(,"username":"ada","gen":"0","exp":)",
                                       Now() + 60, "}"))),
              IsRpcError(grpc::StatusCode::UNAUTHENTICATED, "Invalid payload.",
                         "PAYLOAD_INVALID"));
  EXPECT_TRUE(Verify(good).ok());  // nothing was revoked
  EXPECT_TRUE(Verify(no_jti).ok());
}

TEST_F(RevocationTest, ExpiredTokenInItsRefreshWindowCanBeRevokedUntilItEnds) {
  TokenSettings s;
  s.allow_refresh = true;
  s.allow_expired_refresh = true;
  Start(s);
  const int64_t issued = Now();
  const std::string token = ObtainToken();
  clock_.Advance(s.expiration_delta + absl::Seconds(1));
  v1::RevokeTokenResponse resp;
  ASSERT_TRUE(Revoke(token, false, &resp).ok());
  EXPECT_EQ(resp.revoked_until().seconds(),
            issued + absl::ToInt64Seconds(s.refresh_expiration_delta));
  EXPECT_THAT(Refresh(token), IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                                         kBlacklisted, "TOKEN_REVOKED"));
  // Services validating locally are sent it until exp + 10 minutes only:
  // they refuse the expired token by themselves after that.
  absl::StatusOr<Revocations> sent =
      store_->RevocationsSince(0, absl::FromUnixSeconds(Now()));
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->tokens.size(), 1u);
  EXPECT_EQ(
      sent->tokens[0].expires_at,
      absl::FromUnixSeconds(issued) + s.expiration_delta + absl::Minutes(10));
}

// A token that leaked long ago, past its refresh window, cannot log its
// user out (everywhere, or by the per-user cap).
TEST_F(RevocationTest, ExpiredTokenPastItsRefreshWindow_RevokesNothing) {
  TokenSettings s;
  s.allow_refresh = true;
  s.allow_expired_refresh = true;
  s.refresh_expiration_delta = absl::Seconds(1000);
  Start(s);
  const std::string old = ObtainToken();
  clock_.Advance(absl::Seconds(1001));  // past orig_iat + 1000
  const std::string current = ObtainToken();
  for (bool all_sessions : {true, false}) {
    EXPECT_THAT(Revoke(old, all_sessions),
                IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                           "Signature has expired.", "TOKEN_EXPIRED"))
        << all_sessions;
  }
  EXPECT_TRUE(Verify(current).ok());
  absl::StatusOr<std::optional<User>> ada = store_->FindByUsername("ada");
  ASSERT_TRUE(ada.ok() && ada->has_value());
  EXPECT_EQ((*ada)->token_generation, 0);
}

// GatedRevocations forwards to a store; its RevocationsSince reads the store,
// then waits while the gate is closed: a store that answers slowly, with
// what it held at the time of the read.
class GatedRevocations final : public UserStore {
 public:
  explicit GatedRevocations(UserStore* inner) : inner_(inner) {}
  ~GatedRevocations() override { Open(); }

  void Close() {
    common::MutexLock lock(&mu_);
    open_ = false;
  }
  void Open() {
    common::MutexLock lock(&mu_);
    open_ = true;
  }
  // WaitForReads waits until RevocationsSince has read the store `n` times.
  void WaitForReads(int n) {
    common::MutexLock lock(&mu_);
    mu_.Await([this, n]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return reads_ >= n; });
  }

  absl::StatusOr<Revocations> RevocationsSince(int64_t seq,
                                               absl::Time now) override {
    absl::StatusOr<Revocations> r = inner_->RevocationsSince(seq, now);
    common::MutexLock lock(&mu_);
    ++reads_;
    mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return open_; });
    return r;
  }

  absl::StatusOr<std::optional<User>> FindByUsername(
      absl::string_view username) override {
    return inner_->FindByUsername(username);
  }
  absl::StatusOr<std::optional<User>> FindById(int64_t id) override {
    return inner_->FindById(id);
  }
  absl::StatusOr<std::vector<User>> ListUsers() override {
    return inner_->ListUsers();
  }
  absl::StatusOr<User> CreateUser(const NewUser& user) override {
    return inner_->CreateUser(user);
  }
  absl::Status SetPasswordHash(int64_t id, absl::string_view hash) override {
    return inner_->SetPasswordHash(id, hash);
  }
  absl::Status SetActive(int64_t id, bool active) override {
    return inner_->SetActive(id, active);
  }
  absl::Status DeleteUser(int64_t id) override {
    return inner_->DeleteUser(id);
  }
  absl::Status RecordLogin(int64_t id, absl::Time when) override {
    return inner_->RecordLogin(id, when);
  }
  absl::StatusOr<std::optional<TokenSubject>> FindForToken(
      absl::string_view username, absl::string_view jti) override {
    return inner_->FindForToken(username, jti);
  }
  absl::StatusOr<TokenRevocation> RevokeToken(
      absl::string_view jti, int64_t user_id, absl::Time expires_at,
      absl::Time watch_until, absl::Time now, size_t max_per_user) override {
    return inner_->RevokeToken(jti, user_id, expires_at, watch_until, now,
                               max_per_user);
  }
  absl::StatusOr<int64_t> BumpTokenGeneration(int64_t user_id) override {
    return inner_->BumpTokenGeneration(user_id);
  }

 private:
  UserStore* const inner_;
  common::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
};

// RevocationFeedTest: a feed over the fixture's store behind a gate, serving
// the fixture's AuthService.
class RevocationFeedTest : public RevocationTest {
 protected:
  void SetUp() override {
    RevocationTest::SetUp();
    gated_ = std::make_unique<GatedRevocations>(store_.get());
    RevocationFeedOptions options;
    options.poll_interval = absl::Hours(1);  // only Poke() (local revocations)
    feed_ = std::make_unique<RevocationFeed>(gated_.get(), clock_.AsClock(),
                                             options);
    feed_->Start();  // the store's first read, gate open
    service_->set_revocation_feed(feed_.get());
  }
  void TearDown() override {
    gated_->Open();
    feed_->Stop();
    // The server goes before the feed: a stream's end still uses it.
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    feed_.reset();
  }
  // RevokeDuringAStuckPoll revokes one token with the gate closed and waits
  // until the poll that this revocation's Poke() started has read the store
  // and hangs (read 2; read 1 was Start's).
  void RevokeDuringAStuckPoll() {
    gated_->Close();
    ASSERT_TRUE(Revoke(ObtainToken()).ok());
    gated_->WaitForReads(2);
  }

  std::unique_ptr<GatedRevocations> gated_;
  std::unique_ptr<RevocationFeed> feed_;
};

TEST_F(RevocationFeedTest,
       WatchWhileTheStoreHangs_IsParkedThenGetsEveryEarlierRevocation) {
  RevokeDuringAStuckPoll();
  // Revoked after the stuck poll read the store: its Poke() is pending.
  ASSERT_TRUE(Revoke(ObtainToken()).ok());
  grpc::ClientContext ctx;
  auto reader = StartWatch(&ctx);
  // The handler returned without waiting for the store (it used to wait on
  // the callback thread for as long as the store took).
  ASSERT_TRUE(Eventually([&] { return feed_->parked_watchers() == 1; }));
  EXPECT_EQ(feed_->watchers(), 0u);
  gated_->Open();
  // The stuck poll missed the second revocation; the snapshot comes after
  // the next poll, with both.
  v1::RevocationEvents events;
  ASSERT_TRUE(reader->Read(&events));
  EXPECT_TRUE(events.snapshot());
  EXPECT_EQ(events.tokens_size(), 2);
  EXPECT_EQ(feed_->parked_watchers(), 0u);
}

TEST_F(RevocationFeedTest, ParkedWatchCancelled_IsDroppedOthersAreServed) {
  RevokeDuringAStuckPoll();
  grpc::ClientContext cancelled_ctx;
  grpc::ClientContext kept_ctx;
  auto cancelled = StartWatch(&cancelled_ctx);
  auto kept = StartWatch(&kept_ctx);
  ASSERT_TRUE(Eventually([&] { return feed_->parked_watchers() == 2; }));
  cancelled_ctx.TryCancel();
  EXPECT_EQ(cancelled->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(Eventually([&] { return feed_->parked_watchers() == 1; }));
  gated_->Open();  // the poll must not touch the cancelled stream
  v1::RevocationEvents events;
  ASSERT_TRUE(kept->Read(&events));
  EXPECT_TRUE(events.snapshot());
  EXPECT_EQ(events.tokens_size(), 1);
  EXPECT_EQ(feed_->watchers(), 1u);
}

TEST_F(RevocationFeedTest, StopWhileTheStoreHangs_EndsParkedWatchAtOnce) {
  RevokeDuringAStuckPoll();
  grpc::ClientContext ctx;
  auto reader = StartWatch(&ctx);
  ASSERT_TRUE(Eventually([&] { return feed_->parked_watchers() == 1; }));
  // Stop waits for the poller, which waits for the store; the watcher does
  // not.
  std::thread stop([&] { feed_->Stop(); });
  v1::RevocationEvents events;
  EXPECT_FALSE(reader->Read(&events));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  gated_->Open();
  stop.join();
}

TEST_F(RevocationFeedTest, WatchIsCountedWhenAnswered_WithItsOutcome) {
  std::unique_ptr<AuthMetrics> metrics = *AuthMetrics::Create({});
  service_->set_metrics(metrics.get());
  auto count = [&](CallOutcome outcome) {
    return metrics->CallCount(AuthMethod::kWatchRevocations, outcome);
  };
  // Served: OK once its snapshot is queued.
  grpc::ClientContext served_ctx;
  auto served = StartWatch(&served_ctx);
  v1::RevocationEvents events;
  ASSERT_TRUE(served->Read(&events));
  EXPECT_EQ(count(CallOutcome::kOk), 1u);
  // Parked: not counted until answered; cancelled by the client, OTHER.
  RevokeDuringAStuckPoll();
  grpc::ClientContext cancelled_ctx;
  auto cancelled = StartWatch(&cancelled_ctx);
  ASSERT_TRUE(Eventually([&] { return feed_->parked_watchers() == 1; }));
  EXPECT_EQ(count(CallOutcome::kOk) + count(CallOutcome::kOther), 1u);
  cancelled_ctx.TryCancel();
  EXPECT_EQ(cancelled->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(Eventually([&] { return count(CallOutcome::kOther) == 1; }));
  // Parked at shutdown: OTHER (UNAVAILABLE without a reason).
  grpc::ClientContext stopped_ctx;
  auto stopped = StartWatch(&stopped_ctx);
  ASSERT_TRUE(Eventually([&] { return feed_->parked_watchers() == 1; }));
  std::thread stop([&] { feed_->Stop(); });
  EXPECT_EQ(stopped->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  gated_->Open();
  stop.join();
  EXPECT_EQ(served->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  // The served stream's end at shutdown is not a second count.
  EXPECT_EQ(count(CallOutcome::kOk), 1u);
  EXPECT_EQ(count(CallOutcome::kOther), 2u);
  service_->set_metrics(nullptr);  // no call is in flight
}

TEST_F(RevocationTest, WatchBeforeTheStoreWasRead_IsStoreUnavailableCounted) {
  std::unique_ptr<AuthMetrics> metrics = *AuthMetrics::Create({});
  service_->set_metrics(metrics.get());
  RevocationFeed feed(store_.get(), clock_.AsClock());  // never Start()ed
  service_->set_revocation_feed(&feed);
  grpc::ClientContext ctx;
  auto reader = StartWatch(&ctx);
  v1::RevocationEvents events;
  EXPECT_FALSE(reader->Read(&events));
  EXPECT_THAT(reader->Finish(),
              IsRpcError(grpc::UNAVAILABLE, "The user store is unavailable.",
                         "STORE_UNAVAILABLE"));
  EXPECT_EQ(metrics->CallCount(AuthMethod::kWatchRevocations,
                               CallOutcome::kStoreUnavailable),
            1u);
  EXPECT_EQ(metrics->CallCount(AuthMethod::kWatchRevocations, CallOutcome::kOk),
            0u);
  server_->Shutdown();
  server_.reset();
  service_->set_metrics(nullptr);
}

TEST_F(RevocationTest, WatchStartsWithSnapshotThenStreamsRevocations) {
  RevocationFeedOptions options;
  options.poll_interval = absl::Hours(1);  // only Poke() (local revocations)
  RevocationFeed feed(store_.get(), clock_.AsClock(), options);
  feed.Start();
  service_->set_revocation_feed(&feed);
  const std::string first = ObtainToken();
  ASSERT_TRUE(Revoke(first).ok());
  const std::string second = ObtainToken();

  grpc::ClientContext ctx;
  v1::RevocationEvents events;
  auto reader = OpenWatch(&ctx, &events);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(events.snapshot_complete());  // the whole snapshot
  ASSERT_EQ(events.tokens_size(), 1);
  EXPECT_EQ(events.tokens(0).expires_at().seconds(),
            Now() + absl::ToInt64Seconds(settings_.expiration_delta) + 600);
  EXPECT_EQ(events.users_size(), 0);

  ASSERT_TRUE(Revoke(second).ok());
  ASSERT_TRUE(reader->Read(&events));
  EXPECT_FALSE(events.snapshot());
  EXPECT_FALSE(events.snapshot_complete());
  ASSERT_EQ(events.tokens_size(), 1);
  EXPECT_NE(events.tokens(0).jti(), "");

  ASSERT_TRUE(Revoke(ObtainToken(), /*all_sessions=*/true).ok());
  ASSERT_TRUE(reader->Read(&events));
  ASSERT_EQ(events.users_size(), 1);
  EXPECT_EQ(events.users(0).user_id(), absl::StrCat(ada_id_));
  EXPECT_EQ(events.users(0).generation(), 1);

  // Stop (server shutdown) ends the stream with UNAVAILABLE.
  feed.Stop();
  while (reader->Read(&events)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  server_->Shutdown();
  server_.reset();
}

TEST_F(RevocationTest, LargeSnapshot_ComesInChunksAndOnlyTheLastSaysComplete) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Revoke(ObtainToken()).ok());
  ASSERT_TRUE(Revoke(ObtainToken(), /*all_sessions=*/true).ok());
  // 4 jtis and 1 user generation: 5 entries, in chunks of `chunk`.
  std::vector<std::unique_ptr<RevocationFeed>> feeds;  // outlive the streams
  for (size_t chunk : std::vector<size_t>{1, 2, 4, 5, 10}) {
    SCOPED_TRACE(absl::StrCat("chunk ", chunk));
    RevocationFeedOptions options;
    options.poll_interval = absl::Hours(1);
    options.chunk = chunk;
    options.max_pending = 1;  // deltas only: a snapshot is sent whole
    feeds.push_back(std::make_unique<RevocationFeed>(
        store_.get(), clock_.AsClock(), options));
    RevocationFeed& feed = *feeds.back();
    feed.Start();
    service_->set_revocation_feed(&feed);
    grpc::ClientContext ctx;
    auto reader = StartWatch(&ctx);
    std::vector<v1::RevocationEvents> snapshot;
    do {
      snapshot.emplace_back();
      ASSERT_TRUE(reader->Read(&snapshot.back()));
    } while (!snapshot.back().snapshot_complete());
    ASSERT_EQ(snapshot.size(), (5 + chunk - 1) / chunk);
    int entries = 0;
    for (size_t i = 0; i < snapshot.size(); ++i) {
      EXPECT_EQ(snapshot[i].snapshot(), i == 0) << i;
      // Said on every message of the snapshot, true on the last only.
      EXPECT_TRUE(snapshot[i].has_snapshot_complete()) << i;
      EXPECT_EQ(snapshot[i].snapshot_complete(), i + 1 == snapshot.size()) << i;
      entries += snapshot[i].tokens_size() + snapshot[i].users_size();
    }
    EXPECT_EQ(entries, 5);
    feed.Stop();
    // Shutdown goes out as itself, not as a store failure.
    EXPECT_FALSE(reader->Read(&snapshot.back()));
    const grpc::Status end = reader->Finish();
    EXPECT_EQ(end.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(end.error_message(), "server shutting down");
    EXPECT_EQ(end.error_details(), "");
  }
  server_->Shutdown();
  server_.reset();
}

TEST_F(RevocationTest, SnapshotSharedByWatchers_IsBuiltAgainOnceTheSetChanges) {
  RevocationFeedOptions options;
  options.poll_interval = absl::Hours(1);  // only Poke() (local revocations)
  RevocationFeed feed(store_.get(), clock_.AsClock(), options);
  feed.Start();
  service_->set_revocation_feed(&feed);
  ASSERT_TRUE(Revoke(ObtainToken()).ok());
  ASSERT_TRUE(Eventually([&] { return feed.revoked_tokens() == 1; }));
  // Two watchers in a row, no change between them: one build.
  grpc::ClientContext first_ctx, second_ctx, third_ctx;
  v1::RevocationEvents events;
  auto first = OpenWatch(&first_ctx, &events);
  ASSERT_NE(first, nullptr);
  auto second = OpenWatch(&second_ctx, &events);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(events.tokens_size(), 1);
  EXPECT_EQ(feed.snapshots_built(), 1u);
  // A change: the next watcher's snapshot holds it.
  ASSERT_TRUE(Revoke(ObtainToken()).ok());
  ASSERT_TRUE(Eventually([&] { return feed.revoked_tokens() == 2; }));
  auto third = OpenWatch(&third_ctx, &events);
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(events.tokens_size(), 2);
  EXPECT_EQ(feed.snapshots_built(), 2u);
  feed.Stop();
  for (auto* reader : {first.get(), second.get(), third.get()}) {
    while (reader->Read(&events)) {
    }
    reader->Finish();
  }
  server_->Shutdown();
  server_.reset();
}

TEST_F(RevocationTest, MaxWatchers_RefusesOneMoreUntilOneEnds) {
  RevocationFeedOptions options;
  options.max_watchers = 1;
  RevocationFeed feed(store_.get(), clock_.AsClock(), options);
  feed.Start();
  service_->set_revocation_feed(&feed);
  auto first_ctx = std::make_unique<grpc::ClientContext>();
  v1::RevocationEvents events;
  auto first = OpenWatch(first_ctx.get(), &events);
  ASSERT_NE(first, nullptr);
  grpc::ClientContext refused_ctx;
  auto refused = StartWatch(&refused_ctx);
  EXPECT_FALSE(refused->Read(&events));
  const grpc::Status status = refused->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "too many watchers");
  first_ctx->TryCancel();
  first->Finish();
  ASSERT_TRUE(Eventually([&] { return feed.watchers() == 0; }));
  grpc::ClientContext next_ctx;
  EXPECT_NE(OpenWatch(&next_ctx, &events), nullptr);
  feed.Stop();
  server_->Shutdown();
  server_.reset();
}

TEST_F(RevocationTest, EmptySnapshot_IsOneMessageBothFirstAndComplete) {
  RevocationFeed feed(store_.get(), clock_.AsClock());
  feed.Start();
  service_->set_revocation_feed(&feed);
  grpc::ClientContext ctx;
  v1::RevocationEvents events;
  auto reader = OpenWatch(&ctx, &events);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(events.snapshot_complete());
  EXPECT_EQ(events.tokens_size() + events.users_size(), 0);
  feed.Stop();
  EXPECT_FALSE(reader->Read(&events));
  reader->Finish();
  server_->Shutdown();
  server_.reset();
}

TEST_F(RevocationTest, GetJwksWithoutPublicKeysIsAnEmptySet) {
  grpc::ClientContext ctx;
  v1::GetJwksResponse resp;
  ASSERT_TRUE(stub_->GetJwks(&ctx, v1::GetJwksRequest(), &resp).ok());
  EXPECT_EQ(resp.jwks_json(), R"({"keys":[]})");
}

}  // namespace
}  // namespace jwtauth::server
