// Tests for strict base64url: canonical input decodes, everything else fails.
#include "jwt/base64url.h"

#include <string>

#include "gtest/gtest.h"

namespace jwtauth::jwt {
namespace {

TEST(Base64Url, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 64; ++i) {
    std::string decoded;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(data), decoded)) << i;
    EXPECT_EQ(decoded, data);
    data.push_back(static_cast<char>(i * 37 + 250));
  }
}

TEST(Base64Url, KnownVectorDecodes) {
  std::string out;
  ASSERT_TRUE(Base64UrlDecode("eyJhbGciOiJIUzI1NiJ9", out));
  EXPECT_EQ(out, R"({"alg":"HS256"})");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, PaddingIsRejected) {
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("Zm8=", out));
  EXPECT_FALSE(Base64UrlDecode("Zg==", out));
}

TEST(Base64Url, StandardAlphabetIsRejected) {
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("-_8+", out));
  EXPECT_FALSE(Base64UrlDecode("ab/c", out));
}

TEST(Base64Url, WhitespaceIsRejected) {
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("Zm9v YmFy", out));
  EXPECT_FALSE(Base64UrlDecode("Zm9v\n", out));
}

TEST(Base64Url, NonZeroTrailingBitsAreRejected) {
  std::string out;
  EXPECT_TRUE(Base64UrlDecode("Zg", out));   // "f"
  EXPECT_FALSE(Base64UrlDecode("Zh", out));  // same byte, trailing bits set
  EXPECT_TRUE(Base64UrlDecode("Zm8", out));  // "fo"
  EXPECT_FALSE(Base64UrlDecode("Zm9", out));
}

TEST(Base64Url, LengthOneModFourIsRejected) {
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("Z", out));
  EXPECT_FALSE(Base64UrlDecode("Zm9vY", out));
}

TEST(Base64Url, NulAndHighBytesAreRejected) {
  std::string out;
  EXPECT_FALSE(Base64UrlDecode(std::string("Zm\0v", 4), out));
  EXPECT_FALSE(Base64UrlDecode("Zm\xc3\xa9v", out));
}

}  // namespace
}  // namespace jwtauth::jwt
