// Tests of `jwtauth keys` as an operator runs it: generate, list, rotate,
// retire on a key directory, with the CLI's exit codes, and a directory the
// server library then loads. Listings never show key material.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/key_directory.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::IsOk;
using ::jwtauth::testing::Subprocess;
using ::jwtauth::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

struct Result {
  int code;
  std::string out;
  std::string err;
};

class KeysCli : public ::testing::Test {
 protected:
  Result Keys(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        JWTAUTH_CLI_BIN, absl::StrCat("--key_dir=", key_dir_), "keys"};
    argv.insert(argv.end(), args.begin(), args.end());
    Subprocess p(argv);
    const int code = p.Run();
    return {code, p.Stdout(), p.Stderr()};
  }

  // ListRows runs `keys list` and splits its lines into tab-separated fields.
  std::vector<std::vector<std::string>> ListRows() {
    Result r = Keys({"list"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, Not(HasSubstr("PRIVATE KEY")));
    std::vector<std::vector<std::string>> rows;
    for (absl::string_view line :
         absl::StrSplit(r.out, '\n', absl::SkipEmpty()))
      rows.push_back(absl::StrSplit(line, '\t'));
    return rows;
  }

  TempDir tmp_;
  const std::string key_dir_ = tmp_.File("data/keys");
};

TEST_F(KeysCli, GenerateListRotateListRetire) {
  Result gen = Keys({"generate", "--algorithm=EdDSA"});
  ASSERT_EQ(gen.code, 0) << gen.err;
  std::vector<std::vector<std::string>> rows = ListRows();
  ASSERT_THAT(rows, SizeIs(1));
  ASSERT_THAT(rows[0], SizeIs(5));  // kid, alg, state, created, verify_until
  const std::string first = rows[0][0];
  EXPECT_THAT(gen.out, HasSubstr(first));
  EXPECT_EQ(rows[0][1], "EdDSA");
  EXPECT_EQ(rows[0][2], "active");
  EXPECT_EQ(rows[0][4], "-");

  Result rot = Keys({"rotate", "--verify_for=1h30m"});
  ASSERT_EQ(rot.code, 0) << rot.err;
  rows = ListRows();
  ASSERT_THAT(rows, SizeIs(2));
  EXPECT_EQ(rows[0][0], first);
  EXPECT_EQ(rows[0][2], "verify");
  EXPECT_NE(rows[0][4], "-");
  EXPECT_EQ(rows[1][1], "EdDSA");
  EXPECT_EQ(rows[1][2], "active");
  const std::string second = rows[1][0];

  // The server library loads what the CLI wrote: new key first, old verifies.
  absl::StatusOr<jwt::KeySet> keys = KeyDirectory(key_dir_).Load(absl::Now());
  ASSERT_THAT(keys, IsOk());
  EXPECT_EQ(keys->current().kid(), second);
  EXPECT_NE(keys->FindByKid(first), nullptr);

  Result active = Keys({"retire", second});
  EXPECT_EQ(active.code, 1);
  EXPECT_THAT(active.err, HasSubstr("rotate first"));

  Result retire = Keys({"retire", first});
  ASSERT_EQ(retire.code, 0) << retire.err;
  rows = ListRows();
  ASSERT_THAT(rows, SizeIs(2));
  EXPECT_EQ(rows[0][2], "retired");
  EXPECT_EQ(rows[1][2], "active");
  keys = KeyDirectory(key_dir_).Load(absl::Now());
  ASSERT_THAT(keys, IsOk());
  EXPECT_EQ(keys->keys().size(), 1u);
}

TEST_F(KeysCli, GenerateDefaultsToEs256AndRefusesASecondTime) {
  ASSERT_EQ(Keys({"generate"}).code, 0);
  EXPECT_EQ(ListRows().at(0).at(1), "ES256");
  Result again = Keys({"generate"});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("already"));
}

TEST_F(KeysCli, RotateKeepsTheAlgorithmUnlessGiven) {
  ASSERT_EQ(Keys({"generate", "--algorithm=HS384"}).code, 0);
  ASSERT_EQ(Keys({"rotate"}).code, 0);
  ASSERT_EQ(Keys({"rotate", "--algorithm=RS256"}).code, 0);
  std::vector<std::vector<std::string>> rows = ListRows();
  ASSERT_THAT(rows, SizeIs(3));
  EXPECT_EQ(rows[1][1], "HS384");
  EXPECT_EQ(rows[2][1], "RS256");
}

TEST_F(KeysCli, UsageErrorsExitTwo) {
  EXPECT_EQ(Keys({}).code, 2);
  EXPECT_EQ(Keys({"bogus"}).code, 2);
  EXPECT_EQ(Keys({"retire"}).code, 2);
  Result alg = Keys({"generate", "--algorithm=none"});
  EXPECT_EQ(alg.code, 2);
  EXPECT_THAT(alg.err, HasSubstr("--algorithm"));
}

TEST_F(KeysCli, ListWithoutDirectoryIsRefusedNamingIt) {
  Result r = Keys({"list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(key_dir_));
}

TEST_F(KeysCli, RetireUnknownKidExitsOne) {
  ASSERT_EQ(Keys({"generate"}).code, 0);
  Result r = Keys({"retire", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("nope"));
}

}  // namespace
}  // namespace jwtauth::server
