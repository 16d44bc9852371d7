// Tests for public JWK export: each asymmetric key type round-trips through
// KeyFromJwk and verifies tokens signed by its private key; EC coordinates
// keep their full length; HMAC secrets are never exported.
#include "jwt/jwk_export.h"

#include <string>
#include <tuple>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/base64url.h"
#include "jwt/key_loader.h"
#include "jwt/signer.h"
#include "jwt/verifier.h"
#include "tests/testing/test_util.h"

namespace jwtauth::jwt {
namespace {

using ::jwtauth::testing::IsOk;
using ::testing::HasSubstr;

RawJwt Payload() {
  RawJwt raw;
  raw.SetString("username", "ada")
      .SetNumericDate("exp", absl::Now() + absl::Minutes(5));
  return raw;
}

std::string Member(const Json& jwk, absl::string_view name) {
  const Json* v = jwk.Find(name);
  return v != nullptr && v->is_string() ? v->string_value() : "<absent>";
}

size_t DecodedSize(const Json& jwk, absl::string_view name) {
  std::string bytes;
  EXPECT_TRUE(Base64UrlDecode(Member(jwk, name), bytes)) << name;
  return bytes.size();
}

class JwkExport : public ::testing::TestWithParam<Algorithm> {};

TEST_P(JwkExport, ExportedJwkLoadsBackAndVerifiesTokensOfThePrivateKey) {
  const Algorithm alg = GetParam();
  Key priv = *GenerateKey(alg, "key-2026");
  absl::StatusOr<Json> jwk = PublicJwk(priv);
  ASSERT_THAT(jwk, IsOk());
  EXPECT_EQ(Member(*jwk, "kid"), "key-2026");
  EXPECT_EQ(Member(*jwk, "alg"), AlgorithmName(alg));
  EXPECT_EQ(Member(*jwk, "use"), "sig");
  EXPECT_EQ(jwk->Find("d"), nullptr);  // public members only
  for (const char* secret : {"p", "q", "dp", "dq", "qi", "k"})
    EXPECT_EQ(jwk->Find(secret), nullptr) << secret;

  absl::StatusOr<Key> pub = KeyFromJwk(*jwk);
  ASSERT_THAT(pub, IsOk());
  EXPECT_FALSE(pub->can_sign());
  EXPECT_EQ(pub->kid(), "key-2026");
  EXPECT_TRUE(pub->SameKeyMaterial(priv));
  const std::string token = *JwtSigner::Create(priv)->Sign(Payload());
  Verifier v = *Verifier::Create(*KeySet::Create({*pub}), {});
  absl::StatusOr<VerifiedJwt> verified = v.Verify(token);
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(verified->key_id(), "key-2026");
}

TEST_P(JwkExport, PublicKeyExportsTheSameJwkAsItsPrivateKey) {
  Key priv = *GenerateKey(GetParam(), "k");
  EXPECT_EQ(*PublicJwk(*PublicKeyOf(priv)), *PublicJwk(priv));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, JwkExport,
                         ::testing::Values(Algorithm::kRS256, Algorithm::kPS256,
                                           Algorithm::kES256, Algorithm::kES384,
                                           Algorithm::kES512,
                                           Algorithm::kEdDSA),
                         ::jwtauth::testing::AlgorithmParamName);

TEST(JwkExport, RsaJwkHasMinimalModulusAndExponent) {
  Key priv = *GenerateKey(Algorithm::kRS256);
  Json jwk = *PublicJwk(priv);
  EXPECT_EQ(Member(jwk, "kty"), "RSA");
  EXPECT_EQ(Member(jwk, "e"), "AQAB");  // 65537, no leading zero
  EXPECT_EQ(DecodedSize(jwk, "n"), 3072u / 8);
  EXPECT_EQ(jwk.Find("kid"), nullptr);  // a key without kid exports none
}

TEST(JwkExport, EdDsaJwkIsOkpEd25519) {
  Json jwk = *PublicJwk(*GenerateKey(Algorithm::kEdDSA));
  EXPECT_EQ(Member(jwk, "kty"), "OKP");
  EXPECT_EQ(Member(jwk, "crv"), "Ed25519");
  EXPECT_EQ(DecodedSize(jwk, "x"), 32u);
  EXPECT_EQ(jwk.Find("y"), nullptr);
}

TEST(JwkExport, EcCoordinateWithLeadingZeroByteIsPaddedToFullLength) {
  // About 1 key in 128 has a coordinate below 2^248 on P-256; look for one.
  for (int attempt = 0; attempt < 5000; ++attempt) {
    Key priv = *GenerateKey(Algorithm::kES256, "z");
    Json jwk = *PublicJwk(priv);
    ASSERT_EQ(DecodedSize(jwk, "x"), 32u);
    ASSERT_EQ(DecodedSize(jwk, "y"), 32u);
    std::string x, y;
    ASSERT_TRUE(Base64UrlDecode(Member(jwk, "x"), x));
    ASSERT_TRUE(Base64UrlDecode(Member(jwk, "y"), y));
    if (x[0] != '\0' && y[0] != '\0') continue;
    // It still loads, as the same key, and verifies.
    absl::StatusOr<Key> pub = KeyFromJwk(jwk);
    ASSERT_THAT(pub, IsOk());
    EXPECT_TRUE(pub->SameKeyMaterial(priv));
    return;
  }
  FAIL() << "no P-256 key with a leading-zero coordinate in 5000 tries";
}

TEST(JwkExport, EcCoordinatesHaveTheCurveSizeOnEveryCurve) {
  for (auto [alg, crv, size] : {std::tuple{Algorithm::kES256, "P-256", 32u},
                                {Algorithm::kES384, "P-384", 48u},
                                {Algorithm::kES512, "P-521", 66u}}) {
    // P-521's top byte holds one bit, so padding is exercised every time.
    for (int i = 0; i < 8; ++i) {
      Json jwk = *PublicJwk(*GenerateKey(alg));
      EXPECT_EQ(Member(jwk, "kty"), "EC");
      EXPECT_EQ(Member(jwk, "crv"), crv);
      EXPECT_EQ(DecodedSize(jwk, "x"), size) << crv;
      EXPECT_EQ(DecodedSize(jwk, "y"), size) << crv;
    }
  }
}

TEST(JwkExport, HmacKeyIsRefusedWithoutItsSecret) {
  const std::string secret(32, 's');
  absl::StatusOr<Json> jwk =
      PublicJwk(*HmacKeyFromSecret(Algorithm::kHS256, secret, "h"));
  EXPECT_EQ(jwk.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(jwk.status().message(), HasSubstr("HMAC"));
  EXPECT_THAT(jwk.status().message(), ::testing::Not(HasSubstr(secret)));
}

TEST(JwkExport, JwksListsAsymmetricKeysInOrderAndLoadsAsAKeySet) {
  Key a = *GenerateKey(Algorithm::kES256, "a");
  Key b = *GenerateKey(Algorithm::kEdDSA, "b");
  absl::StatusOr<Json> jwks = PublicJwks(*KeySet::Create({a, b}));
  ASSERT_THAT(jwks, IsOk());
  const Json& keys = *jwks->Find("keys");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(Member(keys.items()[0], "kid"), "a");
  EXPECT_EQ(Member(keys.items()[1], "kid"), "b");
  absl::StatusOr<KeySet> set = KeySet::FromJwks(SerializeJson(*jwks));
  ASSERT_THAT(set, IsOk());
  EXPECT_TRUE(set->FindByKid("b")->SameKeyMaterial(b));
}

TEST(JwkExport, JwksLeavesHmacKeysOut) {
  Key h = *HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 's'), "h");
  Key h2 = *HmacKeyFromSecret(Algorithm::kHS512, std::string(64, 't'), "h2");
  Json jwks = *PublicJwks(*KeySet::Create({h, h2}));
  EXPECT_EQ(SerializeJson(jwks), R"({"keys":[]})");
}

}  // namespace
}  // namespace jwtauth::jwt
