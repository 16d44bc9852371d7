// Tests for Verifier: one per rejection rule, the time boundaries with a
// fixed clock, key selection by kid, and option validation.
#include "jwt/verifier.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/base64url.h"
#include "jwt/key_loader.h"
#include "jwt/signer.h"
#include "tests/testing/test_util.h"

namespace jwtauth::jwt {
namespace {

using ::jwtauth::testing::FakeClock;
using ::jwtauth::testing::IsJwtError;
using ::jwtauth::testing::IsOk;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
const std::string kSecret = "an HS256 test secret of 32 bytes";

Key HsKey(absl::string_view kid = "") {
  return *HmacKeyFromSecret(Algorithm::kHS256, kSecret, kid);
}

// Compact signs arbitrary header and payload text with `key`.
std::string Compact(const Key& key, absl::string_view header,
                    absl::string_view payload) {
  std::string input =
      absl::StrCat(Base64UrlEncode(header), ".", Base64UrlEncode(payload));
  return absl::StrCat(input, ".", Base64UrlEncode(*key.Sign(input)));
}

// A drf-jwt style payload expiring `ttl` after kNow.
std::string DrfPayload(absl::Duration ttl = absl::Minutes(5),
                       absl::string_view extra = "") {
  return absl::StrCat(R"({"user_id":1,"username":"ada","exp":)",
                      absl::ToUnixSeconds(kNow + ttl),
                      R"(,"email":"ada@example.com")", extra, "}");
}

class VerifierTest : public ::testing::Test {
 protected:
  Verifier Make(ValidatorOptions options = {},
                std::vector<Key> keys = {HsKey()}) {
    absl::StatusOr<Verifier> v = Verifier::Create(
        *KeySet::Create(std::move(keys)), std::move(options), clock_.AsClock());
    EXPECT_THAT(v, IsOk());
    return *std::move(v);
  }
  std::string Token(absl::string_view payload, const Key& key = HsKey()) {
    return Compact(key, R"({"alg":"HS256","typ":"JWT"})", payload);
  }
  FakeClock clock_{kNow};
};

TEST_F(VerifierTest, DrfTokenVerifiesWithItsClaims) {
  const std::string token = Token(DrfPayload());
  absl::StatusOr<VerifiedJwt> jwt = Make().Verify(token);
  ASSERT_THAT(jwt, IsOk());
  EXPECT_EQ(jwt->GetInt("user_id"), 1);
  EXPECT_EQ(jwt->GetString("username"), "ada");
  EXPECT_EQ(jwt->expiration(), kNow + absl::Minutes(5));
  EXPECT_EQ(jwt->token(), token);
  EXPECT_TRUE(jwt->signature_verified());
  EXPECT_EQ(jwt->header().Find("alg")->string_value(), "HS256");
}

// Time boundaries ------------------------------------------------------------

TEST_F(VerifierTest, TokenWithExpEqualToNowIsExpired) {
  EXPECT_THAT(Make().Verify(Token(DrfPayload(absl::ZeroDuration()))),
              IsJwtError(JwtError::kExpired));
}

TEST_F(VerifierTest, TokenWithExpOneSecondAheadIsValid) {
  EXPECT_THAT(Make().Verify(Token(DrfPayload(absl::Seconds(1)))), IsOk());
}

TEST_F(VerifierTest, ClockAdvancingPastExpExpiresToken) {
  Verifier v = Make();
  const std::string token = Token(DrfPayload(absl::Seconds(10)));
  EXPECT_THAT(v.Verify(token), IsOk());
  clock_.Advance(absl::Seconds(9));
  EXPECT_THAT(v.Verify(token), IsOk());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(v.Verify(token), IsJwtError(JwtError::kExpired));
}

TEST_F(VerifierTest, LeewayExtendsExpUpToButExcludingExpPlusLeeway) {
  ValidatorOptions o;
  o.leeway = absl::Seconds(30);
  Verifier v = Make(o);
  const std::string token = Token(DrfPayload(absl::ZeroDuration()));
  EXPECT_THAT(v.VerifyAt(token, kNow + absl::Seconds(29)), IsOk());
  EXPECT_THAT(v.VerifyAt(token, kNow + absl::Seconds(30)),
              IsJwtError(JwtError::kExpired));
}

TEST_F(VerifierTest, FractionalExpIsCompared) {
  const std::string token =
      Token(absl::StrCat(R"({"exp":)", absl::ToUnixSeconds(kNow), ".5}"));
  EXPECT_THAT(Make().VerifyAt(token, kNow), IsOk());
  EXPECT_THAT(Make().VerifyAt(token, kNow + absl::Milliseconds(500)),
              IsJwtError(JwtError::kExpired));
}

TEST_F(VerifierTest, HugeExpDoesNotOverflow) {
  EXPECT_THAT(Make().Verify(Token(R"({"exp":1e300})")), IsOk());
  EXPECT_THAT(Make().Verify(Token(R"({"exp":-1e300})")),
              IsJwtError(JwtError::kExpired));
  EXPECT_THAT(Make().Verify(Token(R"({"exp":9223372036854775807})")), IsOk());
}

TEST_F(VerifierTest, TokenWithNotBeforeEqualToNowIsValid) {
  const std::string token = Token(DrfPayload(
      absl::Minutes(5), absl::StrCat(R"(,"nbf":)", absl::ToUnixSeconds(kNow))));
  EXPECT_THAT(Make().Verify(token), IsOk());
}

TEST_F(VerifierTest, TokenWithNotBeforeInFutureIsNotYetValid) {
  const std::string token = Token(
      DrfPayload(absl::Minutes(5),
                 absl::StrCat(R"(,"nbf":)", absl::ToUnixSeconds(kNow) + 1)));
  EXPECT_THAT(Make().Verify(token), IsJwtError(JwtError::kNotYetValid));
  ValidatorOptions o;
  o.leeway = absl::Seconds(1);
  EXPECT_THAT(Make(o).Verify(token), IsOk());
}

TEST_F(VerifierTest, MissingExpIsRefusedUnlessAllowed) {
  EXPECT_THAT(Make().Verify(Token(R"({"user_id":1})")),
              IsJwtError(JwtError::kMissingClaim));
  ValidatorOptions o;
  o.allow_missing_expiration = true;
  EXPECT_THAT(Make(o).Verify(Token(R"({"user_id":1})")), IsOk());
}

TEST_F(VerifierTest, VerifyExpirationOffAcceptsExpiredToken) {
  ValidatorOptions o;
  o.verify_expiration = false;
  EXPECT_THAT(Make(o).Verify(Token(DrfPayload(-absl::Hours(1)))), IsOk());
}

class NonNumericTimeClaim : public VerifierTest,
                            public ::testing::WithParamInterface<const char*> {
};

TEST_P(NonNumericTimeClaim, IsInvalidClaim) {
  ValidatorOptions o;
  o.verify_expiration = false;
  EXPECT_THAT(Make(o).Verify(Token(GetParam())),
              IsJwtError(JwtError::kInvalidClaim));
}

INSTANTIATE_TEST_SUITE_P(Claims, NonNumericTimeClaim,
                         ::testing::Values(R"({"exp":"1800000000"})",
                                           R"({"nbf":null})", R"({"iat":true})",
                                           R"({"exp":[1]})", R"({"iss":5})",
                                           R"({"aud":[1]})", R"({"aud":{}})"));

TEST_F(VerifierTest, NumberOverflowingToInfinityIsMalformed) {
  EXPECT_THAT(Make().Verify(Token(R"({"exp":1e400})")),
              IsJwtError(JwtError::kMalformed));
}

// Audience, issuer, required claims, lifetime
// -----------------------------------

TEST_F(VerifierTest, AudienceMustMatchWhenConfigured) {
  ValidatorOptions o;
  o.audience = "svc";
  Verifier v = Make(o);
  EXPECT_THAT(v.Verify(Token(DrfPayload(absl::Minutes(5), R"(,"aud":"svc")"))),
              IsOk());
  EXPECT_THAT(
      v.Verify(Token(DrfPayload(absl::Minutes(5), R"(,"aud":["x","svc"])"))),
      IsOk());
  EXPECT_THAT(
      v.Verify(Token(DrfPayload(absl::Minutes(5), R"(,"aud":"other")"))),
      IsJwtError(JwtError::kWrongAudience));
  EXPECT_THAT(v.Verify(Token(DrfPayload(absl::Minutes(5), R"(,"aud":[])"))),
              IsJwtError(JwtError::kWrongAudience));
  EXPECT_THAT(v.Verify(Token(DrfPayload())),
              IsJwtError(JwtError::kWrongAudience));
}

TEST_F(VerifierTest, AudienceInTokenWithoutConfiguredAudienceIsRefused) {
  EXPECT_THAT(
      Make().Verify(Token(DrfPayload(absl::Minutes(5), R"(,"aud":"svc")"))),
      IsJwtError(JwtError::kWrongAudience));
}

TEST_F(VerifierTest, IssuerMustMatchWhenConfigured) {
  ValidatorOptions o;
  o.issuer = "jwtauth";
  Verifier v = Make(o);
  EXPECT_THAT(
      v.Verify(Token(DrfPayload(absl::Minutes(5), R"(,"iss":"jwtauth")"))),
      IsOk());
  EXPECT_THAT(v.Verify(Token(DrfPayload(absl::Minutes(5), R"(,"iss":"evil")"))),
              IsJwtError(JwtError::kWrongIssuer));
  EXPECT_THAT(v.Verify(Token(DrfPayload())),
              IsJwtError(JwtError::kWrongIssuer));
}

TEST_F(VerifierTest, RequiredClaimAbsentIsMissingClaim) {
  ValidatorOptions o;
  o.required_claims = {"scope"};
  Verifier v = Make(o);
  EXPECT_THAT(v.Verify(Token(DrfPayload())),
              IsJwtError(JwtError::kMissingClaim));
  EXPECT_THAT(
      v.Verify(Token(DrfPayload(absl::Minutes(5), R"(,"scope":"read")"))),
      IsOk());
}

TEST_F(VerifierTest, LifetimeOverMaximumIsRefused) {
  ValidatorOptions o;
  o.max_lifetime = absl::Hours(1);
  Verifier v = Make(o);
  const int64_t now = absl::ToUnixSeconds(kNow);
  EXPECT_THAT(v.Verify(Token(absl::StrCat(R"({"iat":)", now, R"(,"exp":)",
                                          now + 3600, "}"))),
              IsOk());
  EXPECT_THAT(v.Verify(Token(absl::StrCat(R"({"iat":)", now, R"(,"exp":)",
                                          now + 3601, "}"))),
              IsJwtError(JwtError::kLifetimeTooLong));
  EXPECT_THAT(v.Verify(Token(absl::StrCat(R"({"exp":)", now + 7200, "}"))),
              IsJwtError(JwtError::kLifetimeTooLong));
}

// Structure and encoding
// --------------------------------------------------------

TEST_F(VerifierTest, NotThreeNonEmptySegmentsIsMalformed) {
  const std::string good = Token(DrfPayload());
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  Verifier v = Make();
  for (const std::string& bad :
       {good.substr(0, dot2), absl::StrCat(good, ".", good.substr(dot2 + 1)),
        absl::StrCat(good.substr(0, dot1), "..", good.substr(dot2 + 1)),
        absl::StrCat(".", good.substr(dot1 + 1)), good.substr(0, dot2 + 1),
        std::string(".."), std::string(""), std::string(5000, '.')}) {
    EXPECT_THAT(v.Verify(bad), IsJwtError(JwtError::kMalformed)) << bad;
  }
}

TEST_F(VerifierTest, NonCanonicalBase64InAnySegmentIsMalformed) {
  const std::string good = Token(DrfPayload());
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  Verifier v = Make();
  const std::string h = good.substr(0, dot1);
  const std::string p = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string s = good.substr(dot2 + 1);
  for (const std::string& bad : {
           absl::StrCat(h, "=.", p, ".", s),      // padding in header
           absl::StrCat(h, ".", p, "=.", s),      // padding in payload
           absl::StrCat(h, ".", p, ".", s, "="),  // padding in signature
           absl::StrCat(h, ".", absl::StrReplaceAll(p, {{"e", "+"}}), ".",
                        s),  // '+'
           absl::StrCat(h, ".", p, ".",
                        absl::StrReplaceAll(s, {{"_", "/"}, {"-", "/"}}), "/A"),
           absl::StrCat(h, " .", p, ".", s),  // whitespace
           absl::StrCat(h, ".", p, "\n.", s),
       }) {
    EXPECT_THAT(v.Verify(bad), IsJwtError(JwtError::kMalformed)) << bad;
  }
}

TEST_F(VerifierTest, NonZeroTrailingBitsInSignatureIsMalformed) {
  // A 32-byte HMAC tag is 43 base64url characters: the last one carries two
  // padding bits, which must be zero.
  const std::string good = Token(DrfPayload());
  std::string bad = good;
  char& last = bad.back();
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  last = alphabet[alphabet.find(last) | 1];
  ASSERT_NE(bad, good);
  EXPECT_THAT(Make().Verify(bad), IsJwtError(JwtError::kMalformed));
}

TEST_F(VerifierTest, TokenOverSizeLimitIsTooLargeBeforeDecoding) {
  ValidatorOptions o;
  o.max_token_size = 300;
  Verifier v = Make(o);
  const std::string big = Token(
      DrfPayload(absl::Minutes(5),
                 absl::StrCat(R"(,"pad":")", std::string(300, 'x'), "\"")));
  EXPECT_THAT(v.Verify(big), IsJwtError(JwtError::kTooLarge));
  EXPECT_THAT(Make().Verify(std::string(8193, 'a')),
              IsJwtError(JwtError::kTooLarge));
}

TEST_F(VerifierTest, SignedPayloadThatIsNotAJsonObjectIsMalformed) {
  Verifier v = Make();
  for (const char* payload :
       {"foo", "[1,2]", "\"str\"", "42", R"({"a":1,"a":2})",
        R"({"a":"\ud800"})", "{\"a\":\"\xff\"}"}) {
    EXPECT_THAT(v.Verify(Token(payload)), IsJwtError(JwtError::kMalformed))
        << payload;
  }
}

TEST_F(VerifierTest, DeeplyNestedClaimsAreMalformed) {
  std::string deep = R"({"exp":1800000000,"x":)" + std::string(40, '[') +
                     std::string(40, ']') + "}";
  EXPECT_THAT(Make().Verify(Token(deep)), IsJwtError(JwtError::kMalformed));
}

TEST_F(VerifierTest, SignedHeaderThatIsNotAJsonObjectIsMalformed) {
  Verifier v = Make();
  for (const char* header :
       {"[]", "\"HS256\"", "{", R"({"alg":"HS256","alg":"HS256"})"}) {
    EXPECT_THAT(v.Verify(Compact(HsKey(), header, DrfPayload())),
                IsJwtError(JwtError::kMalformed))
        << header;
  }
}

// Signatures ------------------------------------------------------------------

TEST_F(VerifierTest, TamperedPayloadIsBadSignature) {
  const std::string good = Token(DrfPayload());
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  const std::string forged =
      absl::StrCat(good.substr(0, dot1), ".",
                   Base64UrlEncode(absl::StrReplaceAll(
                       DrfPayload(), {{R"("user_id":1)", R"("user_id":2)"}})),
                   good.substr(dot2));
  EXPECT_THAT(Make().Verify(forged), IsJwtError(JwtError::kBadSignature));
}

TEST_F(VerifierTest, OtherSecretIsBadSignature) {
  Key other = *HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'z'));
  EXPECT_THAT(Make().Verify(Token(DrfPayload(), other)),
              IsJwtError(JwtError::kBadSignature));
}

