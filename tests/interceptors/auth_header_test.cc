// Tests for reading the token from `authorization` (SPEC §5).
#include "interceptors/auth_header.h"

#include "gtest/gtest.h"

namespace jwtauth::interceptors {
namespace {

TEST(ParseAuthorization, PrefixAndTokenGiveToken) {
  ParsedHeader p = ParseAuthorization("JWT abc.def.ghi", "JWT");
  EXPECT_EQ(p.outcome, HeaderOutcome::kToken);
  EXPECT_EQ(p.token, "abc.def.ghi");
}

TEST(ParseAuthorization, PrefixIsCaseInsensitiveAndWhitespaceTolerant) {
  for (const char* v : {"jwt abc", "Jwt abc", "JWT   abc", "JWT\tabc",
                        "  JWT abc  ", "jWt\t\tabc\n"}) {
    ParsedHeader p = ParseAuthorization(v, "JWT");
    EXPECT_EQ(p.outcome, HeaderOutcome::kToken) << v;
    EXPECT_EQ(p.token, "abc") << v;
  }
}

TEST(ParseAuthorization, OtherSchemeIsNotOurs) {
  EXPECT_EQ(ParseAuthorization("Basic dXNlcjpwdw==", "JWT").outcome,
            HeaderOutcome::kNotOurs);
  EXPECT_EQ(ParseAuthorization("Bearer abc", "JWT").outcome,
            HeaderOutcome::kNotOurs);
  EXPECT_EQ(ParseAuthorization("JWTabc", "JWT").outcome,
            HeaderOutcome::kNotOurs);
  EXPECT_EQ(ParseAuthorization("", "JWT").outcome, HeaderOutcome::kNotOurs);
  EXPECT_EQ(ParseAuthorization("   ", "JWT").outcome, HeaderOutcome::kNotOurs);
}

TEST(ParseAuthorization, PrefixAloneIsPrefixOnly) {
  EXPECT_EQ(ParseAuthorization("JWT", "JWT").outcome,
            HeaderOutcome::kPrefixOnly);
  EXPECT_EQ(ParseAuthorization("jwt   ", "JWT").outcome,
            HeaderOutcome::kPrefixOnly);
}

TEST(ParseAuthorization, MoreThanTwoPartsIsTooManyParts) {
  EXPECT_EQ(ParseAuthorization("JWT abc def", "JWT").outcome,
            HeaderOutcome::kTooManyParts);
  EXPECT_EQ(ParseAuthorization("JWT a b c d e", "JWT").outcome,
            HeaderOutcome::kTooManyParts);
}

TEST(ParseAuthorization, ConfiguredPrefixIsUsed) {
  EXPECT_EQ(ParseAuthorization("Bearer abc", "Bearer").outcome,
            HeaderOutcome::kToken);
  EXPECT_EQ(ParseAuthorization("JWT abc", "Bearer").outcome,
            HeaderOutcome::kNotOurs);
}

}  // namespace
}  // namespace jwtauth::interceptors
