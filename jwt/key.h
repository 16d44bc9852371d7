// key.h: one signing or verification key, bound to exactly one algorithm.
//
// A Key is immutable and cheap to copy (it shares its OpenSSL state). The key
// fixes the algorithm: tokens are checked against Key::algorithm(), never
// against what a token's header claims. Keys are made only by the loaders in
// key_loader.h, which refuse weak or mismatched material, so every Key is one
// the library is willing to use. Parse keys once at start-up: a PEM parse
// costs hundreds of microseconds, a verification a few.
//
//   absl::StatusOr<Key> key = HmacKeyFromSecret(Algorithm::kHS256, secret);
//   absl::StatusOr<std::string> sig = key->Sign("header.payload");
//
// Thread-safety: thread-safe; Sign and VerifySignature may run concurrently.
#ifndef JWTAUTH_JWT_KEY_H_
#define JWTAUTH_JWT_KEY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "jwt/algorithm.h"

namespace jwtauth::jwt {

class Key;
namespace internal {
struct KeyData;
const KeyData& DataOf(const Key& key);
}  // namespace internal

class Key {
 public:
  Algorithm algorithm() const;
  // kid returns the key id ("" when the key has none).
  const std::string& kid() const;
  // can_sign is true for HMAC secrets and asymmetric private keys.
  bool can_sign() const;

  // Sign returns the raw JWS signature (RFC 7518 form: HMAC tag, RSA
  // signature, ECDSA R||S, Ed25519 signature) over `signing_input`.
  // FAILED_PRECONDITION for a public key.
  absl::StatusOr<std::string> Sign(absl::string_view signing_input) const;

  // VerifySignature returns true when `signature` is a valid raw JWS
  // signature over `signing_input` for this key. Lengths are checked exactly;
  // HMAC tags are compared in constant time.
  bool VerifySignature(absl::string_view signing_input,
                       absl::string_view signature) const;

  // SameKeyMaterial is true when both keys verify with the same material.
  bool SameKeyMaterial(const Key& other) const;

  explicit Key(std::shared_ptr<const internal::KeyData> data);

 private:
  friend const internal::KeyData& internal::DataOf(const Key& key);
  std::shared_ptr<const internal::KeyData> data_;
};

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_KEY_H_
