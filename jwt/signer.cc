#include "jwt/signer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "jwt/base64url.h"
#include "jwt/error.h"
#include "jwt/header.h"

namespace jwtauth::jwt {
namespace {

absl::Status CheckRegisteredClaims(const Json& claims) {
  for (const char* name : {"exp", "nbf", "iat"}) {
    const Json* v = claims.Find(name);
    if (v != nullptr && !v->is_number()) {
      return MakeJwtError(JwtError::kInvalidClaim,
                          absl::StrCat("claim ", name, " must be a number"));
    }
  }
  for (const char* name : {"iss", "sub", "jti"}) {
    const Json* v = claims.Find(name);
    if (v != nullptr && !v->is_string()) {
      return MakeJwtError(JwtError::kInvalidClaim,
                          absl::StrCat("claim ", name, " must be a string"));
    }
  }
  if (const Json* aud = claims.Find("aud"); aud != nullptr) {
    bool ok = aud->is_string();
    if (aud->is_array()) {
      ok = true;
      for (const Json& a : aud->items()) ok = ok && a.is_string();
    }
    if (!ok) {
      return MakeJwtError(JwtError::kInvalidClaim,
                          "claim aud must be a string or array of strings");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JwtSigner> JwtSigner::Create(Key key) {
  if (!key.can_sign()) {
    return MakeJwtError(JwtError::kInvalidKey, "a public key cannot sign");
  }
  std::string header = Base64UrlEncode(CanonicalHeaderJson(key));
  return JwtSigner(std::move(key), std::move(header));
}

absl::StatusOr<std::string> JwtSigner::Sign(const RawJwt& raw) const {
  absl::Status claims_ok = CheckRegisteredClaims(raw.claims());
  if (!claims_ok.ok()) return claims_ok;
  std::string token;
  token.reserve(256);
  token.append(encoded_header_);
  token.push_back('.');
  Base64UrlEncodeTo(SerializeJson(raw.claims()), token);
  absl::StatusOr<std::string> sig = key_.Sign(token);
  if (!sig.ok()) return sig.status();
  token.push_back('.');
  Base64UrlEncodeTo(*sig, token);
  return token;
}

}  // namespace jwtauth::jwt
