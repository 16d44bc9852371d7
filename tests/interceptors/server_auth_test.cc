// End-to-end tests of the server-side validation: for every server API
// (sync, callback, async) and every credential type (plaintext, TLS, mTLS,
// local), a call without a valid token never reaches the handler and gets
// drf-jwt's message; a valid one does. Plus public methods, required claims,
// two users on one connection, and a cache that never serves an expired token.
#include "interceptors/server_auth.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/key_loader.h"
#include "jwt/signer.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "tests/testing/test_pki.h"
#include "tests/testing/test_util.h"

namespace jwtauth::interceptors {
namespace {

namespace v1 = ::jwtauth::examples::v1;
using ::jwtauth::testing::FakeClock;
using ::jwtauth::testing::TestPki;

const std::string kSecret = "server auth test secret of 32+ bytes";

jwt::Key Key() {
  return *jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, kSecret);
}

std::string TokenFor(const std::string& user, absl::Time exp,
                     const std::string& extra = "") {
  jwt::RawJwt raw;
  raw.SetInt("user_id", 7)
      .SetString("username", user)
      .SetNumericDate("exp", exp);
  if (!extra.empty()) raw.SetString("scope", extra);
  return *jwt::JwtSigner::Create(Key())->Sign(raw);
}

const TestPki& Pki() {
  static const TestPki* pki = new TestPki(jwtauth::testing::MakeTestPki());
  return *pki;
}

enum class Creds { kInsecure, kTls, kMtls, kLocal };
enum class Api { kSync, kCallback, kAsync };

std::string Name(Creds c) {
  switch (c) {
    case Creds::kInsecure:
      return "Plaintext";
    case Creds::kTls:
      return "Tls";
    case Creds::kMtls:
      return "Mtls";
    case Creds::kLocal:
      return "Local";
  }
  return "";
}
std::string Name(Api a) {
  switch (a) {
    case Api::kSync:
      return "Sync";
    case Api::kCallback:
      return "Callback";
    case Api::kAsync:
      return "Async";
  }
  return "";
}

// The handlers count their calls: a refused call must leave the count alone.
class SyncProfile final : public v1::Profile::Service {
 public:
  explicit SyncProfile(std::atomic<int>* calls) : calls_(calls) {}
  grpc::Status Echo(grpc::ServerContext*, const v1::EchoRequest* req,
                    v1::EchoResponse* resp) override {
    ++*calls_;
    resp->set_message(req->message());
    return grpc::Status::OK;
  }
  grpc::Status WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest*,
                      v1::WhoAmIResponse* resp) override {
    ++*calls_;
    absl::StatusOr<std::shared_ptr<const Caller>> caller = CallerClaims(*ctx);
    if (!caller.ok())
      return grpc::Status(grpc::StatusCode::INTERNAL, "no caller in handler");
    resp->set_username((*caller)->username);
    return grpc::Status::OK;
  }

 private:
  std::atomic<int>* calls_;
};

class CallbackProfile final : public v1::Profile::CallbackService {
 public:
  explicit CallbackProfile(std::atomic<int>* calls) : calls_(calls) {}
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const v1::EchoRequest* req,
                                 v1::EchoResponse* resp) override {
    ++*calls_;
    resp->set_message(req->message());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx,
                                   const v1::WhoAmIRequest*,
                                   v1::WhoAmIResponse* resp) override {
    ++*calls_;
    auto* r = ctx->DefaultReactor();
    absl::StatusOr<std::shared_ptr<const Caller>> caller = CallerClaims(*ctx);
    if (caller.ok()) resp->set_username((*caller)->username);
    r->Finish(caller.ok() ? grpc::Status::OK
                          : grpc::Status(grpc::StatusCode::INTERNAL,
                                         "no caller in handler"));
    return r;
  }

 private:
  std::atomic<int>* calls_;
};

// AsyncEcho serves Profile.Echo with the completion-queue API.
class AsyncEcho {
 public:
  explicit AsyncEcho(std::atomic<int>* calls) : calls_(calls) {}
  v1::Profile::AsyncService* service() { return &service_; }
  void Start(std::unique_ptr<grpc::ServerCompletionQueue> cq) {
    cq_ = std::move(cq);
    Request();
    thread_ = std::thread([this] { Loop(); });
  }
  // Stop must follow the server's Shutdown().
  void Stop() {
    {
      common::MutexLock lock(&mu_);
      stopping_ = true;
    }
    cq_->Shutdown();
    thread_.join();
  }

