// Tests for JwtSigner: header form, claim order, claim type checks.
#include "jwt/signer.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/base64url.h"
#include "jwt/key_loader.h"
#include "tests/testing/test_util.h"

namespace jwtauth::jwt {
namespace {

using ::jwtauth::testing::IsJwtError;
using ::jwtauth::testing::IsOk;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

std::string Segment(const std::string& token, int index) {
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.rfind('.');
  std::string enc = index == 0   ? token.substr(0, dot1)
                    : index == 1 ? token.substr(dot1 + 1, dot2 - dot1 - 1)
                                 : token.substr(dot2 + 1);
  std::string out;
  EXPECT_TRUE(Base64UrlDecode(enc, out));
  return out;
}

TEST(JwtSigner, WritesDrfPayloadInOrderWithCanonicalHeader) {
  Key key = *HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 's'));
  RawJwt raw;
  raw.SetInt("user_id", 1)
      .SetString("username", "ada")
      .SetNumericDate("exp", kNow + absl::Seconds(300))
      .SetString("email", "ada@example.com")
      .SetNumericDate("orig_iat", kNow);
  absl::StatusOr<std::string> token = JwtSigner::Create(key)->Sign(raw);
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(Segment(*token, 0), R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(
      Segment(*token, 1),
      R"({"user_id":1,"username":"ada","exp":1700000300,"email":"ada@example.com",)"
      R"("orig_iat":1700000000})");
  EXPECT_EQ(Segment(*token, 2).size(), 32u);
}

TEST(JwtSigner, KidGoesIntoHeader) {
  Key key = *GenerateKey(Algorithm::kES256, "2026-11");
  absl::StatusOr<std::string> token = JwtSigner::Create(key)->Sign(RawJwt());
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(Segment(*token, 0),
            R"({"alg":"ES256","typ":"JWT","kid":"2026-11"})");
  EXPECT_EQ(Segment(*token, 2).size(), 64u);
}

TEST(JwtSigner, PublicKeyCannotCreateSigner) {
  Key pub = *PublicKeyOf(*GenerateKey(Algorithm::kEdDSA));
  EXPECT_THAT(JwtSigner::Create(pub), IsJwtError(JwtError::kInvalidKey));
}

TEST(JwtSigner, RegisteredClaimsOfWrongTypeAreRefused) {
  JwtSigner signer = *JwtSigner::Create(*GenerateKey(Algorithm::kHS256));
  EXPECT_THAT(signer.Sign(RawJwt().SetString("exp", "soon")),
              IsJwtError(JwtError::kInvalidClaim));
  EXPECT_THAT(signer.Sign(RawJwt().SetInt("sub", 5)),
              IsJwtError(JwtError::kInvalidClaim));
  EXPECT_THAT(signer.Sign(RawJwt().SetInt("aud", 5)),
              IsJwtError(JwtError::kInvalidClaim));
  Json aud = Json::Array();
  aud.Append(Json::String("a"));
  EXPECT_THAT(signer.Sign(RawJwt().Set("aud", aud)), IsOk());
}

TEST(JwtSigner, SettingAClaimTwiceKeepsOneMember) {
  JwtSigner signer = *JwtSigner::Create(*GenerateKey(Algorithm::kHS256));
  absl::StatusOr<std::string> token =
      signer.Sign(RawJwt().SetInt("a", 1).SetInt("a", 2));
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(Segment(*token, 1), R"({"a":2})");
}

}  // namespace
}  // namespace jwtauth::jwt
