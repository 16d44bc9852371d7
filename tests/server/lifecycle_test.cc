// Token lifecycle through the programs, as operators run them (issue 9): two
// jwtauth-server replicas on one SQLite file and one key directory made by
// `jwtauth keys`, each with its HTTP listener. Revocation made through one
// replica is refused by the other and reaches the other's WatchRevocations
// stream; a key rotation (SIGHUP) keeps old tokens valid until the old key is
// retired; PyJWT's PyJWKClient and node jose's createRemoteJWKSet verify
// tokens from /.well-known/jwks.json; /metrics parses as Prometheus text.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/auth_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/base64url.h"
#include "jwt/json.h"
#include "jwtauth/v1/auth.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::Subprocess;
using ::jwtauth::testing::TempDir;
using ::jwtauth::testing::WaitForFile;
using ::testing::HasSubstr;

constexpr char kPassword[] = "wonderland";

std::string KidOf(const std::string& token) {
  std::string header;
  if (!jwt::Base64UrlDecode(token.substr(0, token.find('.')), header))
    return "";
  absl::StatusOr<jwt::Json> json = jwt::ParseJson(header);
  if (!json.ok() || json->Find("kid") == nullptr) return "";
  return json->Find("kid")->string_value();
}

size_t KeyCount(const std::string& jwks_json) {
  absl::StatusOr<jwt::Json> json = jwt::ParseJson(jwks_json);
  if (!json.ok() || json->Find("keys") == nullptr) return 0;
  return json->Find("keys")->items().size();
}

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    Subprocess keys({JWTAUTH_CLI_BIN, "--key_dir=" + dir_.File("keys"), "keys",
                     "generate", "--algorithm=ES256"});
    ASSERT_EQ(keys.Run(), 0) << keys.Stderr();
    Subprocess admin({JWTAUTH_ADMIN_BIN, "--data_dir=" + dir_.path(),
                      "--pbkdf2_iterations=1000", "users", "add", "alice"},
                     {}, absl::StrCat(kPassword, "\n"));
    ASSERT_EQ(admin.Run(), 0) << admin.Stderr();
    for (int i = 0; i < 2; ++i) StartReplica(i);
  }

  void TearDown() override {
    // Close our connections first: an idle client connection would hold
    // each server's graceful shutdown for ~5 s (docs/design.md, SIGTERM).
    for (auto& r : replicas_) {
      r.client.reset();
      r.channel.reset();
    }
    for (auto& r : replicas_) {
      if (r.process != nullptr && r.process->running())
        r.process->Signal(SIGTERM);
    }
    for (auto& r : replicas_) {
      if (r.process != nullptr && r.process->running()) {
        EXPECT_EQ(r.process->WaitFor(absl::Seconds(30)), 0)
            << r.process->Stderr();
      }
    }
  }

  void StartReplica(int i) {
    const std::string port_file = dir_.File(absl::StrCat("port", i));
    Replica& r = replicas_[static_cast<size_t>(i)];
    r.process = std::make_unique<Subprocess>(std::vector<std::string>{
        JWTAUTH_SERVER_BIN, "--listen=127.0.0.1:0", "--http_listen=127.0.0.1:0",
        "--data_dir=" + dir_.path(), "--key_dir=" + dir_.File("keys"),
        "--port_file=" + port_file, "--revocation_poll=100ms",
        "--pbkdf2_iterations=1000", "--max_watchers=1"});
    ASSERT_TRUE(r.process->Start());
    const std::string port = WaitForFile(port_file, absl::Seconds(30));
    ASSERT_FALSE(port.empty()) << r.process->Stderr();
    const std::string http = WaitForFile(port_file + ".http", absl::Seconds(5));
    ASSERT_FALSE(http.empty()) << r.process->Stderr();
    r.address = absl::StrCat("127.0.0.1:", absl::StripAsciiWhitespace(port));
    r.http =
        absl::StrCat("http://127.0.0.1:", absl::StripAsciiWhitespace(http));
    r.channel =
        grpc::CreateChannel(r.address, grpc::InsecureChannelCredentials());
    r.client = std::make_unique<client::AuthClient>(r.channel);
  }

  client::AuthClient& Client(int i) {
    return *replicas_[static_cast<size_t>(i)].client;
  }

  std::string Token(int replica = 0) {
    absl::StatusOr<client::IssuedToken> t =
        Client(replica).Obtain("alice", kPassword);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token : "";
  }

  // Reload sends SIGHUP to both replicas and waits until each serves a JWK
  // Set of `keys` keys.
  void ReloadAndWaitForKeys(size_t keys) {
    for (auto& r : replicas_) r.process->Signal(SIGHUP);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    for (int i = 0; i < 2; ++i) {
      for (;;) {
        absl::StatusOr<std::string> jwks = Client(i).Jwks();
        if (jwks.ok() && KeyCount(*jwks) == keys) break;
        ASSERT_LT(absl::Now(), deadline) << "replica " << i << " still has "
                                         << (jwks.ok() ? *jwks : "no JWKS");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }

  int RunCli(std::vector<std::string> args) {
    std::vector<std::string> argv = {JWTAUTH_CLI_BIN,
                                     "--key_dir=" + dir_.File("keys")};
    argv.insert(argv.end(), args.begin(), args.end());
    Subprocess p(argv);
    const int code = p.Run();
    EXPECT_EQ(code, 0) << p.Stderr();
    return code;
  }

  struct Replica {
    std::unique_ptr<Subprocess> process;
    std::string address;
    std::string http;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<client::AuthClient> client;
  };
  TempDir dir_;
  std::array<Replica, 2> replicas_;
};

TEST_F(Lifecycle, WatchersPastMaxWatchersAreResourceExhausted) {
  auto stub = jwtauth::v1::AuthService::NewStub(grpc::CreateChannel(
      replicas_[0].address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext first;
  first.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
  auto held =
      stub->WatchRevocations(&first, jwtauth::v1::WatchRevocationsRequest());
  jwtauth::v1::RevocationEvents events;
  ASSERT_TRUE(held->Read(&events));
  ASSERT_TRUE(events.snapshot());
  grpc::ClientContext second;
  second.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(30));
  auto refused =
      stub->WatchRevocations(&second, jwtauth::v1::WatchRevocationsRequest());
  EXPECT_FALSE(refused->Read(&events));
  const grpc::Status status = refused->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  first.TryCancel();
  held->Finish();
}

TEST_F(Lifecycle, RevocationThroughOneReplicaReachesTheOtherAndItsWatchers) {
  // A watcher of replica 1, as a locally validating service would hold.
  auto stub = jwtauth::v1::AuthService::NewStub(grpc::CreateChannel(
      replicas_[1].address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auto reader =
      stub->WatchRevocations(&ctx, jwtauth::v1::WatchRevocationsRequest());
  jwtauth::v1::RevocationEvents events;
  ASSERT_TRUE(reader->Read(&events));
  ASSERT_TRUE(events.snapshot());

  std::vector<double> delays_ms;
  for (int i = 0; i < 10; ++i) {
    const std::string token = Token(0);
    ASSERT_TRUE(Client(1).Verify(token).ok());
    const absl::Time revoked_at = absl::Now();
    ASSERT_TRUE(Client(0).Revoke(token).ok());
    // Refused by the other replica at once: they share the store.
    absl::StatusOr<client::VerifiedToken> v = Client(1).Verify(token);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(client::ErrorReason(v.status()), "TOKEN_REVOKED");
    EXPECT_EQ(v.status().message(), "Token is blacklisted.");
    // And streamed by replica 1, which polls the store (100 ms here).
    ASSERT_TRUE(reader->Read(&events)) << reader->Finish().error_message();
    EXPECT_FALSE(events.snapshot());
    ASSERT_EQ(events.tokens_size(), 1);
    delays_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - revoked_at));
  }
  std::sort(delays_ms.begin(), delays_ms.end());
  std::printf(
      "revocation propagated to the other replica's watchers: median %.1f ms, "
      "max %.1f ms over %zu revocations (--revocation_poll=100ms)\n",
      delays_ms[delays_ms.size() / 2], delays_ms.back(), delays_ms.size());

  // Log out everywhere through replica 1, seen by replica 0.
  const std::string a = Token(0);
  const std::string b = Token(1);
  ASSERT_TRUE(Client(1).Revoke(a, /*all_sessions=*/true).ok());
  for (const std::string& t : {a, b}) {
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<client::VerifiedToken> v = Client(i).Verify(t);
      EXPECT_EQ(client::ErrorReason(v.status()), "TOKEN_REVOKED");
    }
  }
  ASSERT_TRUE(reader->Read(&events));
  ASSERT_EQ(events.users_size(), 1);
  EXPECT_TRUE(Client(0).Verify(Token(1)).ok());
  ctx.TryCancel();
  while (reader->Read(&events)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(Lifecycle, RotationKeepsOldTokensValidUntilTheOldKeyIsRetired) {
  const std::string old_token = Token(0);
  const std::string old_kid = KidOf(old_token);
  ASSERT_FALSE(old_kid.empty());
  ASSERT_EQ(RunCli({"keys", "rotate", "--verify_for=1h"}), 0);
  ReloadAndWaitForKeys(2);
  const std::string new_token = Token(1);
  const std::string new_kid = KidOf(new_token);
  EXPECT_NE(new_kid, old_kid);
  EXPECT_EQ(KidOf(Token(0)), new_kid);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(Client(i).Verify(old_token).ok()) << i;
    EXPECT_TRUE(Client(i).Verify(new_token).ok()) << i;
  }
  ASSERT_EQ(RunCli({"keys", "retire", old_kid}), 0);
  ReloadAndWaitForKeys(1);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<client::VerifiedToken> v = Client(i).Verify(old_token);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated) << i;
    EXPECT_TRUE(Client(i).Verify(new_token).ok()) << i;
  }
  EXPECT_THAT(replicas_[0].process->Stderr(), HasSubstr("keys reloaded"));
}

