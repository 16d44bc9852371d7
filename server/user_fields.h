// user_fields.h: the rules both user stores apply to what they store, so the
// SQLite and PostgreSQL backends cannot drift apart.
//   - CountCodePoints / ValidateUsername: Django's username rules (max_length
//     counts characters; no NUL; valid UTF-8).
//   - CreatedUser: the User a store returns from CreateUser.
// Thread-safety: stateless functions.
#ifndef JWTAUTH_SERVER_USER_FIELDS_H_
#define JWTAUTH_SERVER_USER_FIELDS_H_

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

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_USER_FIELDS_H_
