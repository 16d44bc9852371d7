// jwtauth: the command line for jwtauth.v1.AuthService, and for the signing
// keys of a key directory (server/key_directory.h).
//
//   jwtauth [--server=127.0.0.1:50051] obtain USERNAME   password: prompt or
//                                                        stdin
//   jwtauth refresh                                      token: stdin
//   jwtauth verify                                       token: stdin; prints
//                                                        claims
//   jwtauth revoke [--all_sessions]                      token: stdin; logs
//                                                        out (everywhere)
//   jwtauth jwks                                         prints the JWK Set
//   jwtauth [--key_dir=data/keys] keys generate [--algorithm=ES256]
//   jwtauth keys rotate [--verify_for=7d] [--algorithm=ALG]
//   jwtauth keys list                     kid, alg, state, created,
//                                         verify_until (never key material)
//   jwtauth keys retire KID
//
// Passwords and tokens are read from the terminal or standard input, never
// from arguments (they would show in `ps` and shell history). obtain and
// refresh print the token; --json prints it with its expiry times.
// TLS: --tls_ca_file (server CA), --tls_cert_file/--tls_key_file (mTLS).
// `keys rotate` keeps the previous key verifying for --verify_for: give it the
// longest a token may still be accepted (the refresh window with refresh on,
// else the expiration delta). `keys` works on local files and never calls the
// server.
// Exit codes: 0 done, 1 refused by the server (message on stderr) or a key
// operation refused, 2 usage, 3 the server could not be reached.
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
#include "jwt/algorithm.h"
#include "server/human_duration.h"
#include "server/key_directory.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "jwtauth-server address");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA bundle: connect with TLS and verify the server");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM client certificate (mTLS)");
ABSL_FLAG(std::string, tls_key_file, "", "PEM client key (mTLS)");
ABSL_FLAG(double, timeout_seconds, 10, "Deadline of each call");
ABSL_FLAG(bool, all_sessions, false,
          "revoke: log the token's user out everywhere (every token so far)");
ABSL_FLAG(bool, json, false,
          "obtain/refresh: print a JSON object with the expiry times");
ABSL_FLAG(std::string, key_dir, "data/keys",
          "keys: the key directory (keys.json and one file per key)");
ABSL_FLAG(std::string, algorithm, "",
          "keys generate: the key's algorithm (default ES256); keys rotate: "
          "the new key's (default: the active key's)");
ABSL_FLAG(jwtauth::server::HumanDuration, verify_for,
          jwtauth::server::HumanDuration{absl::Hours(7 * 24)},
          "keys rotate: how long the previous key still verifies tokens (the "
          "refresh window, or the expiration delta without refresh)");