TEST_F(Lifecycle, JwksUrlVerifiesTokensWithPyJwkClientAndNodeJose) {
  const std::string url = replicas_[0].http + "/.well-known/jwks.json";
  const std::string token = Token(0);
  std::string tampered = token;
  tampered[tampered.size() - 5] =
      tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';

  Subprocess py({JWTAUTH_PYTHON, JWTAUTH_LIFECYCLE_CHECK, "jwks", url}, {},
                token);
  ASSERT_EQ(py.Run(), 0) << py.Stderr();
  EXPECT_EQ(absl::StripAsciiWhitespace(py.Stdout()), "alice");
  Subprocess py_bad({JWTAUTH_PYTHON, JWTAUTH_LIFECYCLE_CHECK, "jwks", url}, {},
                    tampered);
  EXPECT_NE(py_bad.Run(), 0);

  Subprocess node({JWTAUTH_NODE, JWTAUTH_JOSE_CHECK, url}, {}, token);
  ASSERT_EQ(node.Run(), 0) << node.Stderr();
  EXPECT_EQ(absl::StripAsciiWhitespace(node.Stdout()), "alice");
  Subprocess node_bad({JWTAUTH_NODE, JWTAUTH_JOSE_CHECK, url}, {}, tampered);
  EXPECT_EQ(node_bad.Run(), 1);

  // After a rotation both find the new kid in the refetched set.
  ASSERT_EQ(RunCli({"keys", "rotate", "--verify_for=1h"}), 0);
  ReloadAndWaitForKeys(2);
  const std::string rotated = Token(0);
  Subprocess py2({JWTAUTH_PYTHON, JWTAUTH_LIFECYCLE_CHECK, "jwks", url}, {},
                 rotated);
  EXPECT_EQ(py2.Run(), 0) << py2.Stderr();
  Subprocess node2({JWTAUTH_NODE, JWTAUTH_JOSE_CHECK, url}, {}, rotated);
  EXPECT_EQ(node2.Run(), 0) << node2.Stderr();
}

