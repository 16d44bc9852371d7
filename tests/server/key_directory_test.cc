// Tests for the key directory: generate, rotate, retire and load with an
// injected clock; refusals of corrupt manifests, exposed or mismatched key
// files; and concurrent rotations.
#include "server/key_directory.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/signer.h"
#include "jwt/verifier.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::IsOk;
using ::jwtauth::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string KeyFile(const KeyDirectory& dir, const KeyEntry& e) {
  return absl::StrCat(
      dir.path(), "/", e.kid,
      jwt::FamilyOf(e.algorithm) == jwt::KeyFamily::kHmac ? ".secret" : ".pem");
}

// SignWith signs a token valid for 5 minutes from `now` with `keys`'s current
// key.
std::string SignWith(const jwt::KeySet& keys, absl::Time now) {
  jwt::RawJwt raw;
  raw.SetString("username", "ada")
      .SetNumericDate("exp", now + absl::Minutes(5));
  return *(*jwt::JwtSigner::Create(keys.current())).Sign(raw);
}

absl::StatusOr<jwt::VerifiedJwt> VerifyWith(const jwt::KeySet& keys,
                                            const std::string& token,
                                            absl::Time now) {
  return jwt::Verifier::Create(keys, {})->VerifyAt(token, now);
}

class KeyDirectoryTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  KeyDirectory dir_{tmp_.File("data/keys")};
};

class GeneratedKeyDirectory : public ::testing::TestWithParam<jwt::Algorithm> {
};

TEST_P(GeneratedKeyDirectory, GeneratedKeyIsPrivateAndLoadsAndSigns) {
  TempDir tmp;
  KeyDirectory dir(tmp.File("data/keys"));
  absl::StatusOr<KeyEntry> entry = dir.Generate(GetParam(), kT0);
  ASSERT_THAT(entry, IsOk());
  EXPECT_EQ(entry->state, KeyState::kActive);
  EXPECT_EQ(entry->algorithm, GetParam());
  EXPECT_EQ(entry->created, kT0);
  EXPECT_EQ(entry->kid.size(), 16u);
  EXPECT_EQ(ModeOf(dir.path()), 0700u);
  EXPECT_EQ(ModeOf(KeyFile(dir, *entry)), 0600u);
  EXPECT_EQ(ModeOf(dir.path() + "/keys.json"), 0600u);
  if (jwt::FamilyOf(GetParam()) == jwt::KeyFamily::kHmac) {
    EXPECT_EQ(ReadAll(KeyFile(dir, *entry)).size(),
              jwt::DigestSize(GetParam()));
  } else {
    EXPECT_THAT(ReadAll(KeyFile(dir, *entry)),
                HasSubstr("-----BEGIN PRIVATE KEY-----"));  // PKCS#8
  }
  absl::StatusOr<jwt::KeySet> keys = dir.Load(kT0);
  ASSERT_THAT(keys, IsOk());
  ASSERT_EQ(keys->keys().size(), 1u);
  EXPECT_EQ(keys->current().kid(), entry->kid);
  EXPECT_EQ(keys->current().algorithm(), GetParam());
  absl::StatusOr<jwt::VerifiedJwt> v =
      VerifyWith(*keys, SignWith(*keys, kT0), kT0);
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(v->key_id(), entry->kid);
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, GeneratedKeyDirectory,
    ::testing::Values(jwt::Algorithm::kHS256, jwt::Algorithm::kHS384,
                      jwt::Algorithm::kHS512, jwt::Algorithm::kRS256,
                      jwt::Algorithm::kPS256, jwt::Algorithm::kES256,
                      jwt::Algorithm::kES384, jwt::Algorithm::kES512,
                      jwt::Algorithm::kEdDSA),
    ::jwtauth::testing::AlgorithmParamName);

