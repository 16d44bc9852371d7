// error.h: the stable error kinds of the token library.
//
// Every rejection the library makes is an absl::Status whose code is
// UNAUTHENTICATED (token rejected) or INVALID_ARGUMENT (bad key or option), and
// which carries exactly one JwtError as a payload, so a caller maps failures
// without parsing messages:
//
//   absl::StatusOr<VerifiedJwt> jwt = verifier.Verify(token);
//   if (!jwt.ok() && GetJwtError(jwt.status()) == JwtError::kExpired) ...
//
// Messages name the rule that failed but never contain key material or tokens.
// Thread-safety: stateless functions, safe from any thread.
#ifndef JWTAUTH_JWT_ERROR_H_
#define JWTAUTH_JWT_ERROR_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace jwtauth::jwt {

enum class JwtError {
  kMalformed,            // not a well-formed compact JWS / JSON / base64url
  kTooLarge,             // token over the configured maximum size
  kBadSignature,         // signature or MAC does not verify
  kAlgorithmNotAllowed,  // alg absent, "none", or not the key's algorithm
  kUnsupportedHeader,    // crit, b64 or another header we refuse
  kKeyNotFound,          // no key for the token's kid / algorithm
  kExpired,              // exp <= now - leeway
  kNotYetValid,          // nbf > now + leeway
  kWrongAudience,        // aud missing, different, or unexpected
  kWrongIssuer,          // iss missing or different
  kMissingClaim,         // a required claim is absent
  kInvalidClaim,         // a registered claim has the wrong JSON type
  kLifetimeTooLong,      // exp - iat over the configured maximum lifetime
  kInvalidKey,           // key material refused at load time
  kInvalidOption,        // contradictory or out-of-range validator options
  kSigningFailed,        // the crypto library could not sign
};

// JwtErrorName returns a stable upper-case name such as "EXPIRED".
absl::string_view JwtErrorName(JwtError error);

// MakeJwtError returns a status of the code that fits `error` with the error
// attached as a payload and `message` as its text.
absl::Status MakeJwtError(JwtError error, absl::string_view message);

// GetJwtError returns the error attached by MakeJwtError, or nullopt for an OK
// status or one that did not come from this library.
std::optional<JwtError> GetJwtError(const absl::Status& status);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_ERROR_H_
