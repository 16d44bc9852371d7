// Tests for key loading: every accepted PEM/JWK form, and each refusal with
// its message.
#include "jwt/key_loader.h"

#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/base64url.h"
#include "jwt/key_set.h"
#include "tests/testing/test_util.h"

namespace jwtauth::jwt {
namespace {

using ::jwtauth::testing::IsJwtError;
using ::jwtauth::testing::IsOk;
using ::testing::HasSubstr;

enum class PemForm { kPkcs8, kTraditional, kSpki, kPkcs1Public, kEncrypted };

// PemOf writes `pkey` in one PEM form.
std::string PemOf(EVP_PKEY* pkey, PemForm form) {
  BIO* bio = BIO_new(BIO_s_mem());
  int ok = 0;
  switch (form) {
    case PemForm::kPkcs8:
      ok = PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr,
                                    nullptr);
      break;
    case PemForm::kTraditional:
      ok = PEM_write_bio_PrivateKey_traditional(bio, pkey, nullptr, nullptr, 0,
                                                nullptr, nullptr);
      break;
    case PemForm::kSpki:
      ok = PEM_write_bio_PUBKEY(bio, pkey);
      break;
    case PemForm::kPkcs1Public: {
      OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(
          pkey, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", nullptr);
      ok = ctx != nullptr && OSSL_ENCODER_to_bio(ctx, bio) == 1;
      OSSL_ENCODER_CTX_free(ctx);
      break;
    }
    case PemForm::kEncrypted: {
      static char pass[] = "passphrase";
      ok = PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), pass, 10,
                                         nullptr, nullptr);
      break;
    }
  }
  EXPECT_EQ(ok, 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

EVP_PKEY* Rsa(unsigned bits) {
  return EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
}
EVP_PKEY* Ec(const char* curve) {
  return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
}
EVP_PKEY* Ed25519() { return EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); }

// Keys shared by the tests, each made once on first use (RSA generation is
// slow).
struct Keys {
  EVP_PKEY* rsa2048() const {
    static EVP_PKEY* k = Rsa(2048);
    return k;
  }
  EVP_PKEY* rsa1024() const {
    static EVP_PKEY* k = Rsa(1024);
    return k;
  }
  EVP_PKEY* p256() const {
    static EVP_PKEY* k = Ec("P-256");
    return k;
  }
  EVP_PKEY* p384() const {
    static EVP_PKEY* k = Ec("P-384");
    return k;
  }
  EVP_PKEY* p521() const {
    static EVP_PKEY* k = Ec("P-521");
    return k;
  }
  EVP_PKEY* ed() const {
    static EVP_PKEY* k = Ed25519();
    return k;
  }
};
const Keys& K() {
  static const Keys keys;
  return keys;
}

void ExpectSignsAndVerifies(const Key& priv, const Key& pub) {
  absl::StatusOr<std::string> sig = priv.Sign("header.payload");
  ASSERT_THAT(sig, IsOk());
  EXPECT_TRUE(pub.VerifySignature("header.payload", *sig));
  EXPECT_FALSE(pub.VerifySignature("header.payloaD", *sig));
}

TEST(HmacKey, SecretOfHashSizeIsAccepted) {
  EXPECT_THAT(HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'k')),
              IsOk());
  EXPECT_THAT(HmacKeyFromSecret(Algorithm::kHS384, std::string(48, 'k')),
              IsOk());
  EXPECT_THAT(HmacKeyFromSecret(Algorithm::kHS512, std::string(64, 'k')),
              IsOk());
}