TEST_F(KeyDirectoryTest, KidsNeverStartWithADashSoCommandLinesTakeThem) {
  // Base64url starts with '-' one time in 64; 400 kids would show it with
  // probability 1 - (63/64)^400 > 99.8 %.
  ASSERT_THAT(dir_.Generate(jwt::Algorithm::kHS256, kT0), IsOk());
  for (int i = 0; i < 399; ++i) {
    absl::StatusOr<KeyEntry> rotated = dir_.Rotate(kT0, absl::Seconds(1));
    ASSERT_THAT(rotated, IsOk());
    ASSERT_NE(rotated->kid.front(), '-') << rotated->kid;
  }
  absl::StatusOr<std::vector<KeyEntry>> all = dir_.List();
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 400u);
  for (const KeyEntry& e : *all) EXPECT_NE(e.kid.front(), '-') << e.kid;
}

TEST_F(KeyDirectoryTest, GenerateWhenManifestExistsIsAlreadyExists) {
  ASSERT_THAT(dir_.Generate(jwt::Algorithm::kES256, kT0), IsOk());
  absl::StatusOr<KeyEntry> again = dir_.Generate(jwt::Algorithm::kES256, kT0);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("rotate"));
  EXPECT_EQ(dir_.List()->size(), 1u);
}

TEST_F(KeyDirectoryTest,
       RotatedKeyStillVerifiesOldTokensAndNewTokensHaveNewKid) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kES256, kT0);
  const std::string old_token = SignWith(*dir_.Load(kT0), kT0);

  const absl::Time t1 = kT0 + absl::Hours(1);
  absl::StatusOr<KeyEntry> second = dir_.Rotate(t1, absl::Hours(24 * 7));
  ASSERT_THAT(second, IsOk());
  EXPECT_NE(second->kid, first.kid);
  EXPECT_EQ(second->algorithm, jwt::Algorithm::kES256);

  std::vector<KeyEntry> entries = *dir_.List();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kid, first.kid);
  EXPECT_EQ(entries[0].state, KeyState::kVerify);
  EXPECT_EQ(entries[0].verify_until, t1 + absl::Hours(24 * 7));
  EXPECT_EQ(entries[1].kid, second->kid);
  EXPECT_EQ(entries[1].state, KeyState::kActive);

  absl::StatusOr<jwt::KeySet> keys = dir_.Load(t1);
  ASSERT_THAT(keys, IsOk());
  ASSERT_EQ(keys->keys().size(), 2u);
  EXPECT_EQ(keys->current().kid(), second->kid);
  absl::StatusOr<jwt::VerifiedJwt> old = VerifyWith(*keys, old_token, kT0);
  ASSERT_THAT(old, IsOk());
  EXPECT_EQ(old->key_id(), first.kid);
  absl::StatusOr<jwt::VerifiedJwt> fresh =
      VerifyWith(*keys, SignWith(*keys, t1), t1);
  ASSERT_THAT(fresh, IsOk());
  EXPECT_EQ(fresh->key_id(), second->kid);
  EXPECT_EQ(fresh->header().Find("kid")->string_value(), second->kid);
}

TEST_F(KeyDirectoryTest, VerifyKeyIsNotLoadedOnceVerifyUntilPasses) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kEdDSA, kT0);
  const std::string old_token = SignWith(*dir_.Load(kT0), kT0);
  ASSERT_THAT(dir_.Rotate(kT0, absl::Minutes(5)), IsOk());
  const absl::Time until = kT0 + absl::Minutes(5);

  jwt::KeySet before = *dir_.Load(until - absl::Seconds(1));
  EXPECT_NE(before.FindByKid(first.kid), nullptr);
  jwt::KeySet at = *dir_.Load(until);  // verify_until == now: gone
  EXPECT_EQ(at.FindByKid(first.kid), nullptr);
  EXPECT_EQ(at.keys().size(), 1u);
  EXPECT_THAT(VerifyWith(at, old_token, kT0), Not(IsOk()));
  // Still listed as "verify": only Retire removes it.
  EXPECT_EQ(dir_.List()->front().state, KeyState::kVerify);
}

TEST_F(KeyDirectoryTest, RotateCanChangeTheAlgorithm) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kHS256, kT0);
  absl::StatusOr<KeyEntry> second =
      dir_.Rotate(kT0, absl::Hours(1), jwt::Algorithm::kES384);
  ASSERT_THAT(second, IsOk());
  jwt::KeySet keys = *dir_.Load(kT0);
  EXPECT_EQ(keys.current().algorithm(), jwt::Algorithm::kES384);
  EXPECT_EQ(keys.FindByKid(first.kid)->algorithm(), jwt::Algorithm::kHS256);
}

