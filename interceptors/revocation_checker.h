// revocation_checker.h: what local validation asks about revocations.
//
// A RevocationChecker answers, for a verified token's jti, user_id and gen
// claims, whether the token has been revoked (RevokeToken, log-out-everywhere,
// a password change, a disabled user). RevocationWatcher implements it from
// the auth server's WatchRevocations stream. CheckRevocation turns the answer
// into the client-facing failure:
//   revoked                   UNAUTHENTICATED "Token is blacklisted."
//                             (reason TOKEN_REVOKED, client::ErrorReason)
//   checker stale (its data is older than it may be trusted)
//                             UNAVAILABLE "Authentication service unavailable."
// A stale checker refuses every token, but as UNAVAILABLE rather than
// UNAUTHENTICATED: the token is not at fault, and clients must not discard it
// and log in again against an auth server that cannot be reached.
//
// Thread-safety: implementations are thread-safe; IsRevoked and stale run on
// every protected call and must be cheap and never block on the network.
#ifndef JWTAUTH_INTERCEPTORS_REVOCATION_CHECKER_H_
#define JWTAUTH_INTERCEPTORS_REVOCATION_CHECKER_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "interceptors/caller.h"

namespace jwtauth::interceptors {

inline constexpr absl::string_view kMsgTokenRevoked = "Token is blacklisted.";

class RevocationChecker {
 public:
  virtual ~RevocationChecker() = default;
  // IsRevoked is true when the token with `jti` ("" for none), of user
  // `user_id`, issued at token generation `generation` (its gen claim, 0 when
  // absent) is revoked, and always true while stale().
  virtual bool IsRevoked(absl::string_view jti, std::optional<int64_t> user_id,
                         int64_t generation) const = 0;
  // stale is true when the checker's knowledge is too old to be trusted.
  virtual bool stale() const = 0;
};

// CheckRevocation returns OK, or the failure described above for `caller`.
absl::Status CheckRevocation(const RevocationChecker& checker,
                             const Caller& caller);

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_REVOCATION_CHECKER_H_
