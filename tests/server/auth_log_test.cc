// Tests of the decision log line: its exact shape and its timestamp (the
// per-second prefix cache must never show a stale second).
#include "server/auth_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace jwtauth::server {
namespace {

// CaptureStderr runs `fn` with fd 2 redirected to a file and returns what
// was written.
template <typename Fn>
std::string CaptureStderr(Fn fn) {
  testing::TempDir dir;
  const std::string path = dir.File("stderr");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  fn();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(AuthLog, DecisionLineHasUtcMillisecondTimestampAndFields) {
  const absl::Time before = absl::Now();
  const std::string out = CaptureStderr(
      [] { LogAuthDecision("VerifyToken", "bob", "OK", "ipv4:127.0.0.1"); });
  const absl::Time after = absl::Now();
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      out, m,
      std::regex(
          R"(^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z auth method=VerifyToken )"
          R"(user="bob" outcome=OK peer=ipv4:127\.0\.0\.1\n$)")))
      << out;
  absl::Time t;
  std::string err;
  ASSERT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%E3S", m[1].str(),
                              absl::UTCTimeZone(), &t, &err))
      << err;
  EXPECT_GE(t, absl::FromUnixMillis(absl::ToUnixMillis(before)));
  EXPECT_LE(t, after);
}

TEST(AuthLog, TimestampsNeverGoBackwardsAcrossSeconds) {
  // Each line is checked against the clock read around it, so a stale
  // cached second shows whether or not a second boundary is crossed.
  std::vector<std::pair<absl::Time, absl::Time>> bounds;
  const std::string out = CaptureStderr([&] {
    for (int i = 0; i < 2000; ++i) {
      const absl::Time b =
          absl::FromUnixMillis(absl::ToUnixMillis(absl::Now()));
      LogLine("tick");
      bounds.emplace_back(b, absl::Now());
    }
  });
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), bounds.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::Time t;
    std::string err;
    ASSERT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%E3SZ tick", lines[i],
                                absl::UTCTimeZone(), &t, &err))
        << lines[i];
    EXPECT_GE(t, bounds[i].first) << lines[i];
    EXPECT_LE(t, bounds[i].second) << lines[i];
  }
}

}  // namespace
}  // namespace jwtauth::server
