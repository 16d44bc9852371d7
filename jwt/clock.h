// clock.h: injected time. Everything that reads "now" takes a Clock, so tests
// pin time instead of sleeping across an expiry.
// Thread-safety: a Clock must be safe to call from any thread.
#ifndef JWTAUTH_JWT_CLOCK_H_
#define JWTAUTH_JWT_CLOCK_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace jwtauth::jwt {

using Clock = std::function<absl::Time()>;

// SystemClock returns the real wall clock.
inline Clock SystemClock() {
  return [] { return absl::Now(); };
}

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_CLOCK_H_