TEST_F(VerifierTest, TruncatedOrExtendedHmacTagIsBadSignature) {
  const std::string good = Token(DrfPayload());
  const size_t dot2 = good.rfind('.');
  std::string tag;
  ASSERT_TRUE(Base64UrlDecode(good.substr(dot2 + 1), tag));
  Verifier v = Make();
  for (const std::string& t :
       {tag.substr(0, 16), tag.substr(0, 31), tag + "x", tag + tag}) {
    EXPECT_THAT(
        v.Verify(absl::StrCat(good.substr(0, dot2 + 1), Base64UrlEncode(t))),
        IsJwtError(JwtError::kBadSignature));
  }
}

// Header rules
// ------------------------------------------------------------------

class AlgHeader : public VerifierTest,
                  public ::testing::WithParamInterface<const char*> {};

TEST_P(AlgHeader, IsAlgorithmNotAllowed) {
  // Signed with the right key, so only the header rule can refuse it.
  EXPECT_THAT(Make().Verify(Compact(HsKey(), GetParam(), DrfPayload())),
              IsJwtError(JwtError::kAlgorithmNotAllowed))
      << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    Rules, AlgHeader,
    ::testing::Values(R"({"typ":"JWT"})", R"({"alg":null})", R"({"alg":256})",
                      R"({"alg":["HS256"]})", R"({"alg":"none"})",
                      R"({"alg":"None"})", R"({"alg":"NONE"})",
                      R"({"alg":"nOnE"})", R"({"alg":"HS384"})",
                      R"({"alg":"RS256"})", R"({"alg":"hs256"})",
                      R"({"alg":"HS256 "})"));