 private:
  struct Call {
    grpc::ServerContext ctx;
    v1::EchoRequest req;
    grpc::ServerAsyncResponseWriter<v1::EchoResponse> responder{&ctx};
    bool answered = false;
  };
  void Request() {
    auto* call = new Call;
    service_.RequestEcho(&call->ctx, &call->req, &call->responder, cq_.get(),
                         cq_.get(), call);
  }
  void Loop() {
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) {
      auto* call = static_cast<Call*>(tag);
      if (!ok || call->answered) {
        delete call;
        continue;
      }
      ++*calls_;
      call->answered = true;
      v1::EchoResponse resp;
      resp.set_message(call->req.message());
      call->responder.Finish(resp, grpc::Status::OK, call);
      common::MutexLock lock(&mu_);
      if (!stopping_) Request();
    }
  }
  std::atomic<int>* calls_;
  v1::Profile::AsyncService service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::thread thread_;
  common::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// ProtectedServer: a Profile server of one API behind one credential type.
class ProtectedServer {
 public:
  ProtectedServer(Api api, Creds creds, std::shared_ptr<ServerAuth> auth)
      : api_(api) {
    grpc::ServerBuilder builder;
    std::shared_ptr<grpc::ServerCredentials> base;
    switch (creds) {
      case Creds::kInsecure:
        base = grpc::InsecureServerCredentials();
        break;
      case Creds::kTls:
      case Creds::kMtls: {
        grpc::SslServerCredentialsOptions o;
        o.pem_key_cert_pairs.push_back({Pki().server_key, Pki().server_cert});
        if (creds == Creds::kMtls) {
          o.pem_root_certs = Pki().ca_cert;
          o.client_certificate_request =
              GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
        }
        base = grpc::SslServerCredentials(o);
        break;
      }
      case Creds::kLocal:
        base = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
        break;
    }
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", auth->Credentials(base), &port);
    std::unique_ptr<grpc::ServerCompletionQueue> cq;
    switch (api) {
      case Api::kSync:
        sync_ = std::make_unique<SyncProfile>(&calls);
        builder.RegisterService(sync_.get());
        break;
      case Api::kCallback:
        callback_ = std::make_unique<CallbackProfile>(&calls);
        builder.RegisterService(callback_.get());
        break;
      case Api::kAsync:
        async_ = std::make_unique<AsyncEcho>(&calls);
        builder.RegisterService(async_->service());
        cq = builder.AddCompletionQueue();
        break;
    }
    server_ = builder.BuildAndStart();
    EXPECT_NE(port, 0);
    if (async_ != nullptr) async_->Start(std::move(cq));
    std::shared_ptr<grpc::ChannelCredentials> channel_creds;
    switch (creds) {
      case Creds::kInsecure:
        channel_creds = grpc::InsecureChannelCredentials();
        break;
      case Creds::kTls:
      case Creds::kMtls: {
        grpc::SslCredentialsOptions o;
        o.pem_root_certs = Pki().ca_cert;
        if (creds == Creds::kMtls) {
          o.pem_cert_chain = Pki().client_cert;
          o.pem_private_key = Pki().client_key;
        }
        channel_creds = grpc::SslCredentials(o);
        break;
      }
      case Creds::kLocal:
        channel_creds = grpc::experimental::LocalCredentials(LOCAL_TCP);
        break;
    }
    channel_ =
        grpc::CreateChannel(absl::StrCat("localhost:", port), channel_creds);
    stub_ = v1::Profile::NewStub(channel_);
  }
  ~ProtectedServer() {
    server_->Shutdown();
    if (async_ != nullptr) async_->Stop();
  }

  // Echo calls Profile.Echo with `authorization` values (none when empty).
  grpc::Status Echo(const std::vector<std::string>& authorization) {
    grpc::ClientContext ctx;
    for (const std::string& a : authorization)
      ctx.AddMetadata("authorization", a);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::EchoRequest req;
    req.set_message("hi");
    v1::EchoResponse resp;
    grpc::Status s = stub_->Echo(&ctx, req, &resp);
    if (s.ok()) {
      EXPECT_EQ(resp.message(), "hi");
    }
    return s;
  }
  grpc::Status WhoAmI(const std::string& authorization, std::string* username) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", authorization);
    v1::WhoAmIResponse resp;
    grpc::Status s = stub_->WhoAmI(&ctx, {}, &resp);
    *username = resp.username();
    return s;
  }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  bool has_whoami() const { return api_ != Api::kAsync; }

  std::atomic<int> calls{0};

 private:
  Api api_;
  std::unique_ptr<SyncProfile> sync_;
  std::unique_ptr<CallbackProfile> callback_;
  std::unique_ptr<AsyncEcho> async_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Profile::Stub> stub_;
};

