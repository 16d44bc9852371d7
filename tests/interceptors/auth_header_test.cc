// Tests for reading the token from `authorization` (SPEC §5).
#include "interceptors/auth_header.h"

#include <string>

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

// drf-jwt splits the header's bytes with Python's bytes.split(): exactly
// space, \t, \n, \v, \f and \r separate parts; every other byte (0x1c-0x1f,
// 0x85, 0xa0, ...) belongs to a part.
TEST(ParseAuthorization,
     EveryByteValue_SplitsExactlyWherePythonBytesSplitDoes) {
  for (int b = 0; b < 256; ++b) {
    const bool space = b == ' ' || (b >= 0x09 && b <= 0x0d);
    const char c = static_cast<char>(b);
    const std::string after_prefix = std::string("JWT") + c + "abc";
    const std::string in_token = std::string("JWT a") + c + "bc";
    ParsedHeader p = ParseAuthorization(after_prefix, "JWT");
    ParsedHeader q = ParseAuthorization(in_token, "JWT");
    if (space) {
      EXPECT_EQ(p.outcome, HeaderOutcome::kToken) << b;
      EXPECT_EQ(p.token, "abc") << b;
      EXPECT_EQ(q.outcome, HeaderOutcome::kTooManyParts) << b;
    } else {
      EXPECT_EQ(p.outcome, HeaderOutcome::kNotOurs) << b;
      EXPECT_EQ(q.outcome, HeaderOutcome::kToken) << b;
      EXPECT_EQ(q.token, in_token.substr(4)) << b;
    }
  }
}

// The part scan reads 8 bytes at a time: a separator (or a control byte that
// is not one) must be found at every offset within and across those words.
TEST(ParseAuthorization, EveryByteAtEveryOffsetOfALongToken_SplitsLikeBytes) {
  const std::string token(40, 'x');
  for (size_t at = 0; at < token.size(); ++at) {
    for (int b = 0; b <= 0x21; ++b) {
      std::string t = token;
      t[at] = static_cast<char>(b);
      const bool space = b == ' ' || (b >= 0x09 && b <= 0x0d);
      const std::string header = "JWT " + t;  // the token views into it
      ParsedHeader p = ParseAuthorization(header, "JWT");
      if (!space) {
        EXPECT_EQ(p.outcome, HeaderOutcome::kToken) << at << " " << b;
        EXPECT_EQ(p.token, t) << at << " " << b;
      } else if (at == 0 || at == t.size() - 1) {
        EXPECT_EQ(p.outcome, HeaderOutcome::kToken) << at << " " << b;
        EXPECT_EQ(p.token, at == 0 ? t.substr(1) : t.substr(0, at))
            << at << " " << b;
      } else {
        EXPECT_EQ(p.outcome, HeaderOutcome::kTooManyParts) << at << " " << b;
      }
    }
  }
}

TEST(ParseAuthorization, ConfiguredPrefixIsUsed) {
  EXPECT_EQ(ParseAuthorization("Bearer abc", "Bearer").outcome,
            HeaderOutcome::kToken);
  EXPECT_EQ(ParseAuthorization("JWT abc", "Bearer").outcome,
            HeaderOutcome::kNotOurs);
}

}  // namespace
}  // namespace jwtauth::interceptors
