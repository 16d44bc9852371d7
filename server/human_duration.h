// human_duration.h: a flag type for durations in human units: "300" or
// "300s", "5m", "1h30m", "7d", "2w" (d = 24h, w = 7d), as well as every form
// absl::ParseDuration takes. Negative and infinite values are refused.
// Thread-safety: a value type.
#ifndef JWTAUTH_SERVER_HUMAN_DURATION_H_
#define JWTAUTH_SERVER_HUMAN_DURATION_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace jwtauth::server {

struct HumanDuration {
  absl::Duration value = absl::ZeroDuration();
};

// ParseHumanDuration parses `text`; false (with `error` set) when it is not a
// finite, non-negative duration.
bool ParseHumanDuration(absl::string_view text, absl::Duration* out,
                        std::string* error);

// Abseil flags hooks.
bool AbslParseFlag(absl::string_view text, HumanDuration* out,
                   std::string* error);
std::string AbslUnparseFlag(HumanDuration d);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_HUMAN_DURATION_H_
