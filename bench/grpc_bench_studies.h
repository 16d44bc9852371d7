// grpc_bench_studies.h: the two measurements of grpc_bench that are not rows
// of the floor table:
//
//  - Memory: VerifyToken called `calls` times over many distinct tokens,
//    the server's RSS sampled as it goes; caches must be bounded, so RSS once
//    every token has been seen should equal RSS at the end.
//  - Login storm: VerifyToken latency at a moderate closed-loop load, alone,
//    while ObtainToken is saturated by concurrent logins, and (the control)
//    next to one spinning SCHED_IDLE thread per core in this process, which
//    saturates the CPUs with work the kernel ranks below everything else and
//    touches no jwtauth code. Rounds alternate the three phases so that a
//    slow stretch of a shared machine does not land on one phase only.
//
//   absl::StatusOr<MemoryStudy> m = RunMemoryStudy(spec, server_pid, tokens);
//   absl::StatusOr<StormStudy> s =
//       RunStormStudy(verify, obtain, server_pid, /*rounds=*/3);
//
// Thread-safety: plain functions; each runs its own threads.
#ifndef JWTAUTH_BENCH_GRPC_BENCH_STUDIES_H_
#define JWTAUTH_BENCH_GRPC_BENCH_STUDIES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/grpc_load.h"
#include "jwt/json.h"

namespace jwtauth::bench {

struct MemoryStudy {
  int64_t calls = 0;
  int64_t distinct_tokens = 0;
  LoadResult load;
  // (calls completed, server RSS bytes), every ~250 ms.
  std::vector<std::pair<int64_t, int64_t>> samples;
  int64_t rss_start = 0;  // before the first call
  int64_t rss_after_pass =
      0;                // first sample once `distinct_tokens` calls completed
  int64_t rss_end = 0;  // after the last call
  int64_t rss_max = 0;
  double growth = 0;  // rss_end / rss_after_pass - 1
};

// RunMemoryStudy runs `spec` in count mode (spec.max_calls calls over
// spec.requests) against the server with pid `server_pid`.
absl::StatusOr<MemoryStudy> RunMemoryStudy(const LoadSpec& spec,
                                           int64_t server_pid);

struct StormStudy {
  int rounds = 0;
  // Each phase's calls over all rounds.
  LoadResult idle;     // VerifyToken alone
  LoadResult storm;    // VerifyToken during the login storm
  LoadResult logins;   // the storm's ObtainToken calls
  LoadResult control;  // VerifyToken next to the idle-priority spinners
  int spinners = 0;
  bool spinners_idle_policy = false;  // SCHED_IDLE was granted to all
  double idle_p99_us = 0;
  double storm_p99_us = 0;
  double control_p99_us = 0;
  double ratio = 0;          // storm_p99_us / idle_p99_us (the target's)
  double control_ratio = 0;  // control_p99_us / idle_p99_us
  // Per round: storm p99 / alone p99, and control p99 / alone p99.
  std::vector<double> round_ratios;
  std::vector<double> control_round_ratios;
};

// RunStormStudy runs `rounds` rounds (at least 1) of: `verify` alone;
// `verify` while `obtain` runs on its own connections from 1 s before the
// verify load starts until after it ends; `verify` next to Cores() spinning
// threads at SCHED_IDLE.
absl::StatusOr<StormStudy> RunStormStudy(const LoadSpec& verify,
                                         const LoadSpec& obtain,
                                         int64_t server_pid, int rounds);

// Markdown sections and JSON for the studies.
std::string MemoryMarkdown(const MemoryStudy& m);
std::string StormMarkdown(const StormStudy& s, const LoadSpec& verify,
                          const LoadSpec& obtain);
jwt::Json MemoryJson(const MemoryStudy& m);
jwt::Json StormJson(const StormStudy& s);

}  // namespace jwtauth::bench

#endif  // JWTAUTH_BENCH_GRPC_BENCH_STUDIES_H_
