// raw_jwt.h: claims being built for signing (never the result of verifying).
//
// A RawJwt is an ordered JSON object of claims; the signer writes them in the
// order they were set (drf-jwt order: user_id, username, exp, email, ...).
// Registered claims are type-checked by JwtSigner::Sign.
//
//   RawJwt raw;
//   raw.SetInt("user_id", 42).SetString("username", "ada")
//      .SetNumericDate("exp", now + absl::Minutes(5));
//
// Thread-safety: thread-compatible.
#ifndef JWTAUTH_JWT_RAW_JWT_H_
#define JWTAUTH_JWT_RAW_JWT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "jwt/json.h"

namespace jwtauth::jwt {

class RawJwt {
 public:
  RawJwt() : claims_(Json::Object()) {}

  RawJwt& Set(absl::string_view name, Json value);
  RawJwt& SetString(absl::string_view name, std::string value);
  RawJwt& SetInt(absl::string_view name, int64_t value);
  // SetNumericDate writes whole seconds since the epoch (RFC 7519 NumericDate),
  // rounded down.
  RawJwt& SetNumericDate(absl::string_view name, absl::Time t);
  RawJwt& Erase(absl::string_view name);

  const Json& claims() const { return claims_; }

 private:
  Json claims_;
};

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_RAW_JWT_H_