TEST_F(VerifierTest, AlgNoneWithEmptySignatureIsRefused) {
  const std::string token =
      absl::StrCat(Base64UrlEncode(R"({"alg":"none"})"), ".",
                   Base64UrlEncode(DrfPayload()), ".");
  EXPECT_THAT(Make().Verify(token), IsJwtError(JwtError::kMalformed));
  const std::string with_sig = token + "AAAA";
  EXPECT_THAT(Make().Verify(with_sig),
              IsJwtError(JwtError::kAlgorithmNotAllowed));
}

TEST_F(VerifierTest, CritHeaderIsUnsupported) {
  for (const char* header :
       {R"({"alg":"HS256","crit":["exp"],"exp":1})",
        R"({"alg":"HS256","crit":[]})", R"({"alg":"HS256","crit":"b64"})"}) {
    EXPECT_THAT(Make().Verify(Compact(HsKey(), header, DrfPayload())),
                IsJwtError(JwtError::kUnsupportedHeader));
  }
}

TEST_F(VerifierTest, B64HeaderIsUnsupported) {
  for (const char* header : {R"({"alg":"HS256","b64":false,"crit":["b64"]})",
                             R"({"alg":"HS256","b64":true})"}) {
    EXPECT_THAT(Make().Verify(Compact(HsKey(), header, DrfPayload())),
                IsJwtError(JwtError::kUnsupportedHeader));
  }
}

