// test_util.h: small helpers shared by jwtauth's tests.
//
// - ReadTestFile / ReadTestJson read ../shared/testdata files (failing the
//   test, never skipping, when they are absent).
// - HexDecode for vector files.
// - A fixed, settable clock.
// - IsJwtError(kind): a gMock matcher on absl::Status / StatusOr.
// - Eventually(done): waits for another thread's progress.
// Thread-safety: FakeClock is thread-safe; the rest are stateless.
#ifndef JWTAUTH_TESTS_TESTING_TEST_UTIL_H_
#define JWTAUTH_TESTS_TESTING_TEST_UTIL_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "jwt/algorithm.h"
#include "jwt/clock.h"
#include "jwt/error.h"
#include "jwt/json.h"

namespace jwtauth::testing {

// ReadTestFile returns the bytes of `relative` under the test-data folder.
std::string ReadTestFile(const std::string& relative);
// ReadTestJson parses a test-data JSON file with jwt::ParseJson.
jwt::Json ReadTestJson(const std::string& relative);
std::string HexDecode(absl::string_view hex);

// Eventually polls `done` (every millisecond) until it is true, for at most
// `timeout`; true if it became true. For another thread's progress: a test
// that waits on it fails after the timeout instead of hanging.
bool Eventually(const std::function<bool()>& done,
                absl::Duration timeout = absl::Seconds(30));

// AlgorithmParamName names a parameterised test after its algorithm ("ES256").
inline std::string AlgorithmParamName(
    const ::testing::TestParamInfo<jwt::Algorithm>& info) {
  return std::string(jwt::AlgorithmName(info.param));
}

// FakeClock: a clock that stays where it is set.
class FakeClock {
 public:
  explicit FakeClock(absl::Time t) : nanos_(absl::ToUnixNanos(t)) {}
  absl::Time Now() const { return absl::FromUnixNanos(nanos_.load()); }
  void Set(absl::Time t) { nanos_.store(absl::ToUnixNanos(t)); }
  void Advance(absl::Duration d) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(d));
  }
  jwt::Clock AsClock() const {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> nanos_;
};

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = StatusOf(arg);
  if (!s.ok()) *result_listener << "status: " << s;
  return s.ok();
}

MATCHER_P(IsJwtError, kind,
          "fails with JwtError " + std::string(jwt::JwtErrorName(kind))) {
  const absl::Status& s = StatusOf(arg);
  std::optional<jwt::JwtError> got = jwt::GetJwtError(s);
  *result_listener << "status: " << s;
  return got.has_value() && *got == kind;
}

}  // namespace jwtauth::testing

#endif  // JWTAUTH_TESTS_TESTING_TEST_UTIL_H_