TEST_F(KeyDirectoryTest, RetiredKeyFileIsDeletedAndItsTokensStopVerifying) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kES256, kT0);
  const std::string old_token = SignWith(*dir_.Load(kT0), kT0);
  ASSERT_THAT(dir_.Rotate(kT0, absl::Hours(24)), IsOk());
  const absl::Time t1 = kT0 + absl::Minutes(1);
  absl::StatusOr<KeyEntry> retired = dir_.Retire(first.kid, t1);
  ASSERT_THAT(retired, IsOk());
  EXPECT_EQ(retired->state, KeyState::kRetired);
  EXPECT_EQ(retired->retired, t1);
  EXPECT_FALSE(std::filesystem::exists(KeyFile(dir_, first)));
  EXPECT_EQ(dir_.List()->front().state, KeyState::kRetired);
  jwt::KeySet keys = *dir_.Load(t1);
  EXPECT_EQ(keys.keys().size(), 1u);
  EXPECT_THAT(VerifyWith(keys, old_token, t1), Not(IsOk()));
  // Retiring it again is refused; so is an unknown kid.
  EXPECT_EQ(dir_.Retire(first.kid, t1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(dir_.Retire("no-such-kid", t1).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(KeyDirectoryTest, RetiringTheActiveKeyIsRefusedSayingRotateFirst) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kES256, kT0);
  absl::StatusOr<KeyEntry> r = dir_.Retire(first.kid, kT0);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("rotate first"));
  EXPECT_TRUE(std::filesystem::exists(KeyFile(dir_, first)));
  EXPECT_THAT(dir_.Load(kT0), IsOk());
}

TEST_F(KeyDirectoryTest, CorruptManifestIsInvalidArgumentNamingTheFile) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kES256, kT0);
  const std::string manifest = dir_.path() + "/keys.json";
  const std::string good = ReadAll(manifest);
  const std::string entry =
      absl::StrCat(R"({"kid":")", first.kid, R"(","alg":"ES256",)");
  for (
      const std::string& bad : std::vector<std::string>{
          "", "{", "[]", "{\"keys\":{}}", "{\"keys\":[1]}",
          R"({"keys":[]})",  // no active key
          absl::StrCat(R"({"keys":[)", entry,
                       R"("state":"active","created":1},)", entry,
                       R"("state":"verify","created":1,"verify_until":9}]})"),
          R"({"keys":[{"kid":"../../etc/x","alg":"ES256","state":"active","created":1}]})",
          absl::StrCat(R"({"keys":[)", entry,
                       R"("state":"verify","created":1}]})"),
          absl::StrCat(R"({"keys":[{"kid":")", first.kid,
                       R"(","alg":"none","state":"active","created":1}]})"),
          absl::StrCat(R"({"keys":[)", entry, R"("state":"on","created":1}]})"),
          absl::StrCat(R"({"keys":[)", entry,
                       R"("state":"active","created":"yesterday"}]})"),
          std::string(2 << 20, ' ')}) {
    WriteAll(manifest, bad);
    for (const absl::Status& s : {dir_.Load(kT0).status(), dir_.List().status(),
                                  dir_.Rotate(kT0, absl::Hours(1)).status()}) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
          << bad.substr(0, 200) << ": " << s;
      EXPECT_THAT(s.message(), HasSubstr(manifest)) << bad.substr(0, 200);
    }
  }
  WriteAll(manifest, good);
  EXPECT_THAT(dir_.Load(kT0), IsOk());
}

