// signer.h: turns claims into a compact JWS (RFC 7515 §7.1).
//
// The header is {"alg":<key's alg>,"typ":"JWT"} plus "kid" when the key has
// one, computed once per signer. Claims are serialised compactly, in order.
//
//   absl::StatusOr<JwtSigner> signer = JwtSigner::Create(key);
//   absl::StatusOr<std::string> token = signer->Sign(raw);
//
// Thread-safety: thread-safe.
#ifndef JWTAUTH_JWT_SIGNER_H_
#define JWTAUTH_JWT_SIGNER_H_

#include <string>

#include "absl/status/statusor.h"
#include "jwt/key.h"
#include "jwt/raw_jwt.h"

namespace jwtauth::jwt {

class JwtSigner {
 public:
  // Create fails with kInvalidKey when `key` cannot sign (a public key).
  static absl::StatusOr<JwtSigner> Create(Key key);

  // Sign checks the registered claims' types (exp/nbf/iat numbers; iss/sub/jti
  // strings; aud a string or array of strings) and returns the token.
  absl::StatusOr<std::string> Sign(const RawJwt& raw) const;

  const Key& key() const { return key_; }

 private:
  JwtSigner(Key key, std::string encoded_header)
      : key_(std::move(key)), encoded_header_(std::move(encoded_header)) {}
  Key key_;
  std::string encoded_header_;
};

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_SIGNER_H_
