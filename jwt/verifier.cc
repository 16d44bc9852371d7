#include "jwt/verifier.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "jwt/error.h"

namespace jwtauth::jwt {
namespace {

absl::Status InvalidClaim(absl::string_view name, absl::string_view type) {
  return MakeJwtError(JwtError::kInvalidClaim,
                      absl::StrCat("claim ", name, " must be ", type));
}

}  // namespace

absl::StatusOr<Verifier> Verifier::Create(KeySet keys, ValidatorOptions options,
                                          Clock clock) {
  absl::Status valid = ValidateOptions(options);
  if (!valid.ok()) return valid;
  if (!clock)
    return MakeJwtError(JwtError::kInvalidOption, "clock must be set");
  absl::StatusOr<JwsVerifier> jws =
      JwsVerifier::Create(std::move(keys), options.max_token_size);
  if (!jws.ok()) return jws.status();
  return Verifier(*std::move(jws), std::move(options), std::move(clock));
}

absl::StatusOr<VerifiedJwt> Verifier::Verify(absl::string_view token) const {
  return VerifyAt(token, clock_());
}

absl::StatusOr<VerifiedJwt> Verifier::VerifyAt(absl::string_view token,
                                               absl::Time now) const {
  // A JWT's payload is a JSON object, so unlike a bare JWS (RFC 7515) its
  // segment may never be empty: refuse "h..s" as malformed up front.
  const size_t first = token.find('.');
  if (first != absl::string_view::npos && first + 1 < token.size() &&
      token[first + 1] == '.' && token.size() <= options_.max_token_size) {
    return MakeJwtError(JwtError::kMalformed, "JWT payload segment is empty");
  }
  absl::StatusOr<VerifiedJws> jws = options_.verify_signature
                                        ? jws_.Verify(token)
                                        : jws_.VerifyUnsafeSkipSignature(token);
  if (!jws.ok()) return jws.status();
  absl::StatusOr<Json> claims = ParseJson(jws->payload());
  if (!claims.ok()) return claims.status();
  if (!claims->is_object()) {
    return MakeJwtError(JwtError::kMalformed,
                        "JWT payload is not a JSON object");
  }
  absl::Status ok = CheckClaims(*claims, now);
  if (!ok.ok()) return ok;
  return VerifiedJwt(jws->shared_header(), *std::move(claims),
                     std::string(token), jws->key().kid(),
                     options_.verify_signature);
}

absl::Status Verifier::CheckClaims(const Json& claims, absl::Time now) const {
  const ValidatorOptions& o = options_;
  const Json* exp = claims.Find("exp");
  const Json* nbf = claims.Find("nbf");
  const Json* iat = claims.Find("iat");
  if (exp != nullptr && !exp->is_number())
    return InvalidClaim("exp", "a number");
  if (nbf != nullptr && !nbf->is_number())
    return InvalidClaim("nbf", "a number");
  if (iat != nullptr && !iat->is_number())
    return InvalidClaim("iat", "a number");

  if (o.verify_expiration) {
    if (exp == nullptr) {
      if (!o.allow_missing_expiration) {
        return MakeJwtError(JwtError::kMissingClaim, "token has no exp claim");
      }
    } else if (now >= NumericDateToTime(*exp) + o.leeway) {
      return MakeJwtError(JwtError::kExpired, "token has expired");
    }
  }
  if (nbf != nullptr && NumericDateToTime(*nbf) > now + o.leeway) {
    return MakeJwtError(JwtError::kNotYetValid, "token is not valid yet (nbf)");
  }

  const Json* aud = claims.Find("aud");
  if (aud != nullptr) {
    bool strings = aud->is_string();
    if (aud->is_array()) {
      strings = true;
      for (const Json& a : aud->items()) strings = strings && a.is_string();
    }
    if (!strings) return InvalidClaim("aud", "a string or an array of strings");
  }
  if (o.audience.has_value()) {
    bool match = false;
    if (aud != nullptr && aud->is_string())
      match = aud->string_value() == *o.audience;
    if (aud != nullptr && aud->is_array()) {
      for (const Json& a : aud->items())
        match = match || a.string_value() == *o.audience;
    }
    if (!match)
      return MakeJwtError(JwtError::kWrongAudience,
                          "token is not for this audience");
  } else if (aud != nullptr) {
    return MakeJwtError(JwtError::kWrongAudience,
                        "token names an audience but none is configured");
  }

  const Json* iss = claims.Find("iss");
  if (iss != nullptr && !iss->is_string())
    return InvalidClaim("iss", "a string");
  if (o.issuer.has_value() &&
      (iss == nullptr || iss->string_value() != *o.issuer)) {
    return MakeJwtError(JwtError::kWrongIssuer,
                        "token is not from the expected issuer");
  }

  for (const std::string& name : o.required_claims) {
    if (claims.Find(name) == nullptr) {
      return MakeJwtError(JwtError::kMissingClaim,
                          absl::StrCat("token has no ", name, " claim"));
    }
  }

  if (o.max_lifetime.has_value() && exp != nullptr) {
    const absl::Time start = iat != nullptr ? NumericDateToTime(*iat) : now;
    if (NumericDateToTime(*exp) - start > *o.max_lifetime) {
      return MakeJwtError(JwtError::kLifetimeTooLong,
                          "token lifetime is over the maximum");
    }
  }
  return absl::OkStatus();
}

}  // namespace jwtauth::jwt
