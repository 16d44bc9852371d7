// header.h: JOSE header rules shared by the signer and verifiers (internal).
// Thread-safety: stateless functions, safe from any thread.
#ifndef JWTAUTH_JWT_HEADER_H_
#define JWTAUTH_JWT_HEADER_H_

#include <string>

#include "absl/status/status.h"
#include "jwt/json.h"
#include "jwt/key.h"

namespace jwtauth::jwt {

// CanonicalHeaderJson returns the header jwtauth writes for `key`:
// {"alg":"<alg>","typ":"JWT"} with ,"kid":"<kid>" appended when it has one.
std::string CanonicalHeaderJson(const Key& key);

// CheckAlgHeader checks that `header` (a parsed JSON value) is an object whose
// "alg" is a string naming exactly `key`'s algorithm: kAlgorithmNotAllowed
// for a missing, non-string, "none" (any case) or other alg; kMalformed when
// the header is not an object.
absl::Status CheckAlgHeader(const Json& header, const Key& key);

// CheckOtherHeaders refuses "crit" (no extension is implemented) and "b64"
// (RFC 7797) with kUnsupportedHeader, and a non-string "kid" with kMalformed.
// Embedded keys (jwk, jku, x5u, x5c, x5t) are ignored, never used.
absl::Status CheckOtherHeaders(const Json& header);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_HEADER_H_
