// Tests of PasswordHasher: Django's own PBKDF2 outputs as golden values
// (sha256 and sha1), strict parsing of encoded hashes, salts and upgrades.
#include "server/password_hasher.h"

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::IsOk;

// Golden hashes made by Django 3.2.25's hashers (python3-django):
//   /usr/bin/python3 -c "
//   from django.conf import settings
//   settings.configure(PASSWORD_HASHERS=[
//       'django.contrib.auth.hashers.PBKDF2PasswordHasher',
//       'django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher'])
//   import django; django.setup()
//   from django.contrib.auth.hashers import (make_password,
//       PBKDF2PasswordHasher as H, PBKDF2SHA1PasswordHasher as S)
//   print(make_password('lètmein', 'seasalt', 'pbkdf2_sha256'))   #
//   kDjango32Sha256 print(make_password('lètmein', 'seasalt', 'pbkdf2_sha1'))
//   # kDjango32Sha1 print(H().encode('lètmein', 'seasalt', 1000)) #
//   kLetmein1000 print(S().encode('lètmein', 'seasalt', 1000)) # kLetmeinSha1
//   print(H().encode('wonderland', 'AbCdEfGhIjKlMnOpQrStUv', 1000))  #
//   kWonderland print(H().encode('', 'emptysalt', 1000))                      #
//   kEmpty print(H().encode('пароль密码🔑', 'unisalt', 1000))            #
//   kUnicode print(S().encode('wonderland', 'sha1salt', 1000))             #
//   kWonderlandSha1 print(H().encode('wonderland', 'AbCdEfGhIjKlMnOpQrStUv',
//   1))  # kOneIteration
//   "
// The first is also the value Django 3.2's own test suite asserts
// (tests/auth_tests/test_hashers.py, test_pbkdf2).
constexpr char kLetmein[] = "l\xC3\xA8tmein";  // "lètmein" in UTF-8
constexpr char kDjango32Sha256[] =
    "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=";
constexpr char kDjango32Sha1[] =
    "pbkdf2_sha1$260000$seasalt$XXHk2gQ7tjWIyrS320RXXsGqkUg=";
constexpr char kLetmein1000[] =
    "pbkdf2_sha256$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=";
constexpr char kLetmeinSha1[] =
    "pbkdf2_sha1$1000$seasalt$ljleU4wBmTtz/MoG5YTwxpM0d7I=";
constexpr char kWonderland[] =
    "pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$YZjyuEE+C+"
    "BcB61ULhZYUfaxK5pKZSIe2jKcUJ4yEoU=";
constexpr char kEmpty[] =
    "pbkdf2_sha256$1000$emptysalt$Th/GgYSDV3N4Zpkx3TpFlR/PPyCUSrZ7QQFwKxyd/oo=";
constexpr char kUnicodePassword[] = "пароль密码🔑";
constexpr char kUnicode[] =
    "pbkdf2_sha256$1000$unisalt$8aBFuZvNGIFZj45iwWn/il9voT6tBjkLz8Ddhi19Yu4=";
constexpr char kWonderlandSha1[] =
    "pbkdf2_sha1$1000$sha1salt$SvbhB36WVJeed8D0E2Euc5tpDo0=";
constexpr char kOneIteration[] =
    "pbkdf2_sha256$1$AbCdEfGhIjKlMnOpQrStUv$"
    "gM2pcZSHfteBKijxgn4mzwpBfpqOdBlGcN4ooLnN/vI=";

TEST(PasswordHasher, DjangoDefaultSha256HashAt260000IterationsMatches) {
  PasswordHasher hasher(1000);
  EXPECT_TRUE(hasher.Check(kLetmein, kDjango32Sha256));
}

TEST(PasswordHasher, DjangoSha1HashAt260000IterationsMatches) {
  PasswordHasher hasher(1000);
  EXPECT_TRUE(hasher.Check(kLetmein, kDjango32Sha1));
}