TEST_F(KeyDirectoryTest, MissingDirectoryOrManifestIsNotFound) {
  absl::Status missing_dir = dir_.Load(kT0).status();
  EXPECT_EQ(missing_dir.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing_dir.message(), HasSubstr(dir_.path()));
  std::filesystem::create_directories(dir_.path());
  ::chmod(dir_.path().c_str(), 0700);
  EXPECT_EQ(dir_.Load(kT0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(dir_.Rotate(kT0, absl::Hours(1)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(KeyDirectoryTest, WorldReadableKeyFileIsRefusedNamingIt) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kES256, kT0);
  const std::string file = KeyFile(dir_, first);
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  absl::StatusOr<jwt::KeySet> keys = dir_.Load(kT0);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(keys.status().message(), HasSubstr(file));
  EXPECT_THAT(keys.status().message(), HasSubstr("chmod 600"));
  EXPECT_THAT(keys.status().message(), Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(KeyDirectoryTest, GroupWritableDirectoryIsRefused) {
  ASSERT_THAT(dir_.Generate(jwt::Algorithm::kES256, kT0), IsOk());
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0770), 0);
  absl::StatusOr<jwt::KeySet> keys = dir_.Load(kT0);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(keys.status().message(), HasSubstr("chmod 700"));
}

TEST_F(KeyDirectoryTest, MissingKeyFileIsRefusedNamingIt) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kHS256, kT0);
  ASSERT_TRUE(std::filesystem::remove(KeyFile(dir_, first)));
  absl::StatusOr<jwt::KeySet> keys = dir_.Load(kT0);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(keys.status().message(), HasSubstr(KeyFile(dir_, first)));
}

TEST_F(KeyDirectoryTest, KeyFileNotMatchingItsAlgorithmIsRefused) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kES256, kT0);
  const std::string manifest = dir_.path() + "/keys.json";
  WriteAll(manifest, absl::StrReplaceAll(ReadAll(manifest),
                                         {{"\"ES256\"", "\"ES384\""}}));
  absl::StatusOr<jwt::KeySet> keys = dir_.Load(kT0);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(keys.status().message(), HasSubstr(KeyFile(dir_, first)));
  EXPECT_THAT(keys.status().message(), HasSubstr("ES384"));
}

TEST_F(KeyDirectoryTest, ShortHmacSecretIsRefused) {
  KeyEntry first = *dir_.Generate(jwt::Algorithm::kHS512, kT0);
  WriteAll(KeyFile(dir_, first), std::string(32, 'x'));  // HS512 needs 64
  absl::StatusOr<jwt::KeySet> keys = dir_.Load(kT0);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(keys.status().message(), HasSubstr("64 bytes"));
  EXPECT_THAT(keys.status().message(), Not(HasSubstr(std::string(32, 'x'))));
}

TEST_F(KeyDirectoryTest,
       ConcurrentRotationsLeaveOneActiveKeyAndAValidManifest) {
  ASSERT_THAT(dir_.Generate(jwt::Algorithm::kEdDSA, kT0), IsOk());
  constexpr size_t kThreads = 4, kRotations = 5;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kThreads * kRotations);
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      KeyDirectory dir(dir_.path());  // as a separate CLI invocation would
      for (size_t i = 0; i < kRotations; ++i) {
        results[t * kRotations + i] =
            dir.Rotate(kT0 + absl::Seconds(static_cast<int64_t>(i)),
                       absl::Hours(1))
                .status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
  absl::StatusOr<std::vector<KeyEntry>> entries = dir_.List();
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), 1u + kThreads * kRotations);
  int active = 0;
  std::set<std::string> kids;
  for (const KeyEntry& e : *entries) {
    active += e.state == KeyState::kActive;
    kids.insert(e.kid);
    EXPECT_TRUE(std::filesystem::exists(KeyFile(dir_, e))) << e.kid;
  }
  EXPECT_EQ(active, 1);
  EXPECT_EQ(kids.size(), entries->size());
  absl::StatusOr<jwt::KeySet> keys = dir_.Load(kT0);
  ASSERT_THAT(keys, IsOk());
  EXPECT_EQ(keys->keys().size(), entries->size());
  EXPECT_EQ(keys->current().kid(), entries->back().kid);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/keys.json.tmp"));
}

TEST_F(KeyDirectoryTest, NegativeVerifyForIsRefused) {
  ASSERT_THAT(dir_.Generate(jwt::Algorithm::kES256, kT0), IsOk());
  EXPECT_EQ(dir_.Rotate(kT0, -absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dir_.List()->size(), 1u);
}

}  // namespace
}  // namespace jwtauth::server
