// auth_log_bench: what jwtauth-server's per-decision log line costs
// (server::LogAuthDecision: timestamp formatting, escaping, one write(2) to
// stderr), by where stderr goes: /dev/null, a regular file, or a pipe that a
// reader thread drains (as when a supervisor collects the log). BM_Write*
// time the bare write(2) of a line of the same length, so the difference is
// the formatting. Times are the thread's CPU time (user + system).
//
// Used to answer "does logging cost VerifyToken throughput?" next to
// grpc_bench's server CPU per call.
//
//   auth_log_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "server/auth_log.h"

namespace {

enum Sink { kDevNull = 0, kFile = 1, kPipe = 2 };

// StderrRedirect points fd 2 at a sink for its lifetime, then restores it.
class StderrRedirect {
 public:
  explicit StderrRedirect(int sink) {
    saved_ = ::dup(STDERR_FILENO);
    int fd = -1;
    if (sink == kDevNull) {
      fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    } else if (sink == kFile) {
      char path[] = "/tmp/auth_log_bench.XXXXXX";
      fd = ::mkstemp(path);
      ::unlink(path);
    } else {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) == 0) {
        fd = p[1];
        reader_fd_ = p[0];
        reader_ = std::thread([this] {
          char buf[65536];
          while (::read(reader_fd_, buf, sizeof buf) > 0) {
          }
        });
      }
    }
    if (fd >= 0) {
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
  }
  ~StderrRedirect() {
    ::dup2(saved_, STDERR_FILENO);  // closes the pipe's last write end
    ::close(saved_);
    if (reader_.joinable()) reader_.join();
    if (reader_fd_ >= 0) ::close(reader_fd_);
  }

 private:
  int saved_ = -1;
  int reader_fd_ = -1;
  std::thread reader_;
};

const char* SinkName(int sink) {
  return sink == kDevNull ? "devnull" : sink == kFile ? "file" : "pipe";
}

void BM_LogAuthDecision(benchmark::State& state) {
  const int sink = static_cast<int>(state.range(0));
  state.SetLabel(SinkName(sink));
  StderrRedirect redirect(sink);
  for (auto _ : state) {
    jwtauth::server::LogAuthDecision("VerifyToken", "bench", "OK",
                                     "ipv4:127.0.0.1");
  }
}
BENCHMARK(BM_LogAuthDecision)->Arg(kDevNull)->Arg(kFile)->Arg(kPipe);

void BM_Write(benchmark::State& state) {
  const int sink = static_cast<int>(state.range(0));
  state.SetLabel(SinkName(sink));
  // The same length as the line above.
  const std::string line =
      "2026-11-29T06:12:00.123Z auth method=VerifyToken user=\"bench\" "
      "outcome=OK "
      "peer=ipv4:127.0.0.1\n";
  StderrRedirect redirect(sink);
  for (auto _ : state) {
    benchmark::DoNotOptimize(::write(STDERR_FILENO, line.data(), line.size()));
  }
}
BENCHMARK(BM_Write)->Arg(kDevNull)->Arg(kFile)->Arg(kPipe);

}  // namespace

BENCHMARK_MAIN();