TEST_F(VerifierTest, NonStringKidIsMalformed) {
  EXPECT_THAT(Make().Verify(
                  Compact(HsKey(), R"({"alg":"HS256","kid":7})", DrfPayload())),
              IsJwtError(JwtError::kMalformed));
}

TEST_F(VerifierTest, EmbeddedJwkOfAttackerIsIgnored) {
  // An attacker signs with its own key and embeds that key's JWK: refused.
  Key attacker = *GenerateKey(Algorithm::kHS256);
  const std::string header = absl::StrCat(
      R"({"alg":"HS256","jwk":{"kty":"oct","k":")",
      Base64UrlEncode(std::string(64, 'a')),
      R"("},"jku":"https://evil.example/jwks","x5u":"https://evil.example/x"})");
  EXPECT_THAT(Make().Verify(Compact(attacker, header, DrfPayload())),
              IsJwtError(JwtError::kBadSignature));
  // The same headers on a genuinely signed token change nothing.
  EXPECT_THAT(Make().Verify(Compact(HsKey(), header, DrfPayload())), IsOk());
}

TEST_F(VerifierTest, RsaPublicKeyUsedAsHmacSecretIsRefused) {
  // Algorithm confusion (CVE-2015-9235 class): the attacker HMACs with the
  // server's public key PEM and claims HS256.
  Key rsa = *GenerateKey(Algorithm::kRS256);
  const std::string pem = *PublicKeyPem(rsa);
  Key fake = *HmacKeyFromSecret(Algorithm::kHS256, pem);
  absl::StatusOr<Verifier> v = Verifier::Create(
      *KeySet::Create({*PublicKeyOf(rsa)}), {}, clock_.AsClock());
  ASSERT_THAT(v, IsOk());
  EXPECT_THAT(v->Verify(Compact(fake, R"({"alg":"HS256"})", DrfPayload())),
              IsJwtError(JwtError::kAlgorithmNotAllowed));
}

