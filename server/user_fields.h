// user_fields.h: the rules both user stores apply to what they store, so the
// SQLite and PostgreSQL backends cannot drift apart.
//   - CountCodePoints / ValidateUsername: Django's username rules (max_length
//     counts characters; no NUL; valid UTF-8).
//   - CreatedUser: the User a store returns from CreateUser.
//   - CountLimit / HeldLimit: RevokeToken's per-user caps as SQL LIMITs.
// Thread-safety: stateless functions.
#ifndef JWTAUTH_SERVER_USER_FIELDS_H_
#define JWTAUTH_SERVER_USER_FIELDS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/user.h"
#include "server/user_store.h"

namespace jwtauth::server {

// CountCodePoints returns the number of code points in `s`, or -1 when `s`
// is not valid UTF-8 (overlong forms and surrogates included).
int64_t CountCodePoints(absl::string_view s);

// ValidateUsername applies Django's limits: not empty, no NUL, valid UTF-8,
// at most kMaxUsernameLength characters. INVALID_ARGUMENT otherwise.
absl::Status ValidateUsername(absl::string_view username);

// CreatedUser is `user` as stored under `id`, joined at `date_joined`.
User CreatedUser(const NewUser& user, int64_t id, absl::Time date_joined);

// CountLimit is `max_per_user` (RevokeToken) as an SQL LIMIT: how many of a
// user's listed revocations a store counts before it knows the cap is
// reached. HeldLimit is the bound on the rows a store keeps per user (listed
// or kept to the end of a refresh window): kHeldPerListed times the cap.
inline constexpr size_t kHeldPerListed = 10;
int64_t CountLimit(size_t max_per_user);
int64_t HeldLimit(size_t max_per_user);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_USER_FIELDS_H_