TEST(HmacKey, SecretShorterThanHashIsRefusedWithSizes) {
  absl::StatusOr<Key> k =
      HmacKeyFromSecret(Algorithm::kHS256, std::string(31, 'k'));
  EXPECT_THAT(k, IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(k.status().message(), HasSubstr("31 bytes"));
  EXPECT_THAT(k.status().message(), HasSubstr("at least 32"));
  EXPECT_THAT(HmacKeyFromSecret(Algorithm::kHS512, std::string(63, 'k')),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(HmacKeyFromSecret(Algorithm::kHS256, ""),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(HmacKey, NonHmacAlgorithmIsRefused) {
  EXPECT_THAT(HmacKeyFromSecret(Algorithm::kRS256, std::string(64, 'k')),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(PemKey, EveryPrivateAndPublicFormLoads) {
  struct Case {
    Algorithm alg;
    EVP_PKEY* pkey;
  };
  for (const Case& c : {Case{Algorithm::kRS256, K().rsa2048()},
                        Case{Algorithm::kPS256, K().rsa2048()},
                        Case{Algorithm::kES256, K().p256()},
                        Case{Algorithm::kES384, K().p384()},
                        Case{Algorithm::kES512, K().p521()},
                        Case{Algorithm::kEdDSA, K().ed()}}) {
    SCOPED_TRACE(AlgorithmName(c.alg));
    absl::StatusOr<Key> priv =
        KeyFromPem(c.alg, PemOf(c.pkey, PemForm::kPkcs8));
    ASSERT_THAT(priv, IsOk());
    EXPECT_TRUE(priv->can_sign());
    absl::StatusOr<Key> pub = KeyFromPem(c.alg, PemOf(c.pkey, PemForm::kSpki));
    ASSERT_THAT(pub, IsOk());
    EXPECT_FALSE(pub->can_sign());
    ExpectSignsAndVerifies(*priv, *pub);
    if (c.alg != Algorithm::kEdDSA) {
      absl::StatusOr<Key> trad =
          KeyFromPem(c.alg, PemOf(c.pkey, PemForm::kTraditional));
      ASSERT_THAT(trad, IsOk());
      ExpectSignsAndVerifies(*trad, *pub);
    }
  }
}

TEST(PemKey, TraditionalFormsHaveTheirHeaders) {
  EXPECT_THAT(PemOf(K().rsa2048(), PemForm::kTraditional),
              HasSubstr("BEGIN RSA PRIVATE KEY"));
  EXPECT_THAT(PemOf(K().p256(), PemForm::kTraditional),
              HasSubstr("BEGIN EC PRIVATE KEY"));
  EXPECT_THAT(PemOf(K().rsa2048(), PemForm::kPkcs1Public),
              HasSubstr("BEGIN RSA PUBLIC KEY"));
}

TEST(PemKey, Pkcs1RsaPublicKeyLoads) {
  absl::StatusOr<Key> pub = KeyFromPem(
      Algorithm::kRS256, PemOf(K().rsa2048(), PemForm::kPkcs1Public));
  ASSERT_THAT(pub, IsOk());
  absl::StatusOr<Key> priv =
      KeyFromPem(Algorithm::kRS256, PemOf(K().rsa2048(), PemForm::kPkcs8));
  ExpectSignsAndVerifies(*priv, *pub);
}

TEST(PemKey, Rsa1024IsRefusedNamingItsSize) {
  absl::StatusOr<Key> k =
      KeyFromPem(Algorithm::kRS256, PemOf(K().rsa1024(), PemForm::kSpki));
  EXPECT_THAT(k, IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(k.status().message(), HasSubstr("1024 bits"));
}

TEST(PemKey, WrongCurveIsRefusedNamingBoth) {
  absl::StatusOr<Key> k =
      KeyFromPem(Algorithm::kES256, PemOf(K().p384(), PemForm::kSpki));
  EXPECT_THAT(k, IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(k.status().message(), HasSubstr("prime256v1"));
  EXPECT_THAT(k.status().message(), HasSubstr("secp384r1"));
  EXPECT_THAT(KeyFromPem(Algorithm::kES512, PemOf(K().p256(), PemForm::kPkcs8)),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(PemKey, KeyTypeNotMatchingAlgorithmIsRefused) {
  EXPECT_THAT(KeyFromPem(Algorithm::kRS256, PemOf(K().p256(), PemForm::kSpki)),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(
      KeyFromPem(Algorithm::kES256, PemOf(K().rsa2048(), PemForm::kSpki)),
      IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromPem(Algorithm::kEdDSA, PemOf(K().p256(), PemForm::kSpki)),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromPem(Algorithm::kES256, PemOf(K().ed(), PemForm::kSpki)),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(
      KeyFromPem(Algorithm::kHS256, PemOf(K().rsa2048(), PemForm::kSpki)),
      IsJwtError(JwtError::kInvalidKey));
}

TEST(PemKey, EncryptedKeyIsRefused) {
  absl::StatusOr<Key> k =
      KeyFromPem(Algorithm::kES256, PemOf(K().p256(), PemForm::kEncrypted));
  EXPECT_THAT(k, IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(k.status().message(), HasSubstr("encrypted"));
}

TEST(PemKey, GarbageIsRefused) {
  EXPECT_THAT(KeyFromPem(Algorithm::kRS256, "not a key"),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromPem(Algorithm::kRS256, ""),
              IsJwtError(JwtError::kInvalidKey));
  // Truncated DER inside intact PEM armour.
  const std::string pem = PemOf(K().rsa2048(), PemForm::kSpki);
  const std::string truncated =
      pem.substr(0, pem.size() / 2) + "\n-----END PUBLIC KEY-----\n";
  EXPECT_THAT(KeyFromPem(Algorithm::kRS256, truncated),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(PublicKey, PublicHalfVerifiesAndCannotSign) {
  absl::StatusOr<Key> priv = GenerateKey(Algorithm::kES256, "k1");
  ASSERT_THAT(priv, IsOk());
  absl::StatusOr<Key> pub = PublicKeyOf(*priv);
  ASSERT_THAT(pub, IsOk());
  EXPECT_FALSE(pub->can_sign());
  EXPECT_EQ(pub->kid(), "k1");
  EXPECT_TRUE(pub->SameKeyMaterial(*priv));
  ExpectSignsAndVerifies(*priv, *pub);
  EXPECT_THAT(pub->Sign("x"), ::testing::Not(IsOk()));
  absl::StatusOr<std::string> pem = PublicKeyPem(*priv);
  ASSERT_THAT(pem, IsOk());
  EXPECT_THAT(KeyFromPem(Algorithm::kES256, *pem), IsOk());
}

// JWK ----------------------------------------------------------------------

std::string EcJwk(absl::string_view crv, bool with_d,
                  absl::string_view extra = "") {
  // P-256 key from RFC 7515 Appendix A.3.
  return absl::StrCat(
      R"({"kty":"EC","crv":")", crv,
      R"(","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)",
      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")",
      with_d ? R"(,"d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")" : "",
      extra, "}");
}

TEST(JwkKey, EcPrivateAndPublicLoad) {
  absl::StatusOr<Key> priv =
      KeyFromJwk(EcJwk("P-256", true), Algorithm::kES256);
  ASSERT_THAT(priv, IsOk());
  absl::StatusOr<Key> pub =
      KeyFromJwk(EcJwk("P-256", false, R"(,"alg":"ES256","use":"sig")"));
  ASSERT_THAT(pub, IsOk());
  EXPECT_EQ(pub->algorithm(), Algorithm::kES256);
  ExpectSignsAndVerifies(*priv, *pub);
}

TEST(JwkKey, MissingAlgorithmEverywhereIsRefused) {
  EXPECT_THAT(KeyFromJwk(EcJwk("P-256", false)),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(JwkKey, AlgDifferentFromConfiguredIsRefused) {
  EXPECT_THAT(
      KeyFromJwk(EcJwk("P-256", false, R"(,"alg":"ES256")"), Algorithm::kRS256),
      IsJwtError(JwtError::kInvalidKey));
}

TEST(JwkKey, CurveNotMatchingAlgIsRefused) {
  EXPECT_THAT(KeyFromJwk(EcJwk("P-384", false), Algorithm::kES256),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromJwk(EcJwk("P-256", false), Algorithm::kES384),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(JwkKey, PointNotOnCurveIsRefused) {
  std::string jwk = EcJwk("P-256", false);
  jwk.replace(jwk.find("x_FE"), 4, "x_FF");
  EXPECT_THAT(KeyFromJwk(jwk, Algorithm::kES256),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(JwkKey, PrivateScalarNotMatchingPointIsRefused) {
  std::string jwk = EcJwk("P-256", true);
  jwk.replace(jwk.find("jpsQ"), 4, "jpsR");
  EXPECT_THAT(KeyFromJwk(jwk, Algorithm::kES256),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(JwkKey, EncryptionUseOrOpsIsRefused) {
  EXPECT_THAT(
      KeyFromJwk(EcJwk("P-256", false, R"(,"use":"enc")"), Algorithm::kES256),
      IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromJwk(EcJwk("P-256", false, R"(,"key_ops":["encrypt"])"),
                         Algorithm::kES256),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromJwk(EcJwk("P-256", false, R"(,"key_ops":["verify"])"),
                         Algorithm::kES256),
              IsOk());
}

TEST(JwkKey, OctKeyFollowsHmacLengthRule) {
  const std::string k32 = Base64UrlEncode(std::string(32, 'k'));
  const std::string k31 = Base64UrlEncode(std::string(31, 'k'));
  EXPECT_THAT(KeyFromJwk(absl::StrCat(R"({"kty":"oct","alg":"HS256","k":")",
                                      k32, R"("})")),
              IsOk());
  EXPECT_THAT(KeyFromJwk(absl::StrCat(R"({"kty":"oct","alg":"HS256","k":")",
                                      k31, R"("})")),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromJwk(absl::StrCat(R"({"kty":"oct","alg":"A256GCM","k":")",
                                      k32, R"("})")),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromJwk(absl::StrCat(R"({"kty":"RSA","alg":"HS256","k":")",
                                      k32, R"("})")),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(JwkKey, PaddedBase64IsRefused) {
  EXPECT_THAT(
      KeyFromJwk(absl::StrCat(R"({"kty":"oct","alg":"HS256","k":")",
                              Base64UrlEncode(std::string(32, 'k')), R"(="})")),
      IsJwtError(JwtError::kInvalidKey));
}

TEST(JwkKey, Ed25519FromRfc8037Loads) {
  // RFC 8037 Appendix A.1/A.2.
  const std::string jwk =
      R"({"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",)"
      R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";
  absl::StatusOr<Key> priv = KeyFromJwk(jwk, Algorithm::kEdDSA);
  ASSERT_THAT(priv, IsOk());
  // RFC 8037 A.4: the signature of
  // "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc".
  absl::StatusOr<std::string> sig =
      priv->Sign("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
  ASSERT_THAT(sig, IsOk());
  EXPECT_EQ(Base64UrlEncode(*sig),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-"
            "09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
}

TEST(JwkKey, RsaPrivateWithoutCrtIsRefused) {
  // n and e of a real key are not needed to reach the CRT rule.
  const std::string jwk =
      R"({"kty":"RSA","alg":"RS256","n":"AQAB","e":"AQAB","d":"AQAB"})";
  absl::StatusOr<Key> k = KeyFromJwk(jwk);
  EXPECT_THAT(k, IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(k.status().message(), HasSubstr("all of d, p, q"));
}

TEST(JwkKey, NotAnObjectIsRefused) {
  EXPECT_THAT(KeyFromJwk("[]", Algorithm::kES256),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeyFromJwk("{", Algorithm::kES256),
              IsJwtError(JwtError::kInvalidKey));
}

// Key sets -------------------------------------------------------------------

TEST(KeySet, DuplicateKidIsRefused) {
  absl::StatusOr<Key> a = GenerateKey(Algorithm::kHS256, "same");
  absl::StatusOr<Key> b = GenerateKey(Algorithm::kHS256, "same");
  EXPECT_THAT(KeySet::Create({*a, *b}), IsJwtError(JwtError::kInvalidKey));
}

TEST(KeySet, MixedPublicAndPrivateIsRefused) {
  absl::StatusOr<Key> a = GenerateKey(Algorithm::kES256, "a");
  absl::StatusOr<Key> b = GenerateKey(Algorithm::kES256, "b");
  EXPECT_THAT(KeySet::Create({*a, *PublicKeyOf(*b)}),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(KeySet, EmptyIsRefused) {
  EXPECT_THAT(KeySet::Create({}), IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeySet::FromJwks(R"({"keys":[]})"),
              IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(KeySet::FromJwks(R"({"nokeys":1})"),
              IsJwtError(JwtError::kInvalidKey));
}

TEST(KeySet, JwksMemberErrorNamesItsIndex) {
  absl::StatusOr<KeySet> set = KeySet::FromJwks(absl::StrCat(
      R"({"keys":[)", EcJwk("P-256", false, R"(,"alg":"ES256","kid":"a")"), ",",
      EcJwk("P-384", false, R"(,"alg":"ES256","kid":"b")"), "]}"));
  EXPECT_THAT(set, IsJwtError(JwtError::kInvalidKey));
  EXPECT_THAT(set.status().message(), HasSubstr("member 1"));
}

// Files and environment
// ---------------------------------------------------------

TEST(KeyFile, MissingFileErrorNamesThePath) {
  absl::StatusOr<std::string> s =
      ReadKeyFile("/nonexistent/jwtauth/secret.key");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(),
              HasSubstr("/nonexistent/jwtauth/secret.key"));
}

TEST(KeyFile, SecretFromEnvironment) {
  ::setenv("JWTAUTH_TEST_SECRET", "0123456789abcdef0123456789abcdef", 1);
  absl::StatusOr<std::string> s = ReadSecretFromEnv("JWTAUTH_TEST_SECRET");
  ASSERT_THAT(s, IsOk());
  EXPECT_THAT(HmacKeyFromSecret(Algorithm::kHS256, *s), IsOk());
  ::unsetenv("JWTAUTH_TEST_SECRET");
  EXPECT_EQ(ReadSecretFromEnv("JWTAUTH_TEST_SECRET").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(GenerateKey, EveryAlgorithmMakesAWorkingKey) {
  for (int a = 0; a <= static_cast<int>(Algorithm::kEdDSA); ++a) {
    const auto alg = static_cast<Algorithm>(a);
    SCOPED_TRACE(AlgorithmName(alg));
    if (FamilyOf(alg) == KeyFamily::kRsa ||
        FamilyOf(alg) == KeyFamily::kRsaPss) {
      if (alg != Algorithm::kRS256 && alg != Algorithm::kPS256)
        continue;  // 3072-bit keygen is slow
    }
    absl::StatusOr<Key> key = GenerateKey(alg);
    ASSERT_THAT(key, IsOk());
    EXPECT_EQ(key->algorithm(), alg);
    ExpectSignsAndVerifies(*key, *key);
  }
}

}  // namespace
}  // namespace jwtauth::jwt
