// Cross-checks with PyJWT (Debian's python3-jwt), called exactly as
// djangorestframework-jwt calls it: jwtauth's tokens decode there, and
// tokens PyJWT builds from drf-jwt's payload verify here.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/jwk_export.h"
#include "jwt/key_loader.h"
#include "jwt/signer.h"
#include "jwt/verifier.h"
#include "tests/testing/test_util.h"

namespace jwtauth::jwt {
namespace {

using ::jwtauth::testing::IsJwtError;
using ::jwtauth::testing::IsOk;

// RunPyJwt writes `request` to a private temp file, runs pyjwt_check.py on it
// and returns its parsed JSON answer.
Json RunPyJwt(const Json& request) {
  char path[] = "/tmp/jwtauth-pyjwt-XXXXXX";
  const int fd = ::mkstemp(path);  // mode 0600
  EXPECT_GE(fd, 0);
  const std::string body = SerializeJson(request);
  EXPECT_EQ(::write(fd, body.data(), body.size()),
            static_cast<ssize_t>(body.size()));
  ::close(fd);
  const std::string cmd = absl::StrCat(JWTAUTH_PYTHON3, " ", JWTAUTH_TESTS_DIR,
                                       "/jwt/pyjwt_check.py ", path);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (pipe != nullptr && (n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  const int rc = pipe == nullptr ? -1 : ::pclose(pipe);
  ::unlink(path);
  EXPECT_EQ(rc, 0) << out;
  absl::StatusOr<Json> answer = ParseJson(out);
  EXPECT_THAT(answer, IsOk()) << out;
  return answer.ok() ? *answer : Json();
}

RawJwt DrfPayload(absl::Time now) {
  RawJwt raw;
  raw.SetInt("user_id", 7)
      .SetString("username", "ada")
      .SetNumericDate("exp", now + absl::Seconds(300))
      .SetString("email", "ada@example.com")
      .SetNumericDate("orig_iat", now);
  return raw;
}

Json Request(absl::string_view op, Algorithm alg) {
  Json req = Json::Object();
  req.Set("op", Json::String(std::string(op)));
  req.Set("alg", Json::String(std::string(AlgorithmName(alg))));
  return req;
}

const std::string kSecret = "drf-jwt shared secret, 32+ bytes long!";

TEST(PyJwtInterop, JwtauthHs256TokenDecodesInPyJwtAsDrfJwtDoes) {
  Key key = *HmacKeyFromSecret(Algorithm::kHS256, kSecret);
  const std::string token =
      *JwtSigner::Create(key)->Sign(DrfPayload(absl::Now()));
  Json req = Request("decode", Algorithm::kHS256);
  req.Set("token", Json::String(token));
  req.Set("key_hex", Json::String(absl::BytesToHexString(kSecret)));
  Json answer = RunPyJwt(req);
  ASSERT_TRUE(answer.Find("ok") != nullptr && answer.Find("ok")->bool_value())
      << SerializeJson(answer);
  const Json& claims = *answer.Find("claims");
  EXPECT_EQ(claims.Find("user_id")->int_value(), 7);
  EXPECT_EQ(claims.Find("username")->string_value(), "ada");
  EXPECT_EQ(claims.Find("email")->string_value(), "ada@example.com");
}

TEST(PyJwtInterop, TamperedJwtauthTokenIsRefusedByPyJwt) {
  Key key = *HmacKeyFromSecret(Algorithm::kHS256, kSecret);
  std::string token = *JwtSigner::Create(key)->Sign(DrfPayload(absl::Now()));
  token[token.size() - 2] = token[token.size() - 2] == 'A' ? 'B' : 'A';
  Json req = Request("decode", Algorithm::kHS256);
  req.Set("token", Json::String(token));
  req.Set("key_hex", Json::String(absl::BytesToHexString(kSecret)));
  EXPECT_FALSE(RunPyJwt(req).Find("ok")->bool_value());
}

TEST(PyJwtInterop, PyJwtDrfTokenVerifiesInJwtauth) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  Json payload = Json::Object();
  payload.Set("user_id", Json::Int(7));
  payload.Set("username", Json::String("ada"));
  payload.Set("exp", Json::Int(now + 300));
  payload.Set("email", Json::String("ada@example.com"));
  payload.Set("orig_iat", Json::Int(now));
  Json req = Request("encode", Algorithm::kHS256);
  req.Set("payload", payload);
  req.Set("key_hex", Json::String(absl::BytesToHexString(kSecret)));
  Json answer = RunPyJwt(req);
  ASSERT_TRUE(answer.Find("ok")->bool_value()) << SerializeJson(answer);
  Verifier v = *Verifier::Create(
      *KeySet::Create({*HmacKeyFromSecret(Algorithm::kHS256, kSecret)}), {});
  absl::StatusOr<VerifiedJwt> jwt =
      v.Verify(answer.Find("token")->string_value());
  ASSERT_THAT(jwt, IsOk());
  EXPECT_EQ(jwt->claims(), payload);
  // The same token under another secret is refused.
  Verifier other = *Verifier::Create(
      *KeySet::Create(
          {*HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'x'))}),
      {});
  EXPECT_THAT(other.Verify(answer.Find("token")->string_value()),
              IsJwtError(JwtError::kBadSignature));
}

class AsymmetricInterop : public ::testing::TestWithParam<Algorithm> {};

TEST_P(AsymmetricInterop, TokensCrossVerifyBothWays) {
  const Algorithm alg = GetParam();
  Key priv = *GenerateKey(alg);
  // jwtauth signs, PyJWT verifies with the public PEM.
  Json req = Request("decode", alg);
  req.Set(
      "token",
      Json::String(*JwtSigner::Create(priv)->Sign(DrfPayload(absl::Now()))));
  req.Set("key_pem", Json::String(*PublicKeyPem(priv)));
  Json answer = RunPyJwt(req);
  EXPECT_TRUE(answer.Find("ok")->bool_value()) << SerializeJson(answer);
}

TEST_P(AsymmetricInterop, ExportedPublicJwkLoadsInPyJwkAndVerifiesTokens) {
  const Algorithm alg = GetParam();
  Key priv = *GenerateKey(alg, "kid-1");
  Json req = Request("decode", alg);
  req.Set(
      "token",
      Json::String(*JwtSigner::Create(priv)->Sign(DrfPayload(absl::Now()))));
  req.Set("jwk", *PublicJwk(priv));
  Json answer = RunPyJwt(req);
  EXPECT_TRUE(answer.Find("ok")->bool_value()) << SerializeJson(answer);
  // A token signed by another key is refused under the same JWK.
  Key other = *GenerateKey(alg, "kid-1");
  req.Set(
      "token",
      Json::String(*JwtSigner::Create(other)->Sign(DrfPayload(absl::Now()))));
  EXPECT_FALSE(RunPyJwt(req).Find("ok")->bool_value());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, AsymmetricInterop,
                         ::testing::Values(Algorithm::kRS256, Algorithm::kPS256,
                                           Algorithm::kES256, Algorithm::kES384,
                                           Algorithm::kES512,
                                           Algorithm::kEdDSA),
                         ::jwtauth::testing::AlgorithmParamName);

}  // namespace
}  // namespace jwtauth::jwt
