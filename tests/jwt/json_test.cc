// Tests for the strict JSON parser and writer.
#include "jwt/json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace jwtauth::jwt {
namespace {

using ::jwtauth::testing::IsJwtError;
using ::jwtauth::testing::IsOk;

TEST(Json, ObjectKeepsMemberOrderAndTypes) {
  absl::StatusOr<Json> v = ParseJson(
      R"( {"user_id": 42, "username": "ada", "exp": 1.5e9, "ok": true, "n": null, "a": [1, "x"]} )");
  ASSERT_THAT(v, IsOk());
  ASSERT_TRUE(v->is_object());
  EXPECT_THAT(v->keys(), ::testing::ElementsAre("user_id", "username", "exp",
                                                "ok", "n", "a"));
  EXPECT_EQ(v->Find("user_id")->int_value(), 42);
  EXPECT_EQ(v->Find("username")->string_value(), "ada");
  EXPECT_DOUBLE_EQ(v->Find("exp")->number_value(), 1.5e9);
  EXPECT_TRUE(v->Find("ok")->bool_value());
  EXPECT_TRUE(v->Find("n")->is_null());
  EXPECT_EQ(v->Find("a")->size(), 2u);
}

TEST(Json, SerializeIsCompactAndRoundTrips) {
  const std::string text =
      R"({"a":1,"b":"x\"y\\z\n\u0001","c":[true,false,null],"d":{"e":-2.5}})";
  absl::StatusOr<Json> v = ParseJson(text);
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(SerializeJson(*v), text);
}

TEST(Json, EscapesDecodeToUtf8) {
  absl::StatusOr<Json> v = ParseJson(R"("\u00e9\ud83d\ude00\/")");
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(v->string_value(), "\xc3\xa9\xf0\x9f\x98\x80/");
}

TEST(Json, LargeIntegerKeepsExactValue) {
  absl::StatusOr<Json> v = ParseJson("9007199254740993");
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(v->int_value(), 9007199254740993);
}

class JsonRejects : public ::testing::TestWithParam<std::string> {};

TEST_P(JsonRejects, InputIsMalformed) {
  EXPECT_THAT(ParseJson(GetParam()), IsJwtError(JwtError::kMalformed))
      << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    Strictness, JsonRejects,
    ::testing::Values(
        // duplicate member names, at any depth
        R"({"a":1,"a":2})", R"({"x":{"b":1,"b":1}})",
        // NaN / Infinity / overflow to infinity
        "NaN", "Infinity", "-Infinity", "[1e400]", R"({"exp":1e999})",
        // invalid numbers
        "01", "1.", ".5", "+1", "1e", "-", "0x10",
        // invalid UTF-8 and lone surrogates
        "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
        R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")",
        // control characters and bad escapes
        std::string("\"a\x01\""), "\"a\tb\"", R"("\x41")", R"("\u12")",
        // structure
        "", " ", "{", "[1,]", R"({"a":1,})", R"({"a" 1})", R"({a:1})", "[1] 2",
        "{}{}", "tru", "nul", std::string("{}\0", 3), "'a'",
        // nesting deeper than the bound
        std::string(17, '[') + std::string(17, ']')));

TEST(Json, NestingAtTheBoundIsAccepted) {
  EXPECT_THAT(ParseJson(std::string(16, '[') + std::string(16, ']')), IsOk());
}

TEST(Json, DuplicateNamesInLargeObjectAreRejected) {
  std::string text = "{";
  for (int i = 0; i < 40; ++i) text += "\"k" + std::to_string(i) + "\":1,";
  text += "\"k7\":2}";
  EXPECT_THAT(ParseJson(text), IsJwtError(JwtError::kMalformed));
}

TEST(Json, ParsedObjectEqualityIgnoresMemberOrder) {
  EXPECT_EQ(*ParseJson(R"({"a":1,"b":[2]})"), *ParseJson(R"({"b":[2],"a":1})"));
  EXPECT_NE(*ParseJson(R"({"a":1})"), *ParseJson(R"({"a":2})"));
}

}  // namespace
}  // namespace jwtauth::jwt
