// Tests of the decision log line: its exact shape and its timestamp (the
// per-second prefix cache must never show a stale second); and of LineBuffer,
// which buffers them in servers: whole lines, in order, bounded.
#include "server/auth_log.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
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

// ---------------------------------------------------------------- LineBuffer

// Line i of a test: "line <i> " padded with 'x' to `width` bytes, then '\n'.
std::string TestLine(int i, size_t width = 64) {
  std::string line = absl::StrCat("line ", i, " ");
  line.resize(width - 1, 'x');
  line.push_back('\n');
  return line;
}

// Messages reads what a SOCK_SEQPACKET peer received: one string per write.
std::vector<std::string> Messages(int fd) {
  std::vector<std::string> out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    out.emplace_back(buf, static_cast<size_t>(n));
  }
  return out;
}

// WaitReadable waits up to 30 s for `fd` to have data (the buffer's thread
// writes on its own); false if it never does.
bool WaitReadable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 30000) == 1;
}

class LineBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds_), 0);
    int size = 1 << 20;
    ::setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ::setsockopt(fds_[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  static LineBuffer::Options Never() {  // only Flush and the destructor write
    LineBuffer::Options o;
    o.flush_interval = absl::Hours(1);
    o.flush_bytes = 1 << 30;
    return o;
  }
  int writer() const { return fds_[0]; }
  int reader() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

TEST_F(LineBufferTest, LinesWaitForFlushThenLeaveWholeInOrderInFewWrites) {
  LineBuffer buffer(writer(), Never());
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    buffer.Add(TestLine(i));
    expected += TestLine(i);
  }
  EXPECT_TRUE(Messages(reader()).empty());
  buffer.Flush();
  const std::vector<std::string> writes = Messages(reader());
  // 200 lines of 64 bytes: four writes of 64 lines (4096 bytes), one of 8.
  ASSERT_EQ(writes.size(), 4u);
  std::string got;
  for (const std::string& w : writes) {
    EXPECT_LE(w.size(), 4096u);
    EXPECT_EQ(w.back(), '\n');
    got += w;
  }
  EXPECT_EQ(got, expected);
}

TEST_F(LineBufferTest, FlushingAddWritesItAndEverythingBefore) {
  LineBuffer buffer(writer(), Never());
  buffer.Add(TestLine(1));
  buffer.Add(TestLine(2), /*flush=*/true);
  EXPECT_THAT(Messages(reader()),
              ::testing::ElementsAre(TestLine(1) + TestLine(2)));
}

TEST_F(LineBufferTest, LineLongerThanOneWriteIsWrittenWholeAndAlone) {
  LineBuffer buffer(writer(), Never());
  buffer.Add(TestLine(1));
  buffer.Add(TestLine(2, 10000));
  buffer.Add(TestLine(3));
  buffer.Flush();
  EXPECT_THAT(
      Messages(reader()),
      ::testing::ElementsAre(TestLine(1), TestLine(2, 10000), TestLine(3)));
}

TEST_F(LineBufferTest, DestructorWritesWhatWaits) {
  {
    LineBuffer buffer(writer(), Never());
    buffer.Add(TestLine(7));
  }
  EXPECT_THAT(Messages(reader()), ::testing::ElementsAre(TestLine(7)));
}

TEST_F(LineBufferTest, ThreadWritesOnceFlushBytesWait) {
  LineBuffer::Options o = Never();
  o.flush_bytes = 1024;
  LineBuffer buffer(writer(), o);
  for (int i = 0; i < 15; ++i) buffer.Add(TestLine(i));  // 960 bytes
  buffer.Add(TestLine(15));                              // 1024
  ASSERT_TRUE(WaitReadable(reader()));
  std::string got;
  for (const std::string& w : Messages(reader())) got += w;
  EXPECT_EQ(got.size(), 1024u);
}

TEST_F(LineBufferTest, ThreadWritesEveryFlushInterval) {
  LineBuffer::Options o = Never();
  o.flush_interval = absl::Milliseconds(5);
  LineBuffer buffer(writer(), o);
  buffer.Add(TestLine(1));
  ASSERT_TRUE(WaitReadable(reader()));
  EXPECT_THAT(Messages(reader()), ::testing::ElementsAre(TestLine(1)));
}

TEST(LineBuffer, BlockedFileMakesAddWaitAndLosesNothing) {
  // A pipe nobody reads yet, at its smallest: the thread's write blocks, the
  // buffer fills to max_buffered, then Add waits until the reader drains.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ::fcntl(p[1], F_SETPIPE_SZ, 4096);
  LineBuffer::Options o;
  o.flush_interval = absl::Milliseconds(1);
  o.flush_bytes = 512;
  o.max_buffered = 8192;
  constexpr int kLines = 2000;  // 128,000 bytes
  std::atomic<int> added{0};
  {
    LineBuffer buffer(p[1], o);
    std::thread producer([&] {
      for (int i = 0; i < kLines; ++i) {
        buffer.Add(TestLine(i));
        added.fetch_add(1);
      }
    });
    std::string got;
    // The producer cannot get far ahead of the reader: in flight are at
    // most the pipe (4096), the chunk the thread is writing and what waits
    // (each under max_buffered plus one line).
    constexpr int kInFlight = 4096 + 2 * (8192 + 64);
    char buf[4096];
    while (got.size() < kLines * 64u) {
      const ssize_t n = ::read(p[0], buf, sizeof buf);
      ASSERT_GT(n, 0);
      got.append(buf, static_cast<size_t>(n));
      EXPECT_LE(added.load() * 64, static_cast<int>(got.size()) + kInFlight);
    }
    producer.join();
    std::string expected;
    for (int i = 0; i < kLines; ++i) expected += TestLine(i);
    EXPECT_EQ(got, expected);
  }
  ::close(p[0]);
  ::close(p[1]);
}

}  // namespace
}  // namespace jwtauth::server