// Asymmetric signatures
// -----------------------------------------------------------

class AsymmetricVerify : public VerifierTest,
                         public ::testing::WithParamInterface<Algorithm> {};

TEST_P(AsymmetricVerify, RoundTripWithPublicKeyAndTamperedSignatureFails) {
  Key priv = *GenerateKey(GetParam(), "k1");
  Key pub = *PublicKeyOf(priv);
  JwtSigner signer = *JwtSigner::Create(priv);
  RawJwt raw;
  raw.SetInt("user_id", 1)
      .SetString("username", "ada")
      .SetNumericDate("exp", kNow + absl::Minutes(5));
  const std::string token = *signer.Sign(raw);
  Verifier v = Make({}, {pub});
  ASSERT_THAT(v.Verify(token), IsOk());
  const size_t dot2 = token.rfind('.');
  std::string sig;
  ASSERT_TRUE(Base64UrlDecode(token.substr(dot2 + 1), sig));
  const std::string prefix = token.substr(0, dot2 + 1);
  std::string flipped = sig;
  flipped[sig.size() / 2] = static_cast<char>(flipped[sig.size() / 2] ^ 1);
  EXPECT_THAT(v.Verify(prefix + Base64UrlEncode(flipped)),
              IsJwtError(JwtError::kBadSignature));
  EXPECT_THAT(v.Verify(prefix + Base64UrlEncode(sig.substr(1))),
              IsJwtError(JwtError::kBadSignature));
  EXPECT_THAT(v.Verify(prefix + Base64UrlEncode(sig + '\0')),
              IsJwtError(JwtError::kBadSignature));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, AsymmetricVerify,
                         ::testing::Values(Algorithm::kRS256, Algorithm::kPS256,
                                           Algorithm::kES256, Algorithm::kES384,
                                           Algorithm::kES512,
                                           Algorithm::kEdDSA),
                         ::jwtauth::testing::AlgorithmParamName);

