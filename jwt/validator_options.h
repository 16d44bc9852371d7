// validator_options.h: what a verified JWT must satisfy beyond its signature.
//
// The fields mirror djangorestframework-jwt's settings (JWT_VERIFY,
// JWT_VERIFY_EXPIRATION, JWT_LEEWAY, JWT_AUDIENCE, JWT_ISSUER) plus required
// claims, a size bound and a lifetime bound. Defaults are the secure ones.
// Verifier::Create refuses contradictory or out-of-range options
// (ValidateOptions below) instead of guessing what was meant.
// Thread-safety: a plain struct; thread-compatible.
#ifndef JWTAUTH_JWT_VALIDATOR_OPTIONS_H_
#define JWTAUTH_JWT_VALIDATOR_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "jwt/jws_verifier.h"

namespace jwtauth::jwt {

inline constexpr absl::Duration kMaxLeeway = absl::Minutes(10);

struct ValidatorOptions {
  // JWT_VERIFY. false skips the signature check only (structure, alg and the
  // claim checks below still apply). Dangerous: any forged token passes.
  bool verify_signature = true;
  // JWT_VERIFY_EXPIRATION: exp is checked (and, unless allowed below,
  // required).
  bool verify_expiration = true;
  // Accept tokens with no exp at all (only meaningful with verify_expiration).
  bool allow_missing_expiration = false;
  // JWT_LEEWAY: clock skew allowed on exp and nbf; 0 to kMaxLeeway.
  absl::Duration leeway = absl::ZeroDuration();
  // JWT_AUDIENCE: when set, aud must be it (or an array holding it); when
  // unset, a token carrying aud is refused (as PyJWT does).
  std::optional<std::string> audience;
  // JWT_ISSUER: when set, iss must equal it.
  std::optional<std::string> issuer;
  // Claims that must be present.
  std::vector<std::string> required_claims;
  // Tokens longer than this are refused before any decoding.
  size_t max_token_size = kDefaultMaxTokenSize;
  // When set, exp - iat (or exp - now without iat) may not exceed it.
  std::optional<absl::Duration> max_lifetime;
};

// ValidateOptions returns kInvalidOption for contradictory or out-of-range
// options, naming the option.
absl::Status ValidateOptions(const ValidatorOptions& options);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_VALIDATOR_OPTIONS_H_
