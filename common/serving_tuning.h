// serving_tuning.h: process settings a busy gRPC server on Debian 12 wants,
// applied by jwtauth-server, the example and benchmark servers, and offered
// to teams that embed jwtauth's server-side validation in their own servers.
//
//   int main(int argc, char** argv) {
//     jwtauth::common::TuneForServing();  // before the first thread starts
//     ...
//   }
//
// What it does, and why (measured in bench/RESULTS.md):
//  - Turns off absl::Mutex deadlock detection. Debian builds abseil without
//    NDEBUG, so it is on, and gRPC 1.51's own mutexes are absl::Mutex: the
//    lock-graph bookkeeping costs ~10 % of a busy server's CPU. Release builds
//    of abseil ship with it off; it finds bugs in tests, not in production.
//  - Sets glibc's M_TRIM_THRESHOLD to `trim_threshold_bytes` (and with it
//    disables glibc's dynamic threshold), so heap freed after each call is kept
//    for the next one instead of being returned to the kernel and faulted in
//    again (madvise + page faults showed at 7-12 % of server samples). The
//    heap then stays at its high-water mark, which is bounded by the server's
//    bounded queues and caches; 0 leaves glibc's default.
//
// Thread-safety: call once, early in main(), before other threads start.
#ifndef JWTAUTH_COMMON_SERVING_TUNING_H_
#define JWTAUTH_COMMON_SERVING_TUNING_H_

#include <cstddef>

namespace jwtauth::common {

inline constexpr size_t kDefaultTrimThresholdBytes = 64 << 20;

// TuneForServing applies the settings above; false if glibc refused the
// trim threshold (deadlock detection is off either way).
bool TuneForServing(size_t trim_threshold_bytes = kDefaultTrimThresholdBytes);

}  // namespace jwtauth::common

#endif  // JWTAUTH_COMMON_SERVING_TUNING_H_