TEST_F(VerifierTest, EcdsaSignatureWithZeroOrOutOfRangeScalarIsBadSignature) {
  Key priv = *GenerateKey(Algorithm::kES256);
  Verifier v = Make({}, {*PublicKeyOf(priv)});
  const std::string input = absl::StrCat(Base64UrlEncode(R"({"alg":"ES256"})"),
                                         ".", Base64UrlEncode(DrfPayload()));
  std::string sig = *priv.Sign(input);
  const std::string r = sig.substr(0, 32), s = sig.substr(32);
  const std::string zero(32, '\0');
  // n of P-256: r = n (out of range) and r = 0 must both fail.
  const std::string n = ::jwtauth::testing::HexDecode(
      "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  for (const std::string& bad : {zero + s, r + zero, zero + zero, n + s, r + n,
                                 std::string(64, '\xff')}) {
    EXPECT_THAT(v.Verify(absl::StrCat(input, ".", Base64UrlEncode(bad))),
                IsJwtError(JwtError::kBadSignature));
  }
  EXPECT_THAT(v.Verify(absl::StrCat(input, ".", Base64UrlEncode(sig))), IsOk());
}

TEST_F(VerifierTest, EcdsaDerSignatureIsBadSignature) {
  // A DER-encoded ECDSA signature (what OpenSSL produces natively) is not the
  // JOSE form and must not verify.
  Key priv = *GenerateKey(Algorithm::kES256);
  Verifier v = Make({}, {*PublicKeyOf(priv)});
  const std::string input = absl::StrCat(Base64UrlEncode(R"({"alg":"ES256"})"),
                                         ".", Base64UrlEncode(DrfPayload()));
  std::string raw = *priv.Sign(input);
  std::string der =
      "\x30\x44\x02\x20" + raw.substr(0, 32) + "\x02\x20" + raw.substr(32);
  EXPECT_THAT(v.Verify(absl::StrCat(input, ".", Base64UrlEncode(der))),
              IsJwtError(JwtError::kBadSignature));
}

// Key selection
// ----------------------------------------------------------------------

