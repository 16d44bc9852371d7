// key_set.h: the keys a signer or verifier uses, with kid-based selection.
//
// The first key signs ("current"); every key verifies. A token whose header
// names a kid is checked only against the key with that kid; a token without
// kid against each key of the token's stated algorithm (which must still be
// the key's own). Sets are refused when kids repeat, when public and private
// keys are mixed, or when they are empty.
//
//   absl::StatusOr<KeySet> set = KeySet::FromJwks(jwks_json);
//
// Thread-safety: immutable; thread-safe.
#ifndef JWTAUTH_JWT_KEY_SET_H_
#define JWTAUTH_JWT_KEY_SET_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "jwt/json.h"
#include "jwt/key.h"

namespace jwtauth::jwt {

class KeySet {
 public:
  // Create makes a set; keys[0] is the current (signing) key.
  static absl::StatusOr<KeySet> Create(std::vector<Key> keys);
  // FromJwks loads an RFC 7517 JWK Set ({"keys":[...]}); `alg` applies to
  // members without their own "alg".
  static absl::StatusOr<KeySet> FromJwks(
      absl::string_view jwks_json, std::optional<Algorithm> alg = std::nullopt);
  static absl::StatusOr<KeySet> FromJwks(
      const Json& jwks, std::optional<Algorithm> alg = std::nullopt);

  const Key& current() const { return keys_.front(); }
  const std::vector<Key>& keys() const { return keys_; }
  // FindByKid returns the key with `kid`, or nullptr.
  const Key* FindByKid(absl::string_view kid) const;

 private:
  explicit KeySet(std::vector<Key> keys) : keys_(std::move(keys)) {}
  std::vector<Key> keys_;
};

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_KEY_SET_H_
