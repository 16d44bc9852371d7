// verifier.h: verifies a compact JWT: signature (jws_verifier.h), then claims.
//
// A JWT needs three non-empty segments (an empty payload is kMalformed).
// Claims rules, each its own JwtError:
//   payload not a JSON object            -> kMalformed
//   exp/nbf/iat not numbers; iss not a string; aud not a string or array of
//     strings                            -> kInvalidClaim
//   exp absent (unless allowed)          -> kMissingClaim
//   now >= exp + leeway (exp == now is expired)         -> kExpired
//   nbf > now + leeway (nbf == now is valid)            -> kNotYetValid
//   aud absent/different when an audience is configured,
//     or present when none is                          -> kWrongAudience
//   iss absent/different when an issuer is configured   -> kWrongIssuer
//   a required claim absent              -> kMissingClaim
//   exp - iat over max_lifetime          -> kLifetimeTooLong
//
//   absl::StatusOr<Verifier> v = Verifier::Create(keys, options, clock);
//   absl::StatusOr<VerifiedJwt> jwt = v->Verify(token);
//
// Thread-safety: thread-safe; one Verifier may serve every thread.
#ifndef JWTAUTH_JWT_VERIFIER_H_
#define JWTAUTH_JWT_VERIFIER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "jwt/clock.h"
#include "jwt/jws_verifier.h"
#include "jwt/key_set.h"
#include "jwt/validator_options.h"
#include "jwt/verified_jwt.h"

namespace jwtauth::jwt {

class Verifier {
 public:
  // Create fails with kInvalidOption for bad options (ValidateOptions).
  static absl::StatusOr<Verifier> Create(KeySet keys, ValidatorOptions options,
                                         Clock clock = SystemClock());

  // Verify checks `token` at the clock's current time.
  absl::StatusOr<VerifiedJwt> Verify(absl::string_view token) const;
  // VerifyAt checks `token` as of `now`.
  absl::StatusOr<VerifiedJwt> VerifyAt(absl::string_view token,
                                       absl::Time now) const;

  const ValidatorOptions& options() const { return options_; }
  const KeySet& keys() const { return jws_.keys(); }

 private:
  Verifier(JwsVerifier jws, ValidatorOptions options, Clock clock)
      : jws_(std::move(jws)),
        options_(std::move(options)),
        clock_(std::move(clock)) {}
  absl::Status CheckClaims(const Json& claims, absl::Time now) const;

  JwsVerifier jws_;
  ValidatorOptions options_;
  Clock clock_;
};

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_VERIFIER_H_
