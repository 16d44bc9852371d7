// user_store.h: everything the auth service reads or writes about users goes
// through this interface, so backends (SQLite, PostgreSQL, or an
// embedder's own) behave identically and share one test suite.
//
// Error contract, for every method:
//   UNAVAILABLE         the store cannot be reached or is locked / read-only;
//                       the message says so without secrets (callers retry)
//   NOT_FOUND           (mutations) no user with that id / username
//   ALREADY_EXISTS      (CreateUser) the username is taken
//   INVALID_ARGUMENT    (CreateUser) empty or over-long username;
//                       (RevokeToken) empty or over-long jti
// Lookups of an absent user return OK with std::nullopt, not NOT_FOUND.
//
// Thread-safety: implementations must be thread-safe.
#ifndef JWTAUTH_SERVER_USER_STORE_H_
#define JWTAUTH_SERVER_USER_STORE_H_

#include <cstdint>
#include <limits>
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

// Longest jti the stores keep (jwtauth's own are 22 characters).
inline constexpr size_t kMaxJtiLength = 255;

// TokenSubject is what VerifyToken/RefreshToken need from the store, read in
// one round trip: the user a token names and whether its jti is revoked.
struct TokenSubject {
  User user;
  bool jti_revoked = false;
};

// Revocations still in force, for WatchRevocations. `seq` orders every
// change: a later RevocationsSince(seq) returns only what came after.
struct Revocations {
  struct Token {
    std::string jti;
    int64_t user_id = 0;
    absl::Time expires_at;  // the revocation's watch_until (RevokeToken)
  };
  struct Generation {
    int64_t user_id = 0;
    int64_t generation = 0;
  };
  std::vector<Token> tokens;
  std::vector<Generation> users;
  int64_t seq = 0;  // the newest change included
};

// RevokeToken's max_per_user for tools preloading a store: no cap, and no
// count.
inline constexpr size_t kNoRevocationCap = std::numeric_limits<size_t>::max();

// What RevokeToken did.
struct TokenRevocation {
  // True when the user's generation was bumped instead of the jti stored
  // (the user had max_per_user revocations in force).
  bool all_sessions = false;
  int64_t generation = 0;  // the user's new generation, when all_sessions
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

  // Token lifecycle (revocation). Changing a user's password hash or
  // deactivating the user bumps the user's token generation in the same
  // write, however the change is made (SetPasswordHash/SetActive, or Django
  // writing auth_user itself: the stores install a trigger for it).

  // FindForToken is FindByUsername plus whether `jti` is revoked, in one
  // read. std::nullopt when there is no such user.
  virtual absl::StatusOr<std::optional<TokenSubject>> FindForToken(
      absl::string_view username, absl::string_view jti) = 0;
  // RevokeToken stores `jti` (of `user_id`'s token) as revoked: FindForToken
  // reports it until `expires_at` (the token's last possible use at this
  // server, e.g. the end of its refresh window); RevocationsSince lists it
  // until `watch_until` (when services validating locally refuse the token
  // as expired anyway: its exp plus the longest leeway; at most
  // `expires_at`). Revoking it again is OK and keeps the later of each.
  // Entries that expired before `now` are deleted in the same write.
  //
  // When the user already has `max_per_user` other jtis listed (watch_until
  // not passed), or 10 times that kept (kHeldPerListed, user_fields.h: rows
  // kept to the end of a refresh window are bounded too), it stores nothing
  // and bumps the user's token generation
  // instead, which revokes every token of the user (the result says so). One
  // account cannot then grow the set every watcher holds (WatchRevocations)
  // by more than `max_per_user`: looping Refresh and Revoke would otherwise
  // add one entry a loop, until watchers evicted other users' revocations.
  // The user's older entries are kept, because watchers drop entries only at
  // their watch_until. Checked and written in one transaction: concurrent
  // revocations do not overshoot. NOT_FOUND when there is no such user.
  virtual absl::StatusOr<TokenRevocation> RevokeToken(
      absl::string_view jti, int64_t user_id, absl::Time expires_at,
      absl::Time watch_until, absl::Time now, size_t max_per_user) = 0;
  // BumpTokenGeneration revokes every token of `user_id` issued so far and
  // returns the new generation. NOT_FOUND when there is no such user.
  virtual absl::StatusOr<int64_t> BumpTokenGeneration(int64_t user_id) = 0;
  // RevocationsSince returns the revocations changed after `seq` (0: all of
  // them) whose watch_until has not passed at `now`, and the newest seq.
  virtual absl::StatusOr<Revocations> RevocationsSince(int64_t seq,
                                                       absl::Time now) = 0;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_USER_STORE_H_
