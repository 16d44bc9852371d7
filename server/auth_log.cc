#include "server/auth_log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace jwtauth::server {
namespace {

// WriteAll writes `data` to `fd`, retrying short writes and EINTR; other
// errors drop the rest.
void WriteAll(int fd, absl::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// The process's buffer once BufferAuthLog ran; never destroyed (its thread
// may run while statics are destroyed).
std::atomic<LineBuffer*> g_buffer{nullptr};

void Write(const std::string& line, bool flush) {
  LineBuffer* buffer = g_buffer.load(std::memory_order_acquire);
  if (buffer != nullptr) {
    buffer->Add(line, flush);
  } else {
    WriteAll(STDERR_FILENO, line);
  }
}

// Now formats the current UTC time as 2006-01-02T15:04:05.000Z. The part up
// to the seconds is formatted once per second per thread (absl::FormatTime
// was ~2 % of a VerifyToken's CPU); only the milliseconds are added each time.
std::string Now() {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached_prefix;
  const int64_t ms = absl::ToUnixMillis(absl::Now());
  const int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  if (second != cached_second) {
    cached_prefix =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second),
                         absl::UTCTimeZone());
    cached_second = second;
  }
  const int64_t milli = ms - second * 1000;
  std::string out = cached_prefix;
  out.push_back('.');
  out.push_back(static_cast<char>('0' + milli / 100));
  out.push_back(static_cast<char>('0' + milli / 10 % 10));
  out.push_back(static_cast<char>('0' + milli % 10));
  out.push_back('Z');
  return out;
}

}  // namespace

void LogAuthDecision(absl::string_view method, absl::string_view user,
                     absl::string_view outcome, absl::string_view peer) {
  // Bound what an attacker-chosen name can add to a line.
  const absl::string_view shown = user.substr(0, 160);
  Write(absl::StrCat(
            Now(), " auth method=", method, " user=\"", absl::CHexEscape(shown),
            user.size() > shown.size() ? "...\"" : "\"", " outcome=", outcome,
            " peer=", absl::CHexEscape(peer), "\n"),
        /*flush=*/false);
}

void LogLine(absl::string_view message) {
  Write(absl::StrCat(Now(), " ", message, "\n"), /*flush=*/true);
}

void BufferAuthLog(absl::Duration flush_interval) {
  if (flush_interval <= absl::ZeroDuration()) return;
  static common::Mutex mu;
  common::MutexLock lock(&mu);
  if (g_buffer.load(std::memory_order_acquire) != nullptr) return;
  LineBuffer::Options options;
  options.flush_interval = flush_interval;
  g_buffer.store(new LineBuffer(STDERR_FILENO, options),
                 std::memory_order_release);
  std::atexit(FlushAuthLog);
}

void FlushAuthLog() {
  LineBuffer* buffer = g_buffer.load(std::memory_order_acquire);
  if (buffer != nullptr) buffer->Flush();
}

LineBuffer::LineBuffer(int fd, Options options)
    : fd_(fd), options_(options), thread_([this] { Run(); }) {}

LineBuffer::~LineBuffer() {
  {
    common::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
  Flush();
}

void LineBuffer::Add(absl::string_view line, bool flush) {
  {
    common::MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return pending_.size() < options_.max_buffered;
    });
    pending_.append(line.data(), line.size());
  }
  if (flush) Flush();
}

void LineBuffer::Flush() {
  common::MutexLock writing(&write_mu_);
  std::string out;
  {
    common::MutexLock lock(&mu_);
    out.swap(pending_);
  }
  WriteOut(out);
}

void LineBuffer::Run() {
  for (;;) {
    bool stop;
    {
      common::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(
          [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return stopping_ || pending_.size() >= options_.flush_bytes;
          },
          options_.flush_interval);
      stop = stopping_;
    }
    Flush();
    if (stop) return;
  }
}

void LineBuffer::WriteOut(const std::string& data) {
  // Chunks of whole lines, each at most max_write bytes when lines allow.
  absl::string_view rest = data;
  while (!rest.empty()) {
    size_t end = rest.size();
    if (end > options_.max_write) {
      const size_t cut = rest.rfind('\n', options_.max_write - 1);
      end = cut != absl::string_view::npos
                ? cut + 1
                : std::min(rest.find('\n'), end - 1) + 1;
    }
    WriteAll(fd_, rest.substr(0, end));
    rest.remove_prefix(end);
  }
}

}  // namespace jwtauth::server