TEST_F(VerifierTest, KidSelectsKeyFromSet) {
  Key a = *HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'a'), "a");
  Key b = *HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'b'), "b");
  Verifier v = Make({}, {a, b});
  absl::StatusOr<VerifiedJwt> jwt = v.Verify(*JwtSigner::Create(b)->Sign(
      RawJwt().SetNumericDate("exp", kNow + absl::Minutes(1))));
  ASSERT_THAT(jwt, IsOk());
  EXPECT_EQ(jwt->key_id(), "b");
  // kid "a" but signed with b: only key a is tried.
  EXPECT_THAT(
      v.Verify(Compact(b, R"({"alg":"HS256","kid":"a"})", DrfPayload())),
      IsJwtError(JwtError::kBadSignature));
  EXPECT_THAT(
      v.Verify(Compact(b, R"({"alg":"HS256","kid":"c"})", DrfPayload())),
      IsJwtError(JwtError::kKeyNotFound));
  // No kid: every key of the algorithm is tried.
  EXPECT_THAT(v.Verify(Compact(b, R"({"alg":"HS256"})", DrfPayload())), IsOk());
}

TEST_F(VerifierTest, KidNamingKeyOfOtherAlgorithmIsAlgorithmNotAllowed) {
  Key hs = *HmacKeyFromSecret(Algorithm::kHS256, kSecret, "hs");
  Key es = *GenerateKey(Algorithm::kES256, "es");
  Key hs2 = *HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'q'), "hs2");
  Verifier v = Make({}, {hs, hs2});
  EXPECT_THAT(
      v.Verify(Compact(hs, R"({"alg":"ES256","kid":"hs"})", DrfPayload())),
      IsJwtError(JwtError::kAlgorithmNotAllowed));
  EXPECT_THAT(v.Verify(Compact(hs, R"({"alg":"ES256"})", DrfPayload())),
              IsJwtError(JwtError::kAlgorithmNotAllowed));
}

TEST_F(VerifierTest, SingleKeyWithOtherKidIsKeyNotFound) {
  Verifier v = Make({}, {HsKey("current")});
  EXPECT_THAT(v.Verify(Compact(HsKey(), R"({"alg":"HS256","kid":"old"})",
                               DrfPayload())),
              IsJwtError(JwtError::kKeyNotFound));
  EXPECT_THAT(v.Verify(Compact(HsKey(), R"({"alg":"HS256","kid":"current"})",
                               DrfPayload())),
              IsOk());
}

// Signature verification off
// ---------------------------------------------------------------

TEST_F(VerifierTest, VerifySignatureOffStillChecksStructureAndClaims) {
  ValidatorOptions o;
  o.verify_signature = false;
  Verifier v = Make(o);
  Key other = *HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'z'));
  absl::StatusOr<VerifiedJwt> jwt = v.Verify(Token(DrfPayload(), other));
  ASSERT_THAT(jwt, IsOk());
  EXPECT_FALSE(jwt->signature_verified());
  EXPECT_THAT(v.Verify(Token(DrfPayload(-absl::Minutes(1)), other)),
              IsJwtError(JwtError::kExpired));
  EXPECT_THAT(v.Verify(Compact(other, R"({"alg":"none"})", DrfPayload())),
              IsJwtError(JwtError::kAlgorithmNotAllowed));
}

// Options
// ---------------------------------------------------------------------------------

TEST(VerifierOptions, ContradictoryOrOutOfRangeOptionsAreRefused) {
  auto create = [](ValidatorOptions o) {
    return Verifier::Create(*KeySet::Create({HsKey()}), std::move(o));
  };
  ValidatorOptions o;
  o.leeway = -absl::Seconds(1);
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  o = {};
  o.leeway = kMaxLeeway + absl::Seconds(1);
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  o = {};
  o.max_token_size = 0;
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  o = {};
  o.max_lifetime = absl::Hours(1);
  o.verify_expiration = false;
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  o = {};
  o.max_lifetime = absl::ZeroDuration();
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  o = {};
  o.audience = "";
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  o = {};
  o.issuer = "";
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  o = {};
  o.required_claims = {""};
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  o = {};
  o.verify_expiration = false;
  o.allow_missing_expiration = true;
  EXPECT_THAT(create(o), IsJwtError(JwtError::kInvalidOption));
  EXPECT_THAT(create({}), IsOk());
}

}  // namespace
}  // namespace jwtauth::jwt
