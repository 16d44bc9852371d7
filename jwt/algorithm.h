// algorithm.h: the JWS algorithms jwtauth signs and verifies (RFC 7518, RFC
// 8037).
//
// "none" is not an algorithm here: it cannot be named, parsed or configured.
// Thread-safety: stateless functions, safe from any thread.
#ifndef JWTAUTH_JWT_ALGORITHM_H_
#define JWTAUTH_JWT_ALGORITHM_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace jwtauth::jwt {

enum class Algorithm {
  kHS256,
  kHS384,
  kHS512,
  kRS256,
  kRS384,
  kRS512,
  kPS256,
  kPS384,
  kPS512,
  kES256,
  kES384,
  kES512,
  kEdDSA,
};

enum class KeyFamily { kHmac, kRsa, kRsaPss, kEcdsa, kEdDSA };

// AlgorithmName returns the JOSE name, e.g. "HS256".
absl::string_view AlgorithmName(Algorithm alg);

// ParseAlgorithm maps a JOSE name (case-sensitive, as RFC 7515 requires) to an
// Algorithm, or nullopt for "none" and every name jwtauth does not implement.
std::optional<Algorithm> ParseAlgorithm(absl::string_view name);

KeyFamily FamilyOf(Algorithm alg);

// DigestName returns the OpenSSL digest name ("SHA256"...), or "" for EdDSA.
const char* DigestName(Algorithm alg);

// DigestSize returns the hash output size in bytes (64 for EdDSA's SHA-512).
size_t DigestSize(Algorithm alg);

// EcCurveName returns the OpenSSL group name for ES*, e.g. "prime256v1".
const char* EcCurveName(Algorithm alg);

// EcCoordinateSize returns the size of one coordinate / scalar for ES*
// (32, 48 or 66 bytes); a JWS ECDSA signature is twice that.
size_t EcCoordinateSize(Algorithm alg);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_ALGORITHM_H_
