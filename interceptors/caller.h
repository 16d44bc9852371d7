// caller.h: who is calling, as established by a verified token.
// Thread-safety: immutable once built; shared as shared_ptr<const Caller>.
#ifndef JWTAUTH_INTERCEPTORS_CALLER_H_
#define JWTAUTH_INTERCEPTORS_CALLER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "jwt/json.h"

namespace jwtauth::interceptors {

struct Caller {
  // The verified claims (user_id, username, email, exp, ...).
  jwt::Json claims;
  // Convenience copies of the usual claims ("" / nullopt when absent).
  std::string username;
  std::optional<int64_t> user_id;
  // The token's id (jti claim, "" when absent) and its user's token
  // generation when issued (gen claim, 0 when absent): what revocation checks
  // read, so a cache hit needs no claim lookup.
  std::string jti;
  int64_t generation = 0;
  // When the token stops being valid (exp); InfiniteFuture without exp.
  absl::Time expires_at = absl::InfiniteFuture();
};

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_CALLER_H_
