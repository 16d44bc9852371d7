// auth_log.h: one line per authentication decision, on standard error:
//   2026-11-29T06:12:00.123Z auth method=ObtainToken user="ada" outcome=OK
//   peer=ipv4:127.0.0.1
// User names are escaped (no control characters reach the log); passwords,
// secrets and tokens are never passed here.
//
// By default every line is one write(2). A server calls BufferAuthLog() once
// at start: decision lines then wait in a LineBuffer that a background thread
// writes every `flush_interval`, or as soon as 64 KiB wait, taking the
// syscall off the threads that serve calls (one write(2) was ~5 % of a
// VerifyToken's server CPU, bench/RESULTS.md). LogLine's operational messages
// still reach the file at once, after every decision line before them.
// FlushAuthLog() writes out what waits; BufferAuthLog registers it with
// atexit and servers call it before they return from main. A process killed
// outright loses at most `flush_interval` of decision lines.
//
// Thread-safety: thread-safe. Lines are never split, reordered or mixed with
// each other.
#ifndef JWTAUTH_SERVER_AUTH_LOG_H_
#define JWTAUTH_SERVER_AUTH_LOG_H_

#include <cstddef>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace jwtauth::server {

// LogAuthDecision writes the line; `outcome` is "OK" or a reason.
void LogAuthDecision(absl::string_view method, absl::string_view user,
                     absl::string_view outcome, absl::string_view peer);

// LogLine writes a timestamped operational message (at once).
void LogLine(absl::string_view message);

// BufferAuthLog buffers decision lines from now on (see above). Later calls
// do nothing; a zero or negative interval keeps one write per line.
void BufferAuthLog(absl::Duration flush_interval);

// FlushAuthLog writes every buffered line now (no-op when unbuffered).
void FlushAuthLog();

// LineBuffer: whole lines for one file descriptor, written by its own thread
// every `flush_interval` or once `flush_bytes` wait. Each write(2) carries
// whole lines and at most `max_write` bytes, so lines stay whole on a pipe
// (PIPE_BUF) next to other writers; a line longer than that is written alone.
// While `max_buffered` bytes wait (the file blocks), Add waits too.
// Write errors drop the lines (a log must not stop the server).
class LineBuffer {
 public:
  struct Options {
    absl::Duration flush_interval = absl::Milliseconds(100);
    size_t flush_bytes = 64 * 1024;
    size_t max_write = 4096;  // PIPE_BUF on Linux
    size_t max_buffered = 1024 * 1024;
  };
  LineBuffer(int fd, Options options);
  ~LineBuffer();  // flushes, then stops the thread
  LineBuffer(const LineBuffer&) = delete;
  LineBuffer& operator=(const LineBuffer&) = delete;

  // Add queues `line` (which ends with '\n'); with `flush`, it and everything
  // before it are written before Add returns.
  void Add(absl::string_view line, bool flush = false);
  // Flush writes everything queued before the call.
  void Flush();

 private:
  void Run();
  void WriteOut(const std::string& data);

  const int fd_;
  const Options options_;
  common::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Held while writing, so flushes leave in the order they took pending_.
  common::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::thread thread_;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_AUTH_LOG_H_
