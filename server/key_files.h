// key_files.h: reading key material for the server, with the checks an
// operator needs: a missing, unreadable, non-regular, group/other-readable
// (secrets and private keys), or wrong-type key file is an error that names
// the file. With no key configured for an HS* algorithm, a random secret is
// generated once in the data dir (mode 0600).
// Thread-safety: stateless functions; call at start-up.
#ifndef JWTAUTH_SERVER_KEY_FILES_H_
#define JWTAUTH_SERVER_KEY_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "jwt/algorithm.h"
#include "jwt/key_set.h"

namespace jwtauth::server {

struct KeyConfig {
  jwt::Algorithm algorithm = jwt::Algorithm::kHS256;
  std::string secret_key_file;   // HS*: a file holding the raw secret
  std::string secret_key_env;    // HS*: or the name of an environment variable
  std::string private_key_file;  // others: PEM private key (signs)
  std::string public_key_file;  // others: PEM public key (verifies; must match)
  std::string data_dir;         // where a generated secret goes
};

// ReadPrivateFile reads a secret or private key file, refusing files that
// are not regular or that group or others may read.
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path);

// LoadServerKeys returns the key set the server signs and verifies with;
// `generated` (if not null) is set when a new secret was created.
absl::StatusOr<jwt::KeySet> LoadServerKeys(const KeyConfig& config,
                                           bool* generated);

// LoadVerificationKeys returns the keys a protected service verifies with:
// the same secret (never generated here: it must be the auth server's), or
// the public key (--public_key_file, else the public half of
// --private_key_file).
absl::StatusOr<jwt::KeySet> LoadVerificationKeys(const KeyConfig& config);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_KEY_FILES_H_
