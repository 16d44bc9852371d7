// grpc_load.h: the closed-loop gRPC load of grpc_bench, and the process and
// machine counters it reads around a measurement window.
//
// RunLoad opens spec.connections channels (one TCP connection each) and keeps
// spec.in_flight unary calls outstanding on each, through gRPC's
// CompletionQueue API (GenericStub, requests serialised once) on
// spec.threads threads. Duration mode: after spec.warmup it counts the calls
// completing within spec.duration. Count mode (spec.max_calls > 0): it issues
// exactly max_calls calls, all measured, and the window is their whole run.
//
//   LoadSpec spec;
//   spec.port = 50051;
//   spec.method = "/jwtauth.v1.AuthService/VerifyToken";
//   spec.requests = {serialised_request};
//   absl::StatusOr<LoadResult> r = RunLoad(spec, server_pid);
//
// Thread-safety: RunLoad may run in several threads at once (each with its
// own spec); everything else is thread-compatible.
#ifndef JWTAUTH_BENCH_GRPC_LOAD_H_
#define JWTAUTH_BENCH_GRPC_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace jwtauth::bench {

// NowNs is a steady clock in nanoseconds.
int64_t NowNs();
void SleepUntilNs(int64_t t);
// Progress writes "grpc_bench: <line>" to stderr.
void Progress(const std::string& line);

struct CpuSnapshot {
  double server_s = 0;  // user + system time of the server process
  double client_s = 0;  // user + system time of this process
  double busy_s = 0;    // machine: all CPUs, non-idle
  double total_s = 0;   // machine: all CPUs, all states
};
CpuSnapshot TakeCpuSnapshot(int64_t server_pid);
// ProcessRssBytes reads VmRSS of `pid` from /proc; nullopt if unreadable.
std::optional<int64_t> ProcessRssBytes(int64_t pid);
// Cores is the number of CPUs this process may run on.
int Cores();

struct LoadSpec {
  int port = 0;
  std::string method;  // "/pkg.Service/Method"
  // Serialised request messages: each call takes the next one (round-robin
  // per thread, threads starting at different offsets). At least one.
  std::vector<std::string> requests;
  // "JWT <token>" values, given round-robin to the call slots; empty: none.
  std::vector<std::string> authorizations;
  int connections = 1;
  int in_flight = 1;
  int threads = 1;
  absl::Duration warmup;
  absl::Duration duration;
  absl::Duration call_timeout;
  // Count mode when > 0 (warmup and duration are then ignored).
  int64_t max_calls = 0;
  // If set, incremented on every completed call (for samplers).
  std::atomic<int64_t>* completed = nullptr;
};

struct LoadResult {
  int64_t ok = 0;
  int64_t errors = 0;
  int64_t warmup_calls = 0;
  int64_t warmup_errors = 0;
  std::map<int, int64_t> error_codes;
  std::string first_error;
  std::vector<int64_t> latencies_ns;  // OK calls completing in the window
  double window_s = 0;
  // CPU seconds used during the window(s).
  double server_cpu_s = 0;
  double client_cpu_s = 0;
  double machine_busy_s = 0;
  double machine_total_s = 0;

  // Merge adds another measurement of the same scenario (latencies unsorted).
  void Merge(LoadResult&& part);
};

// NewChannel opens a channel to 127.0.0.1:port with its own connection.
std::shared_ptr<grpc::Channel> NewChannel(int port, int id);

// RunLoad runs `spec` against the server whose pid is `server_pid` (for its
// CPU time).
absl::StatusOr<LoadResult> RunLoad(const LoadSpec& spec, int64_t server_pid);

// PercentileUs is the p-th percentile (0..1, nearest rank) of sorted
// nanosecond latencies, in microseconds; 0 when empty.
double PercentileUs(const std::vector<int64_t>& sorted_ns, double p);

}  // namespace jwtauth::bench

#endif  // JWTAUTH_BENCH_GRPC_LOAD_H_