TEST(PasswordHasher, DjangoLowIterationHashesMatch) {
  PasswordHasher hasher(1000);
  EXPECT_TRUE(hasher.Check(kLetmein, kLetmein1000));
  EXPECT_TRUE(hasher.Check(kLetmein, kLetmeinSha1));
  EXPECT_TRUE(hasher.Check("wonderland", kWonderland));
  EXPECT_TRUE(hasher.Check("wonderland", kWonderlandSha1));
  EXPECT_TRUE(hasher.Check("wonderland", kOneIteration));
}

TEST(PasswordHasher, UnicodePasswordMatchesDjangoUtf8Hash) {
  EXPECT_TRUE(PasswordHasher(1000).Check(kUnicodePassword, kUnicode));
}

TEST(PasswordHasher, EmptyPasswordMatchesDjangoHashOfEmptyPassword) {
  PasswordHasher hasher(1000);
  EXPECT_TRUE(hasher.Check("", kEmpty));
  EXPECT_FALSE(hasher.Check(" ", kEmpty));
  EXPECT_FALSE(hasher.Check("", kWonderland));
}

TEST(PasswordHasher, WrongPasswordDoesNotMatch) {
  PasswordHasher hasher(1000);
  EXPECT_FALSE(hasher.Check("Wonderland", kWonderland));
  EXPECT_FALSE(hasher.Check("wonderland ", kWonderland));
  EXPECT_FALSE(hasher.Check("wonderlan", kWonderland));
  EXPECT_FALSE(hasher.Check("letmein", kLetmein1000));  // without the accent
  EXPECT_FALSE(hasher.Check("wonderland", kLetmein1000));
  EXPECT_FALSE(hasher.Check(kLetmein, kWonderlandSha1));
}

// Replace returns `encoded` with its `index`th $-separated part replaced.
std::string Replace(absl::string_view encoded, size_t index,
                    absl::string_view part) {
  std::vector<std::string> parts = absl::StrSplit(encoded, '$');
  parts.at(index) = std::string(part);
  return absl::StrJoin(parts, "$");
}

TEST(PasswordHasher, TamperedSaltDoesNotMatch) {
  PasswordHasher hasher(1000);
  EXPECT_FALSE(hasher.Check("wonderland",
                            Replace(kWonderland, 2, "AbCdEfGhIjKlMnOpQrStUw")));
  EXPECT_FALSE(hasher.Check("wonderland",
                            Replace(kWonderland, 2, "abCdEfGhIjKlMnOpQrStUv")));
}

TEST(PasswordHasher, TamperedIterationsDoNotMatch) {
  PasswordHasher hasher(1000);
  EXPECT_FALSE(hasher.Check("wonderland", Replace(kWonderland, 1, "1001")));
  EXPECT_FALSE(hasher.Check("wonderland", Replace(kWonderland, 1, "999")));
}

