#include "jwt/validator_options.h"

#include "jwt/error.h"

namespace jwtauth::jwt {

absl::Status ValidateOptions(const ValidatorOptions& o) {
  auto bad = [](absl::string_view why) {
    return MakeJwtError(JwtError::kInvalidOption, why);
  };
  if (o.leeway < absl::ZeroDuration() || o.leeway > kMaxLeeway) {
    return bad("leeway must be between 0 and 10 minutes");
  }
  if (o.max_token_size == 0 || o.max_token_size > (1u << 20)) {
    return bad("max_token_size must be between 1 byte and 1 MiB");
  }
  if (o.audience.has_value() && o.audience->empty())
    return bad("audience must not be empty");
  if (o.issuer.has_value() && o.issuer->empty())
    return bad("issuer must not be empty");
  for (const std::string& claim : o.required_claims) {
    if (claim.empty()) return bad("required claim names must not be empty");
  }
  if (o.max_lifetime.has_value()) {
    if (*o.max_lifetime <= absl::ZeroDuration())
      return bad("max_lifetime must be positive");
    if (!o.verify_expiration || o.allow_missing_expiration) {
      return bad(
          "max_lifetime needs verify_expiration on and "
          "allow_missing_expiration off");
    }
  }
  if (o.allow_missing_expiration && !o.verify_expiration) {
    return bad(
        "allow_missing_expiration has no meaning with verify_expiration off");
  }
  return absl::OkStatus();
}

}  // namespace jwtauth::jwt
