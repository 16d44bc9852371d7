// Two jwtauth-server replicas on one PostgreSQL database behave as one
// service: a token from one verifies and refreshes on the other, a user
// disabled through jwtauth-admin is refused by both on the next call, and a
// stopped database gives UNAVAILABLE until it is back (no restart needed).
// Runs inside the ctest fixture that starts a throw-away PostgreSQL cluster.
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/auth_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::Subprocess;
using ::jwtauth::testing::TempDir;
using ::jwtauth::testing::WaitForFile;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Replicas : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url_file = std::getenv("JWTAUTH_TEST_PG_URL_FILE");
    ASSERT_NE(url_file, nullptr) << "run under ctest (fixture postgres)";
    url_ = std::string(absl::StripAsciiWhitespace(ReadAll(url_file)));
    ASSERT_FALSE(url_.empty());
    cluster_dir_ =
        std::string(url_file).substr(0, std::string(url_file).rfind('/'));
    // One secret shared by both replicas.
    const std::string secret = dir_.File("secret.key");
    std::ofstream(secret)
        << "replica shared secret of well over thirty-two bytes";
    ::chmod(secret.c_str(), 0600);
    user_ = absl::StrCat("alice", ::getpid(), "_", ++counter_);
    Subprocess admin({JWTAUTH_ADMIN_BIN, "--database=" + url_,
                      "--pbkdf2_iterations=1000", "users", "add", user_},
                     {}, "wonderland\n");
    ASSERT_EQ(admin.Run(), 0) << admin.Stderr();
    for (int i = 0; i < 2; ++i) Start(i, secret);
  }

  void Start(int i, const std::string& secret) {
    const std::string port_file = dir_.File(absl::StrCat("port", i));
    servers_[i] = std::make_unique<Subprocess>(std::vector<std::string>{
        JWTAUTH_SERVER_BIN, "--listen=127.0.0.1:0", "--database=" + url_,
        "--secret_key_file=" + secret, "--allow_refresh",
        "--data_dir=" + dir_.path(), "--port_file=" + port_file});
    ASSERT_TRUE(servers_[i]->Start());
    const std::string port = WaitForFile(port_file, absl::Seconds(30));
    ASSERT_FALSE(port.empty()) << servers_[i]->Stderr();
    clients_[i] = std::make_unique<client::AuthClient>(
        grpc::CreateChannel(
            absl::StrCat("127.0.0.1:", absl::StripAsciiWhitespace(port)),
            grpc::InsecureChannelCredentials()),
        absl::Seconds(10));
  }

  void TearDown() override {
    for (auto& c : clients_) c.reset();  // close our connections first
    for (auto& s : servers_) {
      if (s != nullptr && s->running()) {
        s->Signal(SIGTERM);
        EXPECT_EQ(s->WaitFor(absl::Seconds(30)), 0) << s->Stderr();
      }
    }
  }

  int Cluster(const std::string& action) {
    Subprocess p({"/bin/bash",
                  std::string(JWTAUTH_SOURCE_DIR) + "/scripts/pg-test-cluster",
                  action, cluster_dir_});
    const int code = p.Run();
    EXPECT_EQ(code, 0) << p.Stderr();
    return code;
  }

  static int counter_;
  TempDir dir_;
  std::string url_, cluster_dir_, user_;
  std::unique_ptr<Subprocess> servers_[2];
  std::unique_ptr<client::AuthClient> clients_[2];
};
int Replicas::counter_ = 0;

TEST_F(Replicas, TokenFromOneReplicaVerifiesAndRefreshesOnTheOther) {
  absl::StatusOr<client::IssuedToken> token =
      clients_[0]->Obtain(user_, "wonderland");
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<client::VerifiedToken> verified =
      clients_[1]->Verify(token->token);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->username, user_);
  absl::StatusOr<client::IssuedToken> refreshed =
      clients_[1]->Refresh(token->token);
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  EXPECT_TRUE(clients_[0]->Verify(refreshed->token).ok());
}

TEST_F(Replicas, UserDisabledThroughAdminIsRefusedByBoth) {
  absl::StatusOr<client::IssuedToken> token =
      clients_[1]->Obtain(user_, "wonderland");
  ASSERT_TRUE(token.ok()) << token.status();
  Subprocess disable(
      {JWTAUTH_ADMIN_BIN, "--database=" + url_, "users", "disable", user_});
  ASSERT_EQ(disable.Run(), 0) << disable.Stderr();
  for (auto& c : clients_) {
    absl::StatusOr<client::VerifiedToken> v = c->Verify(token->token);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(v.status().message(), "User account is disabled.");
    EXPECT_EQ(client::ErrorReason(v.status()), "USER_INACTIVE");
  }
}

TEST_F(Replicas,
       TokenRevokedThroughOneReplicaIsRefusedByBothAndNeverRefreshed) {
  absl::StatusOr<client::IssuedToken> revoked =
      clients_[0]->Obtain(user_, "wonderland");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  absl::StatusOr<client::IssuedToken> kept =
      clients_[1]->Obtain(user_, "wonderland");
  ASSERT_TRUE(kept.ok()) << kept.status();
  absl::StatusOr<client::Revocation> revocation =
      clients_[1]->Revoke(revoked->token);
  ASSERT_TRUE(revocation.ok()) << revocation.status() << servers_[1]->Stderr();
  for (auto& c : clients_) {
    absl::StatusOr<client::VerifiedToken> v = c->Verify(revoked->token);
    EXPECT_EQ(v.status().message(), "Token is blacklisted.");
    EXPECT_EQ(client::ErrorReason(v.status()), "TOKEN_REVOKED");
    absl::StatusOr<client::IssuedToken> r = c->Refresh(revoked->token);
    EXPECT_EQ(client::ErrorReason(r.status()), "TOKEN_REVOKED");
    EXPECT_TRUE(c->Verify(kept->token).ok());
  }
  // A password change through the admin tool revokes the rest.
  Subprocess set_password(
      {JWTAUTH_ADMIN_BIN, "--database=" + url_, "--pbkdf2_iterations=1000",
       "users", "set-password", user_},
      {}, "looking-glass\n");
  ASSERT_EQ(set_password.Run(), 0) << set_password.Stderr();
  for (auto& c : clients_) {
    EXPECT_EQ(client::ErrorReason(c->Verify(kept->token).status()),
              "TOKEN_REVOKED");
  }
  EXPECT_TRUE(clients_[0]->Obtain(user_, "looking-glass").ok());
}

TEST_F(Replicas, StoppedDatabaseIsUnavailableUntilItIsBack) {
  absl::StatusOr<client::IssuedToken> token =
      clients_[0]->Obtain(user_, "wonderland");
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_EQ(Cluster("stop"), 0);
  for (auto& c : clients_) {
    absl::StatusOr<client::VerifiedToken> v = c->Verify(token->token);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kUnavailable) << v.status();
    EXPECT_EQ(v.status().message(), "The user store is unavailable.");
    EXPECT_EQ(client::ErrorReason(v.status()), "STORE_UNAVAILABLE");
  }
  ASSERT_EQ(Cluster("start"), 0);
  for (auto& c : clients_) {
    absl::StatusOr<client::VerifiedToken> v = c->Verify(token->token);
    EXPECT_TRUE(v.ok()) << v.status();
  }
}

}  // namespace
}  // namespace jwtauth::server
