// jwtauth: the command line. `jwtauth demo` creates (once) a random HS256
// secret in the data dir with mode 0600, issues a djangorestframework-jwt
// style token for a demo user, verifies it and prints the verified claims.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "jwt/json.h"
#include "jwt/key_loader.h"
#include "jwt/key_set.h"
#include "jwt/signer.h"
#include "jwt/verifier.h"

ABSL_FLAG(std::string, data_dir, "data", "Folder for the secret key (created with mode 0700)");

namespace {

using namespace jwtauth::jwt;  // NOLINT: a small main.

// LoadOrCreateSecret returns the secret in `path`, creating it (0600) first
// when it does not exist.
absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat(path, " is readable by group or others; chmod 600 it"));
    }
    return ReadKeyFile(path);
  }
  absl::StatusOr<std::string> secret = GenerateSecret(64);
  if (!secret.ok()) return secret.status();
  const mode_t old = ::umask(077);
  std::ofstream out(path, std::ios::binary);
  out.write(secret->data(), static_cast<std::streamsize>(secret->size()));
  out.close();
  ::umask(old);
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  std::fprintf(stderr, "jwtauth: generated a new HS256 secret in %s (mode 0600)\n", path.c_str());
  return secret;
}

int Demo() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "jwtauth: cannot create %s: %s\n", dir.c_str(), std::strerror(errno));
    return 1;
  }
  absl::StatusOr<std::string> secret = LoadOrCreateSecret(dir + "/secret.key");
  if (!secret.ok()) {
    std::fprintf(stderr, "jwtauth: %s\n", std::string(secret.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<Key> key = HmacKeyFromSecret(Algorithm::kHS256, *secret);
  if (!key.ok()) {
    std::fprintf(stderr, "jwtauth: %s\n", std::string(key.status().message()).c_str());
    return 1;
  }
  const absl::Time now = absl::Now();
  RawJwt raw;
  raw.SetInt("user_id", 1)
      .SetString("username", "demo")
      .SetNumericDate("exp", now + absl::Seconds(300))
      .SetString("email", "demo@example.com")
      .SetNumericDate("orig_iat", now);
  absl::StatusOr<std::string> token = JwtSigner::Create(*key)->Sign(raw);
  absl::StatusOr<Verifier> verifier = Verifier::Create(*KeySet::Create({*key}), {});
  if (!token.ok() || !verifier.ok()) return 1;
  absl::StatusOr<VerifiedJwt> jwt = verifier->Verify(*token);
  if (!jwt.ok()) {
    std::fprintf(stderr, "jwtauth: verification failed: %s\n",
                 std::string(jwt.status().message()).c_str());
    return 1;
  }
  std::printf("issued and verified an HS256 token of %zu bytes; claims:\n%s\n", token->size(),
              SerializeJson(jwt->claims()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() == 2 && std::string(args[1]) == "demo") return Demo();
  std::fprintf(stderr, "usage: jwtauth demo [--data_dir=DIR]\n");
  return 2;
}
