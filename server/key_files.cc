#include "server/key_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "jwt/key_loader.h"

namespace jwtauth::server {
namespace {

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("key file ", path, ": ", what));
}

absl::StatusOr<std::string> ReadChecked(const std::string& path,
                                        bool must_be_private) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return FileError(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return FileError(path, "not a regular file");
  if (must_be_private && (st.st_mode & 077) != 0) {
    return FileError(path,
                     absl::StrFormat("readable by group or others (mode %04o); "
                                     "run chmod 600 on it",
                                     st.st_mode & 07777));
  }
  if (::access(path.c_str(), R_OK) != 0)
    return FileError(path, std::strerror(errno));
  absl::StatusOr<std::string> data = jwt::ReadKeyFile(path);
  if (!data.ok()) return FileError(path, data.status().message());
  if (data->empty()) return FileError(path, "empty");
  return data;
}

absl::StatusOr<std::string> GenerateSecretFile(const std::string& path,
                                               size_t size) {
  absl::StatusOr<std::string> secret = jwt::GenerateSecret(size);
  if (!secret.ok()) return secret.status();
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return FileError(path,
                     absl::StrCat("cannot create: ", std::strerror(errno)));
  const ssize_t n = ::write(fd, secret->data(), secret->size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(secret->size()) || !synced) {
    ::unlink(path.c_str());
    return FileError(path, "cannot write");
  }
  return secret;
}

}  // namespace

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path) {
  return ReadChecked(path, true);
}

absl::StatusOr<jwt::KeySet> LoadServerKeys(const KeyConfig& c,
                                           bool* generated) {
  if (generated != nullptr) *generated = false;
  const std::string alg(jwt::AlgorithmName(c.algorithm));
  if (jwt::FamilyOf(c.algorithm) == jwt::KeyFamily::kHmac) {
    if (!c.private_key_file.empty() || !c.public_key_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--private_key_file/--public_key_file do not apply to ",
                       alg, "; use --secret_key_file or --secret_key_env"));
    }
    if (!c.secret_key_file.empty() && !c.secret_key_env.empty()) {
      return absl::InvalidArgumentError(
          "give --secret_key_file or --secret_key_env, not both");
    }
    absl::StatusOr<std::string> secret;
    std::string source;
    if (!c.secret_key_env.empty()) {
      secret = jwt::ReadSecretFromEnv(c.secret_key_env);
      source = absl::StrCat("environment variable ", c.secret_key_env);
    } else if (!c.secret_key_file.empty()) {
      secret = ReadPrivateFile(c.secret_key_file);
      source = absl::StrCat("key file ", c.secret_key_file);
    } else {
      const std::string path = c.data_dir + "/secret.key";
      source = absl::StrCat("key file ", path);
      struct stat st;
      if (::stat(path.c_str(), &st) == 0) {
        secret = ReadPrivateFile(path);
      } else {
        secret = GenerateSecretFile(path, 2 * jwt::DigestSize(c.algorithm));
        if (secret.ok() && generated != nullptr) *generated = true;
      }
    }
    if (!secret.ok()) return secret.status();
    absl::StatusOr<jwt::Key> key = jwt::HmacKeyFromSecret(c.algorithm, *secret);
    if (!key.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": ", key.status().message()));
    return jwt::KeySet::Create({*std::move(key)});
  }
  if (!c.secret_key_file.empty() || !c.secret_key_env.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--secret_key_file/--secret_key_env do not apply to ", alg,
                     "; use --private_key_file"));
  }
  if (c.private_key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--private_key_file is required for ", alg));
  }
  absl::StatusOr<std::string> pem = ReadPrivateFile(c.private_key_file);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<jwt::Key> priv = jwt::KeyFromPem(c.algorithm, *pem);
  if (!priv.ok()) return FileError(c.private_key_file, priv.status().message());
  if (!priv->can_sign())
    return FileError(c.private_key_file, "holds no private key");
  if (!c.public_key_file.empty()) {
    absl::StatusOr<std::string> pub_pem = ReadChecked(c.public_key_file, false);
    if (!pub_pem.ok()) return pub_pem.status();
    absl::StatusOr<jwt::Key> pub = jwt::KeyFromPem(c.algorithm, *pub_pem);
    if (!pub.ok()) return FileError(c.public_key_file, pub.status().message());
    if (!pub->SameKeyMaterial(*priv)) {
      return FileError(c.public_key_file, "does not match --private_key_file");
    }
  }
  return jwt::KeySet::Create({*std::move(priv)});
}

absl::StatusOr<jwt::KeySet> LoadVerificationKeys(const KeyConfig& c) {
  if (jwt::FamilyOf(c.algorithm) == jwt::KeyFamily::kHmac) {
    if (c.secret_key_file.empty() && c.secret_key_env.empty()) {
      KeyConfig with_file = c;
      with_file.secret_key_file = c.data_dir + "/secret.key";
      return LoadServerKeys(with_file, nullptr);
    }
    return LoadServerKeys(c, nullptr);
  }
  if (c.public_key_file.empty()) {
    absl::StatusOr<jwt::KeySet> keys = LoadServerKeys(c, nullptr);
    if (!keys.ok()) return keys.status();
    absl::StatusOr<jwt::Key> pub = jwt::PublicKeyOf(keys->current());
    if (!pub.ok()) return pub.status();
    return jwt::KeySet::Create({*std::move(pub)});
  }
  absl::StatusOr<std::string> pem = ReadChecked(c.public_key_file, false);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<jwt::Key> pub = jwt::KeyFromPem(c.algorithm, *pem);
  if (!pub.ok()) return FileError(c.public_key_file, pub.status().message());
  return jwt::KeySet::Create({*std::move(pub)});
}

}  // namespace jwtauth::server
