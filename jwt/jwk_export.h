// jwk_export.h: the public JWK (RFC 7517/7518/8037) of asymmetric keys, for
// publishing verification keys (/.well-known/jwks.json) and for tools.
//
// Only public material is ever written: RSA "n" and "e", EC "crv", "x" and
// "y" (each coordinate left-padded to the curve's full size, RFC 7518
// §6.2.1.2), OKP "crv" and "x". Each JWK also carries "kid" (when the key has
// one), "alg" and "use":"sig", so KeyFromJwk loads it back as the same
// verification key. HMAC keys are secrets and are never exported.
//
//   absl::StatusOr<Json> jwks = PublicJwks(key_set);
//   std::string body = SerializeJson(*jwks);
//
// Thread-safety: stateless functions, safe from any thread.
#ifndef JWTAUTH_JWT_JWK_EXPORT_H_
#define JWTAUTH_JWT_JWK_EXPORT_H_

#include "absl/status/statusor.h"
#include "jwt/json.h"
#include "jwt/key.h"
#include "jwt/key_set.h"

namespace jwtauth::jwt {

// PublicJwk returns the public JWK of an asymmetric key (private or public).
// FAILED_PRECONDITION for an HMAC key.
absl::StatusOr<Json> PublicJwk(const Key& key);

// PublicJwks returns the JWK Set {"keys":[...]} of the set's asymmetric keys,
// in the set's order; HMAC keys are left out (so an all-HMAC set gives an
// empty "keys" array).
absl::StatusOr<Json> PublicJwks(const KeySet& keys);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_JWK_EXPORT_H_
