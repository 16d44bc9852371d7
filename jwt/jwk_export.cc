#include "jwt/jwk_export.h"

#include <openssl/core_names.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "jwt/base64url.h"
#include "jwt/key_data.h"

namespace jwtauth::jwt {
namespace {

using internal::BignumPtr;

absl::Status ExportError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("JWK export failed: ", what));
}

// BignumParam returns the big-endian bytes of a BIGNUM parameter, left-padded
// to `size` bytes, or minimal (no leading zeros) when `size` is 0.
absl::StatusOr<std::string> BignumParam(const EVP_PKEY* pkey, const char* name,
                                        size_t size) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1 || raw == nullptr) {
    return ExportError(absl::StrCat("key parameter ", name, " unreadable"));
  }
  BignumPtr bn(raw);
  if (size == 0) size = static_cast<size_t>(BN_num_bytes(bn.get()));
  if (static_cast<size_t>(BN_num_bytes(bn.get())) > size) {
    return ExportError(absl::StrCat("key parameter ", name, " too large"));
  }
  std::string out = internal::BignumToPadded(bn.get(), size);
  if (out.size() != size)
    return ExportError(absl::StrCat("key parameter ", name));
  return out;
}

absl::StatusOr<std::string> OctetParam(const EVP_PKEY* pkey, const char* name) {
  unsigned char buf[256];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, name, buf, sizeof buf, &len) != 1) {
    return ExportError(absl::StrCat("key parameter ", name, " unreadable"));
  }
  return std::string(reinterpret_cast<const char*>(buf), len);
}

void SetBytes(Json& jwk, absl::string_view name, const std::string& bytes) {
  jwk.Set(name, Json::String(Base64UrlEncode(bytes)));
}

}  // namespace

absl::StatusOr<Json> PublicJwk(const Key& key) {
  const internal::KeyData& d = internal::DataOf(key);
  const EVP_PKEY* pkey = d.pkey.get();
  Json jwk = Json::Object();
  switch (FamilyOf(d.alg)) {
    case KeyFamily::kHmac:
      return absl::FailedPreconditionError(
          "an HMAC key is a secret and has no public JWK");
    case KeyFamily::kRsa:
    case KeyFamily::kRsaPss: {
      absl::StatusOr<std::string> n =
          BignumParam(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
      if (!n.ok()) return n.status();
      absl::StatusOr<std::string> e =
          BignumParam(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
      if (!e.ok()) return e.status();
      jwk.Set("kty", Json::String("RSA"));
      SetBytes(jwk, "n", *n);
      SetBytes(jwk, "e", *e);
      break;
    }
    case KeyFamily::kEcdsa: {
      const size_t coord = EcCoordinateSize(d.alg);
      absl::StatusOr<std::string> x =
          BignumParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, coord);
      if (!x.ok()) return x.status();
      absl::StatusOr<std::string> y =
          BignumParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, coord);
      if (!y.ok()) return y.status();
      jwk.Set("kty", Json::String("EC"));
      jwk.Set("crv", Json::String(d.alg == Algorithm::kES256   ? "P-256"
                                  : d.alg == Algorithm::kES384 ? "P-384"
                                                               : "P-521"));
      SetBytes(jwk, "x", *x);
      SetBytes(jwk, "y", *y);
      break;
    }
    case KeyFamily::kEdDSA: {
      absl::StatusOr<std::string> x = OctetParam(pkey, OSSL_PKEY_PARAM_PUB_KEY);
      if (!x.ok()) return x.status();
      if (x->size() != 32) return ExportError("Ed25519 public key size");
      jwk.Set("kty", Json::String("OKP"));
      jwk.Set("crv", Json::String("Ed25519"));
      SetBytes(jwk, "x", *x);
      break;
    }
  }
  if (!d.kid.empty()) jwk.Set("kid", Json::String(d.kid));
  jwk.Set("alg", Json::String(std::string(AlgorithmName(d.alg))));
  jwk.Set("use", Json::String("sig"));
  return jwk;
}

absl::StatusOr<Json> PublicJwks(const KeySet& keys) {
  Json members = Json::Array();
  for (const Key& key : keys.keys()) {
    if (FamilyOf(key.algorithm()) == KeyFamily::kHmac) continue;
    absl::StatusOr<Json> jwk = PublicJwk(key);
    if (!jwk.ok()) return jwk.status();
    members.Append(*std::move(jwk));
  }
  Json jwks = Json::Object();
  jwks.Set("keys", std::move(members));
  return jwks;
}

}  // namespace jwtauth::jwt
