// key_loader.h: the only ways to make a Key. Each refuses, with an
// INVALID_ARGUMENT kInvalidKey error that says why, any key jwtauth will not
// use:
//   - HMAC secrets shorter than the hash output (32/48/64 bytes for
//   HS256/384/512);
//   - RSA moduli under 2048 bits, public exponents that are even or < 3, and
//     moduli with the ROCA (CVE-2017-15361) fingerprint;
//   - EC keys not on the algorithm's curve (P-256/ES256, P-384/ES384,
//     P-521/ES512) or whose point is not on the curve;
//   - anything but Ed25519 for EdDSA, anything but RSA for RS*/PS*;
//   - private keys whose public half does not match.
// Error messages never contain key material.
//
//   absl::StatusOr<Key> k = KeyFromPem(Algorithm::kES256, pem_text, "2026-11");
//
// Thread-safety: stateless functions, safe from any thread.
#ifndef JWTAUTH_JWT_KEY_LOADER_H_
#define JWTAUTH_JWT_KEY_LOADER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "jwt/algorithm.h"
#include "jwt/json.h"
#include "jwt/key.h"

namespace jwtauth::jwt {

// HmacKeyFromSecret makes an HS* key from raw secret bytes.
absl::StatusOr<Key> HmacKeyFromSecret(Algorithm alg, absl::string_view secret,
                                      absl::string_view kid = "");

// KeyFromPem loads a PEM private key (PKCS#8, or traditional "RSA PRIVATE KEY"
// / "EC PRIVATE KEY"), public key (SPKI, or PKCS#1 "RSA PUBLIC KEY") or
// X.509 certificate (its public key) for `alg`. Encrypted keys are refused.
absl::StatusOr<Key> KeyFromPem(Algorithm alg, absl::string_view pem,
                               absl::string_view kid = "");

// KeyFromJwk loads one JWK (RFC 7517/7518/8037: kty oct, RSA, EC, OKP). The
// algorithm is the JWK's "alg" when present (it must then equal `alg` if that
// is given too) or else `alg`; a JWK with neither is refused. "use" other
// than "sig" and "key_ops" without "sign"/"verify" are refused. RSA private
// keys need all CRT parameters.
absl::StatusOr<Key> KeyFromJwk(const Json& jwk,
                               std::optional<Algorithm> alg = std::nullopt);
absl::StatusOr<Key> KeyFromJwk(absl::string_view jwk_json,
                               std::optional<Algorithm> alg = std::nullopt);

// PublicKeyOf returns the public half of an asymmetric key (the key itself
// when it is public already); kInvalidKey for HMAC keys.
absl::StatusOr<Key> PublicKeyOf(const Key& key);

// PublicKeyPem returns the SPKI PEM ("BEGIN PUBLIC KEY") of an asymmetric key.
absl::StatusOr<std::string> PublicKeyPem(const Key& key);

// GenerateKey makes a fresh random key for `alg` (HMAC: a secret of twice the
// hash size; RSA: 3072 bits).
absl::StatusOr<Key> GenerateKey(Algorithm alg, absl::string_view kid = "");

// GenerateSecret returns `size` bytes from the system CSPRNG.
absl::StatusOr<std::string> GenerateSecret(size_t size);

// ReadKeyFile returns a file's bytes (at most 1 MiB); errors name the file.
absl::StatusOr<std::string> ReadKeyFile(const std::string& path);

// ReadSecretFromEnv returns the value of environment variable `name`;
// NOT_FOUND when it is unset or empty.
absl::StatusOr<std::string> ReadSecretFromEnv(const std::string& name);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_KEY_LOADER_H_