TEST(PasswordHasher, TamperedHashDoesNotMatch) {
  PasswordHasher hasher(1000);
  std::string hash = kWonderland;
  hash[hash.size() - 3] = hash[hash.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(hasher.Check("wonderland", hash));
  // Same bytes, but the last character's unused bits set: not canonical.
  EXPECT_FALSE(hasher.Check(
      "wonderland",
      Replace(kWonderland, 3, "YZjyuEE+C+BcB61ULhZYUfaxK5pKZSIe2jKcUJ4yEoV=")));
}

TEST(PasswordHasher, AlgorithmSwapDoesNotMatch) {
  PasswordHasher hasher(1000);
  // The sha1 hash relabelled as sha256 has the wrong length; the sha256 one
  // relabelled as sha1 too.
  EXPECT_FALSE(
      hasher.Check("wonderland", Replace(kWonderlandSha1, 0, "pbkdf2_sha256")));
  EXPECT_FALSE(
      hasher.Check("wonderland", Replace(kWonderland, 0, "pbkdf2_sha1")));
}

TEST(PasswordHasher, MalformedEncodingsNeverMatch) {
  PasswordHasher hasher(1000);
  const std::string good_hash = "YZjyuEE+C+BcB61ULhZYUfaxK5pKZSIe2jKcUJ4yEoU=";
  const std::vector<std::string> malformed = {
      "",
      "$",
      "$$$",
      "wonderland",
      "pbkdf2_sha256",
      "pbkdf2_sha256$1000",
      "pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv",
      "pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$",
      absl::StrCat("pbkdf2_sha256$abc$salt$", good_hash),
      absl::StrCat("pbkdf2_sha256$$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$1000$$", good_hash),
      absl::StrCat("pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$", good_hash,
                   "$"),
      absl::StrCat("pbkdf2_sha256$1000$AbCd$EfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("$pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$0$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$-1000$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$+1000$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$ 1000$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$1000 $AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$01000$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$1e3$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$0x3e8$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("pbkdf2_sha256$", kMaxPbkdf2Iterations + 1,
                   "$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat(
          "pbkdf2_sha256$99999999999999999999999$AbCdEfGhIjKlMnOpQrStUv$",
          good_hash),
      absl::StrCat("pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$",
                   good_hash.substr(0, 43)),
      absl::StrCat("pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$",
                   good_hash.substr(0, 43), "=="),
      absl::StrCat("pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$",
                   good_hash.substr(0, 42), "*="),
      absl::StrCat("pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$", " ",
                   good_hash.substr(1)),
      absl::StrCat("PBKDF2_SHA256$1000$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      absl::StrCat("!pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$", good_hash),
      "!unusable",
      "!",
      "!AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",  // Django's
                                                    // make_password(None)
      "md5$seasalt$f5531bef9f3687d0ccf0f617f0e25573",
      "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8",
      "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$"
      "TMa6A8fPJhCAUXRhJXCXdw",
      "bcrypt_sha256$$2b$12$LC30SNd7W8qSA7iLyUy1ueZu1aCvG.Yvc1ZTHzE7DIKkZ4hrMw/"
      "r6",
      "pbkdf2_sha512$1000$AbCdEfGhIjKlMnOpQrStUv$YZjyuEE+C+"
      "BcB61ULhZYUfaxK5pKZSIe2jKcUJ4yEoU=",
  };
  for (const std::string& encoded : malformed) {
    EXPECT_FALSE(hasher.Check("wonderland", encoded)) << encoded;
    EXPECT_FALSE(hasher.Check("", encoded)) << encoded;
  }
  // Sanity: the well-formed original does match.
  EXPECT_TRUE(hasher.Check(
      "wonderland",
      absl::StrCat("pbkdf2_sha256$1000$AbCdEfGhIjKlMnOpQrStUv$", good_hash)));
}

TEST(PasswordHasher, EmbeddedNulInEncodingNeverMatches) {
  PasswordHasher hasher(1000);
  std::string encoded = kWonderland;
  encoded.insert(encoded.find('$', 15) + 1, 1, '\0');  // inside the salt
  EXPECT_FALSE(hasher.Check("wonderland", encoded));
}

TEST(PasswordHasher, HashRoundTripsWithCheck) {
  PasswordHasher hasher(1000);
  absl::StatusOr<std::string> encoded = hasher.Hash("s3cret");
  ASSERT_THAT(encoded, IsOk());
  EXPECT_TRUE(hasher.Check("s3cret", *encoded));
  EXPECT_FALSE(hasher.Check("s3cret!", *encoded));
  EXPECT_FALSE(hasher.Check("", *encoded));
}

TEST(PasswordHasher, HashHasDjangoShapeWithConfiguredIterations) {
  PasswordHasher hasher(1234);
  absl::StatusOr<std::string> encoded = hasher.Hash(kUnicodePassword);
  ASSERT_THAT(encoded, IsOk());
  std::vector<std::string> parts = absl::StrSplit(*encoded, '$');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "pbkdf2_sha256");
  EXPECT_EQ(parts[1], "1234");
  EXPECT_EQ(parts[2].size(), 22u);
  for (char c : parts[2])
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << parts[2];
  EXPECT_EQ(parts[3].size(), 44u);
  EXPECT_EQ(parts[3].back(), '=');
  EXPECT_TRUE(hasher.Check(kUnicodePassword, *encoded));
}

TEST(PasswordHasher, EmptyPasswordHashRoundTrips) {
  PasswordHasher hasher(1000);
  absl::StatusOr<std::string> encoded = hasher.Hash("");
  ASSERT_THAT(encoded, IsOk());
  EXPECT_TRUE(hasher.Check("", *encoded));
  EXPECT_FALSE(hasher.Check("x", *encoded));
}

TEST(PasswordHasher, HashesOfSamePasswordHaveDistinctSalts) {
  PasswordHasher hasher(1);
  std::set<std::string> salts;
  std::set<char> seen_chars;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<std::string> encoded = hasher.Hash("same");
    ASSERT_THAT(encoded, IsOk());
    std::vector<std::string> parts = absl::StrSplit(*encoded, '$');
    ASSERT_EQ(parts.size(), 4u);
    salts.insert(parts[2]);
    seen_chars.insert(parts[2].begin(), parts[2].end());
  }
  EXPECT_EQ(salts.size(), 200u);
  // 4400 draws over 62 characters: every character shows up.
  EXPECT_EQ(seen_chars.size(), 62u);
}

TEST(PasswordHasher, HashWithInvalidIterationCountFails) {
  EXPECT_FALSE(PasswordHasher(0).Hash("x").ok());
  EXPECT_FALSE(PasswordHasher(-5).Hash("x").ok());
  EXPECT_FALSE(PasswordHasher(kMaxPbkdf2Iterations + 1).Hash("x").ok());
}

TEST(PasswordHasher, HashDummyRunsWithoutResult) {
  PasswordHasher(1000).HashDummy("anything");
  PasswordHasher(0).HashDummy("");  // clamped, no crash
}

TEST(PasswordHasher, DefaultIterationsAreDjango52s) {
  EXPECT_EQ(PasswordHasher().iterations(), 1'000'000);
}

TEST(PasswordHasher, FewerIterationsMustUpdate) {
  EXPECT_TRUE(PasswordHasher(260000).MustUpdate(kLetmein1000));
  EXPECT_TRUE(PasswordHasher(1'000'000).MustUpdate(kDjango32Sha256));
}

TEST(PasswordHasher, SameOrMoreIterationsNeedNoUpdate) {
  EXPECT_FALSE(PasswordHasher(1000).MustUpdate(kLetmein1000));
  EXPECT_FALSE(PasswordHasher(260000).MustUpdate(kDjango32Sha256));
  EXPECT_FALSE(PasswordHasher(1000).MustUpdate(kDjango32Sha256));
}

TEST(PasswordHasher, Sha1HashMustUpdate) {
  EXPECT_TRUE(PasswordHasher(1000).MustUpdate(kLetmeinSha1));
  EXPECT_TRUE(PasswordHasher(1000).MustUpdate(kDjango32Sha1));
}

TEST(PasswordHasher, MalformedHashMustUpdate) {
  EXPECT_TRUE(PasswordHasher(1000).MustUpdate(
      "md5$seasalt$f5531bef9f3687d0ccf0f617f0e25573"));
  EXPECT_TRUE(PasswordHasher(1000).MustUpdate("garbage"));
}

TEST(PasswordHasher, FreshHashNeedsNoUpdate) {
  PasswordHasher hasher(1000);
  absl::StatusOr<std::string> encoded = hasher.Hash("pw");
  ASSERT_THAT(encoded, IsOk());
  EXPECT_FALSE(hasher.MustUpdate(*encoded));
}

}  // namespace
}  // namespace jwtauth::server
