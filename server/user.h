// user.h: a user record, shaped like Django's auth_user row.
// Thread-safety: a plain struct; thread-compatible.
#ifndef JWTAUTH_SERVER_USER_H_
#define JWTAUTH_SERVER_USER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace jwtauth::server {

struct User {
  int64_t id = 0;
  std::string username;
  std::string email;
  std::string first_name;
  std::string last_name;
  // Django's encoded hash: "pbkdf2_sha256$<iterations>$<salt>$<base64 hash>".
  // Never logged, never sent to clients.
  std::string password_hash;
  bool is_active = true;
  bool is_staff = false;
  bool is_superuser = false;
  absl::Time date_joined = absl::UnixEpoch();
  std::optional<absl::Time> last_login;
  // jwtauth's per-user token generation (table jwtauth_user_state, 0 when the
  // user has no row): tokens carry the generation they were issued at ("gen")
  // and are revoked once it moves on (log out everywhere, password change,
  // deactivation).
  int64_t token_generation = 0;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_USER_H_
