#include "jwt/key_set.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "jwt/error.h"
#include "jwt/key_loader.h"

namespace jwtauth::jwt {

absl::StatusOr<KeySet> KeySet::Create(std::vector<Key> keys) {
  if (keys.empty())
    return MakeJwtError(JwtError::kInvalidKey, "key set is empty");
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].can_sign() != keys[0].can_sign()) {
      return MakeJwtError(JwtError::kInvalidKey,
                          "key set mixes public and private keys");
    }
    for (size_t j = 0; j < i; ++j) {
      if (!keys[i].kid().empty() && keys[i].kid() == keys[j].kid()) {
        return MakeJwtError(JwtError::kInvalidKey,
                            absl::StrCat("key set has two keys with kid \"",
                                         keys[i].kid(), "\""));
      }
    }
  }
  return KeySet(std::move(keys));
}

absl::StatusOr<KeySet> KeySet::FromJwks(const Json& jwks,
                                        std::optional<Algorithm> alg) {
  const Json* members = jwks.is_object() ? jwks.Find("keys") : nullptr;
  if (members == nullptr || !members->is_array()) {
    return MakeJwtError(JwtError::kInvalidKey,
                        "a JWK Set needs a \"keys\" array");
  }
  std::vector<Key> keys;
  for (size_t i = 0; i < members->size(); ++i) {
    absl::StatusOr<Key> key = KeyFromJwk(members->items()[i], alg);
    if (!key.ok()) {
      return MakeJwtError(
          JwtError::kInvalidKey,
          absl::StrCat("JWK Set member ", i, ": ", key.status().message()));
    }
    keys.push_back(*std::move(key));
  }
  return Create(std::move(keys));
}

absl::StatusOr<KeySet> KeySet::FromJwks(absl::string_view jwks_json,
                                        std::optional<Algorithm> alg) {
  absl::StatusOr<Json> jwks = ParseJson(jwks_json);
  if (!jwks.ok())
    return MakeJwtError(JwtError::kInvalidKey, "JWK Set is not valid JSON");
  return FromJwks(*jwks, alg);
}

const Key* KeySet::FindByKid(absl::string_view kid) const {
  for (const Key& key : keys_) {
    if (key.kid() == kid) return &key;
  }
  return nullptr;
}

}  // namespace jwtauth::jwt
