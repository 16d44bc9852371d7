// token_validator.h: decides whether a token is valid and who it names.
//
// Two modes, both with a bounded TokenCache that honours exp:
//   - LocalValidator: stateless, from keys (a jwt::Verifier); no network.
//     Or from a VerifierSource such as a RemoteKeySet (remote_key_set.h):
//     keys fetched from the auth server's GetJwks; a token naming a kid the
//     held keys lack makes the source look for newer keys (rate limited) and
//     is then verified with them; UNAVAILABLE until the source has keys.
//     Such a validator is blocking() (a fetch may wait on the network), so
//     ServerAuth checks uncached tokens off the transport thread. A cached
//     token counts only while the source's keys are those it was verified
//     with: a key the auth server retires stops accepting tokens at the
//     next fetch, cached or not.
//     Cannot see the user store, so a disabled user's tokens pass until they
//     expire — unless given a RevocationChecker (a RevocationWatcher), which
//     is consulted on every Validate, cache hits included: revoked tokens
//     (RevokeToken, log-out-everywhere, password change, disabled or deleted
//     user) get
//     "Token is blacklisted." (revocation_checker.h). Requires a non-empty
//     "username" (drf-jwt's "Invalid payload.").
//   - RemoteValidator: asks the auth server's VerifyToken, which also checks
//     that the user exists and is active. Cached answers are reused for at
//     most `max_age` (default 5 s), which bounds how long a disabled user
//     keeps access.
// Failures are client-facing statuses with drf-jwt's messages:
// UNAUTHENTICATED for rejected tokens, UNAVAILABLE when the auth server
// cannot be asked.
//
// Thread-safety: implementations are thread-safe.
#ifndef JWTAUTH_INTERCEPTORS_TOKEN_VALIDATOR_H_
#define JWTAUTH_INTERCEPTORS_TOKEN_VALIDATOR_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "interceptors/caller.h"
#include "interceptors/revocation_checker.h"
#include "interceptors/token_cache.h"
#include "interceptors/verifier_source.h"
#include "jwt/clock.h"
#include "jwt/verifier.h"

namespace jwtauth::interceptors {

class TokenValidator {
 public:
  virtual ~TokenValidator() = default;
  virtual absl::StatusOr<std::shared_ptr<const Caller>> Validate(
      absl::string_view token) = 0;
  // Cached returns the cached caller for `token` without any other work
  // (nullptr on a miss); never blocks.
  virtual std::shared_ptr<const Caller> Cached(absl::string_view token) = 0;
  // blocking is true when Validate may wait on the network.
  virtual bool blocking() const = 0;
  virtual TokenCacheStats CacheStats() const = 0;
};

// LocalValidator verifies with `verifier` (its keys and ValidatorOptions) and,
// when `revocations` is set, refuses the tokens it reports revoked.
std::shared_ptr<TokenValidator> LocalValidator(
    jwt::Verifier verifier, TokenCacheOptions cache = {},
    jwt::Clock clock = jwt::SystemClock(),
    std::shared_ptr<const RevocationChecker> revocations = nullptr);
// LocalValidator verifies with the verifier `source` currently holds (see
// verifier_source.h); otherwise as above.
std::shared_ptr<TokenValidator> LocalValidator(
    std::shared_ptr<VerifierSource> source, TokenCacheOptions cache = {},
    jwt::Clock clock = jwt::SystemClock(),
    std::shared_ptr<const RevocationChecker> revocations = nullptr);

struct RemoteOptions {
  TokenCacheOptions cache{10'000, absl::Seconds(5)};
  absl::Duration timeout = absl::Seconds(2);
};

// RemoteValidator asks jwtauth.v1.AuthService/VerifyToken over `channel`.
std::shared_ptr<TokenValidator> RemoteValidator(
    std::shared_ptr<grpc::ChannelInterface> channel, RemoteOptions options = {},
    jwt::Clock clock = jwt::SystemClock());

// CallerFromClaims builds a Caller from verified claims.
std::shared_ptr<const Caller> CallerFromClaims(jwt::Json claims);

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_TOKEN_VALIDATOR_H_