MATCHER_P2(IsRpcError, code, message, "") {
  *result_listener << "got " << arg.error_code() << " \"" << arg.error_message()
                   << "\"";
  return arg.error_code() == code && arg.error_message() == message;
}

class ServerAuthTest : public ::testing::Test {
 protected:
  std::shared_ptr<ServerAuth> MakeAuth(ServerAuthOptions options = {}) {
    if (options.validator == nullptr) {
      options.validator =
          LocalValidator(*jwt::Verifier::Create(*jwt::KeySet::Create({Key()}),
                                                {}, clock_.AsClock()),
                         {}, clock_.AsClock());
    }
    return *ServerAuth::Create(std::move(options));
  }
  FakeClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
};

class EveryApiAndCredential
    : public ServerAuthTest,
      public ::testing::WithParamInterface<std::tuple<Api, Creds>> {};

TEST_P(EveryApiAndCredential, CallsWithoutValidTokenNeverReachTheHandler) {
  auto [api, creds] = GetParam();
  ProtectedServer server(api, creds, MakeAuth());
  const std::string good = TokenFor("ada", clock_.Now() + absl::Minutes(5));
  const std::string expired = TokenFor("ada", clock_.Now() - absl::Seconds(1));
  std::string tampered = good;
  tampered[tampered.size() - 2] =
      tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  struct Case {
    std::vector<std::string> authorization;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{}, "Authentication credentials were not provided."},
      {{"Basic dXNlcjpwYXNz"}, "Authentication credentials were not provided."},
      {{"JWT"}, "Invalid Authorization header. No credentials provided."},
      {{"JWT " + good + " extra"},
       "Invalid Authorization header. Credentials string should not contain "
       "spaces."},
      {{"JWT " + good, "JWT " + good},
       "Invalid Authorization header. Credentials string should not contain "
       "spaces."},
      {{"JWT " + expired}, "Signature has expired."},
      {{"JWT " + tampered}, "Error decoding signature."},
      {{"JWT not-a-token"}, "Error decoding signature."},
      {{"JWT " + std::string(6000, 'a')}, "Error decoding signature."},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(
        server.Echo(c.authorization),
        IsRpcError(grpc::StatusCode::UNAUTHENTICATED, std::string(c.message)));
  }
  EXPECT_EQ(server.calls.load(), 0) << "a refused call reached the handler";
  // And a valid token does reach it, with any case and spacing of the prefix.
  grpc::Status ok = server.Echo({"JWT " + good});
  EXPECT_TRUE(ok.ok()) << ok.error_code() << " " << ok.error_message();
  EXPECT_TRUE(server.Echo({"  jwt   " + good + " "}).ok());
  EXPECT_EQ(server.calls.load(), 2);
  // Metadata over gRPC's own limit (8 KiB) is refused by the transport, which
  // also drops the connection (so this comes last).
  grpc::Status huge = server.Echo({"JWT " + std::string(20000, 'a')});
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << huge.error_message();
  EXPECT_EQ(server.calls.load(), 2);
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, EveryApiAndCredential,
    ::testing::Combine(::testing::Values(Api::kSync, Api::kCallback,
                                         Api::kAsync),
                       ::testing::Values(Creds::kInsecure, Creds::kTls,
                                         Creds::kMtls, Creds::kLocal)),
    [](const ::testing::TestParamInfo<std::tuple<Api, Creds>>& p) {
      return Name(std::get<0>(p.param)) + Name(std::get<1>(p.param));
    });

