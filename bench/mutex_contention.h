// mutex_contention.h: a diagnostic for bench_server: which code paths make
// absl::Mutex (and so gRPC 1.51's grpc_core::Mutex, which is one) wait.
//
// InstallMutexContentionTracer() registers abseil's mutex tracer, which
// abseil calls when a Mutex is released while another thread waited for it;
// each event records the releasing thread's stack and the wait. The report
// lists the stacks with the most waiting, symbolized, outermost abseil frames
// dropped. Intended for profiling runs, not for figures: it adds a stack walk
// to every contended release.
//
//   InstallMutexContentionTracer(argv[0]);
//   ... load ...
//   std::string text = MutexContentionReport(15);
//
// Thread-safety: thread-safe; install once, before the threads start.
// Stacks come from glibc's backtrace(); frames without symbols show as
// addresses.
#ifndef JWTAUTH_BENCH_MUTEX_CONTENTION_H_
#define JWTAUTH_BENCH_MUTEX_CONTENTION_H_

#include <cstddef>
#include <string>

namespace jwtauth::bench {

void InstallMutexContentionTracer(const char* argv0);

// MutexContentionReport returns the `top` stacks by total wait, one block
// each: events, wait (abseil cycle-clock units), frames.
std::string MutexContentionReport(size_t top);

}  // namespace jwtauth::bench

#endif  // JWTAUTH_BENCH_MUTEX_CONTENTION_H_