TEST_F(Lifecycle, MetricsEndpointIsPrometheusTextWithTheExpectedSeries) {
  const std::string token = Token(0);
  ASSERT_TRUE(Client(0).Verify(token).ok());
  EXPECT_FALSE(Client(0).Verify("not.a.token").ok());
  EXPECT_FALSE(Client(0).Obtain("alice", "wrong password").ok());
  ASSERT_TRUE(Client(0).Revoke(token).ok());
  EXPECT_FALSE(Client(0).Verify(token).ok());
  ASSERT_TRUE(Client(0).Jwks().ok());

  Subprocess py({JWTAUTH_PYTHON, JWTAUTH_LIFECYCLE_CHECK, "metrics",
                 replicas_[0].http + "/metrics"});
  ASSERT_EQ(py.Run(), 0) << py.Stderr();
  const std::string samples = py.Stdout();
  for (
      const char* expected : {
          R"(jwtauth_calls_total{method="ObtainToken",outcome="OK"} 1)",
          R"(jwtauth_calls_total{method="ObtainToken",outcome="BAD_CREDENTIALS"} 1)",
          R"(jwtauth_calls_total{method="VerifyToken",outcome="OK"} 1)",
          R"(jwtauth_calls_total{method="VerifyToken",outcome="TOKEN_INVALID"} 1)",
          R"(jwtauth_calls_total{method="VerifyToken",outcome="TOKEN_REVOKED"} 1)",
          R"(jwtauth_calls_total{method="RevokeToken",outcome="OK"} 1)",
          R"(jwtauth_calls_total{method="GetJwks",outcome="OK"} 1)",
          R"(jwtauth_call_duration_seconds_count{method="VerifyToken"} 3)",
          R"(jwtauth_revocations_total{kind="token"} 1)",
          R"(jwtauth_revocations_total{kind="all_sessions"} 0)",
          R"(jwtauth_login_throttles_total{} 0)",
          R"(jwtauth_store_errors_total{} 0)",
      }) {
    EXPECT_THAT(samples, HasSubstr(expected));
  }
  EXPECT_THAT(samples, HasSubstr("jwtauth_revocation_set_size{} "));
  // No user names or tokens in any label.
  EXPECT_THAT(samples, ::testing::Not(HasSubstr("alice")));
}

}  // namespace
}  // namespace jwtauth::server