namespace {

namespace client = jwtauth::client;

constexpr char kUsage[] =
    "jwtauth [--server=HOST:PORT] [--tls_ca_file=F] obtain USERNAME | refresh "
    "| verify | revoke [--all_sessions] | jwks\n"
    "  (passwords from the terminal or stdin; tokens from stdin)\n"
    "jwtauth [--key_dir=data/keys] keys generate [--algorithm=ES256] | rotate "
    "[--verify_for=7d] [--algorithm=ALG] | list | retire KID";

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

int Usage() {
  std::fprintf(stderr, "usage: %s\n", kUsage);
  return 2;
}

int KeyRefused(const absl::Status& status) {
  std::fprintf(stderr, "jwtauth: %s: %s\n",
               absl::StatusCodeToString(status.code()).c_str(),
               std::string(status.message()).c_str());
  return 1;
}

// RunKeys runs `keys generate|rotate|list|retire` on --key_dir.
int RunKeys(const std::vector<std::string>& args) {
  namespace jwt = jwtauth::jwt;
  namespace server = jwtauth::server;
  const std::string cmd = args.size() >= 2 ? args[1] : "";
  if (!(args.size() == 2 &&
        (cmd == "generate" || cmd == "rotate" || cmd == "list")) &&
      !(args.size() == 3 && cmd == "retire")) {
    return Usage();
  }
  std::optional<jwt::Algorithm> alg;
  if (const std::string name = absl::GetFlag(FLAGS_algorithm); !name.empty()) {
    alg = jwt::ParseAlgorithm(name);
    if (!alg.has_value()) {
      std::fprintf(stderr, "jwtauth: --algorithm: unknown algorithm \"%s\"\n",
                   name.c_str());
      return 2;
    }
  }
  const server::KeyDirectory dir(absl::GetFlag(FLAGS_key_dir));
  const absl::Time now = absl::Now();
  if (cmd == "generate") {
    absl::StatusOr<server::KeyEntry> e =
        dir.Generate(alg.value_or(jwt::Algorithm::kES256), now);
    if (!e.ok()) return KeyRefused(e.status());
    std::printf("generated %s key %s in %s\n",
                std::string(jwt::AlgorithmName(e->algorithm)).c_str(),
                e->kid.c_str(), dir.path().c_str());
    return 0;
  }
  if (cmd == "rotate") {
    const absl::Duration verify_for = absl::GetFlag(FLAGS_verify_for).value;
    absl::StatusOr<server::KeyEntry> e = dir.Rotate(now, verify_for, alg);
    if (!e.ok()) return KeyRefused(e.status());
    std::printf(
        "rotated: %s key %s is active; the previous key verifies until %s\n",
        std::string(jwt::AlgorithmName(e->algorithm)).c_str(), e->kid.c_str(),
        Rfc3339(absl::FromUnixSeconds(absl::ToUnixSeconds(now + verify_for)))
            .c_str());
    return 0;
  }
  if (cmd == "retire") {
    absl::StatusOr<server::KeyEntry> e = dir.Retire(args[2], now);
    if (!e.ok()) return KeyRefused(e.status());
    std::printf("retired key %s\n", e->kid.c_str());
    return 0;
  }
  absl::StatusOr<std::vector<server::KeyEntry>> entries = dir.List();
  if (!entries.ok()) return KeyRefused(entries.status());
  for (const server::KeyEntry& e : *entries) {
    std::printf(
        "%s\t%s\t%s\t%s\t%s\n", e.kid.c_str(),
        std::string(jwt::AlgorithmName(e.algorithm)).c_str(),
        std::string(server::KeyStateName(e.state)).c_str(),
        Rfc3339(e.created).c_str(),
        e.verify_until.has_value() ? Rfc3339(*e.verify_until).c_str() : "-");
  }
  return 0;
}

int Run(const std::vector<std::string>& args) {
  if (args.empty()) return Usage();
  if (args[0] == "keys") return RunKeys(args);
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
  if (cmd == "revoke" && args.size() == 1) {
    std::string token;
    if (!ReadToken(token)) {
      std::fprintf(stderr, "jwtauth: no token on standard input\n");
      return 2;
    }
    const bool all = absl::GetFlag(FLAGS_all_sessions);
    absl::StatusOr<client::Revocation> revoked = auth.Revoke(token, all);
    if (!revoked.ok()) return Report(revoked.status());
    if (revoked->all_sessions) {
      std::printf("revoked every token of the user%s\n",
                  all ? ""
                      : " (the server's cap on revoked tokens per user "
                        "was reached)");
    } else {
      std::printf(
          "revoked until %s\n",
          revoked->revoked_until.has_value()
              ? absl::FormatTime(absl::RFC3339_sec, *revoked->revoked_until,
                                 absl::UTCTimeZone())
                    .c_str()
              : "forever");
    }
    return 0;
  }
  if (cmd == "jwks" && args.size() == 1) {
    absl::StatusOr<std::string> jwks = auth.Jwks();
    if (!jwks.ok()) return Report(jwks.status());
    std::printf("%s\n", jwks->c_str());
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
