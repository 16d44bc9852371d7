#include "interceptors/revocation_checker.h"

#include "client/auth_client.h"

namespace jwtauth::interceptors {

absl::Status CheckRevocation(const RevocationChecker& checker,
                             const Caller& caller) {
  if (checker.stale())
    return absl::UnavailableError("Authentication service unavailable.");
  if (checker.IsRevoked(caller.jti, caller.user_id, caller.generation)) {
    return client::WithErrorReason(absl::UnauthenticatedError(kMsgTokenRevoked),
                                   "TOKEN_REVOKED");
  }
  return absl::OkStatus();
}

}  // namespace jwtauth::interceptors