TEST_F(ServerAuthTest, TwoUsersOnOneConnectionEachSeeTheirOwnClaims) {
  ProtectedServer server(Api::kCallback, Creds::kInsecure, MakeAuth());
  const std::string ada =
      "JWT " + TokenFor("ada", clock_.Now() + absl::Minutes(5));
  const std::string bob =
      "JWT " + TokenFor("bob", clock_.Now() + absl::Minutes(5));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const bool is_ada = (i + t) % 2 == 0;
        std::string who;
        grpc::Status s = server.WhoAmI(is_ada ? ada : bob, &who);
        if (!s.ok() || who != (is_ada ? "ada" : "bob")) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(ServerAuthTest, SyncHandlerReadsCallerClaims) {
  ProtectedServer server(Api::kSync, Creds::kTls, MakeAuth());
  std::string who;
  ASSERT_TRUE(
      server
          .WhoAmI("JWT " + TokenFor("ada", clock_.Now() + absl::Minutes(1)),
                  &who)
          .ok());
  EXPECT_EQ(who, "ada");
}

TEST_F(ServerAuthTest, HealthCheckIsPublicByDefault) {
  grpc::EnableDefaultHealthCheckService(true);
  ProtectedServer server(Api::kCallback, Creds::kInsecure, MakeAuth());
  grpc::GenericStub stub(server.channel());
  grpc::ClientContext ctx;
  grpc::CompletionQueue cq;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  auto call =
      stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(server.calls.load(), 0);
  grpc::EnableDefaultHealthCheckService(false);
}

TEST_F(ServerAuthTest, ConfiguredPublicMethodNeedsNoToken) {
  ServerAuthOptions o;
  o.public_methods = {"/jwtauth.examples.v1.Profile/Echo"};
  ProtectedServer server(Api::kCallback, Creds::kInsecure, MakeAuth(o));
  EXPECT_TRUE(server.Echo({}).ok());
  std::string who;
  EXPECT_THAT(
      server.WhoAmI("", &who),
      IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                 std::string("Authentication credentials were not provided.")));
}

TEST_F(ServerAuthTest, MissingRequiredClaimIsPermissionDenied) {
  ServerAuthOptions o;
  o.required_claims["/jwtauth.examples.v1.Profile/Echo"] = {{"scope", "echo"}};
  ProtectedServer server(Api::kCallback, Creds::kInsecure, MakeAuth(o));
  const absl::Time exp = clock_.Now() + absl::Minutes(1);
  EXPECT_THAT(
      server.Echo({"JWT " + TokenFor("ada", exp)}),
      IsRpcError(
          grpc::StatusCode::PERMISSION_DENIED,
          std::string("You do not have permission to perform this action.")));
  EXPECT_THAT(
      server.Echo({"JWT " + TokenFor("ada", exp, "read write")}),
      IsRpcError(
          grpc::StatusCode::PERMISSION_DENIED,
          std::string("You do not have permission to perform this action.")));
  EXPECT_EQ(server.calls.load(), 0);
  EXPECT_TRUE(server.Echo({"JWT " + TokenFor("ada", exp, "read echo")}).ok());
  // WhoAmI has no requirement.
  std::string who;
  EXPECT_TRUE(server.WhoAmI("JWT " + TokenFor("ada", exp), &who).ok());
}

TEST_F(ServerAuthTest, CustomPrefixIsHonoured) {
  ServerAuthOptions o;
  o.header_prefix = "Bearer";
  ProtectedServer server(Api::kCallback, Creds::kInsecure, MakeAuth(o));
  const std::string token = TokenFor("ada", clock_.Now() + absl::Minutes(1));
  EXPECT_TRUE(server.Echo({"bearer " + token}).ok());
  EXPECT_THAT(
      server.Echo({"JWT " + token}),
      IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                 std::string("Authentication credentials were not provided.")));
}

TEST_F(ServerAuthTest, CacheNeverServesAnExpiredToken) {
  std::shared_ptr<ServerAuth> auth = MakeAuth();
  ProtectedServer server(Api::kCallback, Creds::kInsecure, auth);
  const std::string token =
      "JWT " + TokenFor("ada", clock_.Now() + absl::Seconds(30));
  EXPECT_TRUE(server.Echo({token}).ok());
  EXPECT_TRUE(server.Echo({token}).ok());
  EXPECT_GE(auth->CacheStats().hits, 1u);
  EXPECT_EQ(auth->CacheStats().size, 1u);
  clock_.Advance(absl::Seconds(30));
  EXPECT_THAT(server.Echo({token}),
              IsRpcError(grpc::StatusCode::UNAUTHENTICATED,
                         std::string("Signature has expired.")));
  EXPECT_EQ(server.calls.load(), 2);
}

TEST_F(ServerAuthTest, CreateRefusesBadOptions) {
  EXPECT_FALSE(ServerAuth::Create({}).ok());
  ServerAuthOptions o;
  o.validator =
      LocalValidator(*jwt::Verifier::Create(*jwt::KeySet::Create({Key()}), {}));
  o.header_prefix = "J W T";
  EXPECT_FALSE(ServerAuth::Create(o).ok());
}

}  // namespace
}  // namespace jwtauth::interceptors
