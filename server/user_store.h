// user_store.h: everything the auth service reads or writes about users goes
// through this interface, so backends (SQLite, PostgreSQL, or an
// embedder's own) behave identically and share one test suite.
//
// Error contract, for every method:
//   UNAVAILABLE         the store cannot be reached or is locked / read-only;
//                       the message says so without secrets (callers retry)
//   NOT_FOUND           (mutations) no user with that id / username
//   ALREADY_EXISTS      (CreateUser) the username is taken
//   INVALID_ARGUMENT    (CreateUser) empty or over-long username
// Lookups of an absent user return OK with std::nullopt, not NOT_FOUND.
//
// Thread-safety: implementations must be thread-safe.
#ifndef JWTAUTH_SERVER_USER_STORE_H_
#define JWTAUTH_SERVER_USER_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/user.h"

namespace jwtauth::server {

// Django's limit for auth_user.username.
inline constexpr size_t kMaxUsernameLength = 150;

struct NewUser {
  std::string username;
  std::string email;
  std::string password_hash;  // already encoded (password_hasher.h)
  bool is_active = true;
  bool is_staff = false;
  bool is_superuser = false;
};

class UserStore {
 public:
  virtual ~UserStore() = default;

  virtual absl::StatusOr<std::optional<User>> FindByUsername(
      absl::string_view username) = 0;
  virtual absl::StatusOr<std::optional<User>> FindById(int64_t id) = 0;
  virtual absl::StatusOr<std::vector<User>> ListUsers() = 0;

  // CreateUser inserts a user (date_joined = now) and returns it with its id.
  virtual absl::StatusOr<User> CreateUser(const NewUser& user) = 0;
  [[nodiscard]] virtual absl::Status SetPasswordHash(
      int64_t id, absl::string_view hash) = 0;
  [[nodiscard]] virtual absl::Status SetActive(int64_t id, bool active) = 0;
  [[nodiscard]] virtual absl::Status DeleteUser(int64_t id) = 0;
  // RecordLogin sets last_login (Django's update_last_login).
  [[nodiscard]] virtual absl::Status RecordLogin(int64_t id,
                                                 absl::Time when) = 0;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_USER_STORE_H_
