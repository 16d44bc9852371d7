// jwtauth: the command line for jwtauth.v1.AuthService.
//
//   jwtauth [--server=127.0.0.1:50051] obtain USERNAME   password: prompt or
//   stdin jwtauth refresh                                       token: stdin
//   jwtauth verify                                        token: stdin; prints
//   claims
//
// Passwords and tokens are read from the terminal or standard input, never
// from arguments (they would show in `ps` and shell history). obtain and
// refresh print the token; --json prints it with its expiry times.
// TLS: --tls_ca_file (server CA), --tls_cert_file/--tls_key_file (mTLS).
// Exit codes: 0 done, 1 refused by the server (message on stderr), 2 usage,
// 3 the server could not be reached.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/auth_client.h"
#include "client/password_input.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "jwtauth-server address");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA bundle: connect with TLS and verify the server");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM client certificate (mTLS)");
ABSL_FLAG(std::string, tls_key_file, "", "PEM client key (mTLS)");
ABSL_FLAG(double, timeout_seconds, 10, "Deadline of each call");
ABSL_FLAG(bool, json, false,
          "obtain/refresh: print a JSON object with the expiry times");

namespace {

namespace client = jwtauth::client;

constexpr char kUsage[] =
    "jwtauth [--server=HOST:PORT] [--tls_ca_file=F] obtain USERNAME | refresh "
    "| verify\n"
    "  (passwords from the terminal or stdin; tokens from stdin)";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::shared_ptr<grpc::Channel> MakeChannel() {
  std::shared_ptr<grpc::ChannelCredentials> creds =
      grpc::InsecureChannelCredentials();
  if (!absl::GetFlag(FLAGS_tls_ca_file).empty()) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ReadFile(absl::GetFlag(FLAGS_tls_ca_file));
    if (!absl::GetFlag(FLAGS_tls_cert_file).empty()) {
      o.pem_cert_chain = ReadFile(absl::GetFlag(FLAGS_tls_cert_file));
      o.pem_private_key = ReadFile(absl::GetFlag(FLAGS_tls_key_file));
    }
    creds = grpc::SslCredentials(o);
  }
  return grpc::CreateChannel(absl::GetFlag(FLAGS_server), creds);
}

int Report(const absl::Status& status) {
  const std::optional<std::string> reason = client::ErrorReason(status);
  std::fprintf(
      stderr, "jwtauth: %s: %s%s\n",
      absl::StatusCodeToString(status.code()).c_str(),
      std::string(status.message()).c_str(),
      reason.has_value() ? absl::StrCat(" (", *reason, ")").c_str() : "");
  if (!reason.has_value() &&
      (status.code() == absl::StatusCode::kUnavailable ||
       status.code() == absl::StatusCode::kDeadlineExceeded)) {
    return 3;
  }
  return 1;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

int PrintIssued(const absl::StatusOr<client::IssuedToken>& t) {
  if (!t.ok()) return Report(t.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("{\"token\":\"%s\",\"expires_at\":\"%s\"%s}\n",
                t->token.c_str(), Rfc3339(t->expires_at).c_str(),
                t->refresh_expires_at.has_value()
                    ? absl::StrCat(",\"refresh_expires_at\":\"",
                                   Rfc3339(*t->refresh_expires_at), "\"")
                          .c_str()
                    : "");
  } else {
    std::printf("%s\n", t->token.c_str());
  }
  return 0;
}

bool ReadToken(std::string& token) {
  if (::isatty(STDIN_FILENO)) std::fprintf(stderr, "Token: ");
  if (!std::getline(std::cin, token)) return false;
  token = std::string(absl::StripAsciiWhitespace(token));
  return !token.empty();
}

int Run(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(stderr, "usage: %s\n", kUsage);
    return 2;
  }
  client::AuthClient auth(MakeChannel(),
                          absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds)));
  const std::string& cmd = args[0];
  if (cmd == "obtain" && args.size() == 2) {
    absl::StatusOr<std::string> password =
        client::ReadPassword("Password: ", false);
    if (!password.ok()) {
      std::fprintf(stderr, "jwtauth: %s\n",
                   std::string(password.status().message()).c_str());
      return 2;
    }
    return PrintIssued(auth.Obtain(args[1], *password));
  }
  if ((cmd == "refresh" || cmd == "verify") && args.size() == 1) {
    std::string token;
    if (!ReadToken(token)) {
      std::fprintf(stderr, "jwtauth: no token on standard input\n");
      return 2;
    }
    if (cmd == "refresh") return PrintIssued(auth.Refresh(token));
    absl::StatusOr<client::VerifiedToken> v = auth.Verify(token);
    if (!v.ok()) return Report(v.status());
    std::printf("%s\n", v->claims_json.c_str());
    return 0;
  }
  std::fprintf(stderr, "usage: %s\n", kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> raw = absl::ParseCommandLine(argc, argv);
  return Run(std::vector<std::string>(raw.begin() + 1, raw.end()));
}
