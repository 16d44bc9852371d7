#include "server/human_duration.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace jwtauth::server {

bool ParseHumanDuration(absl::string_view text, absl::Duration* out,
                        std::string* error) {
  text = absl::StripAsciiWhitespace(text);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) {
    if (seconds < 0) {
      *error = "duration must not be negative";
      return false;
    }
    *out = absl::Seconds(seconds);
    return true;
  }
  // Expand d and w, then let abseil parse the rest ("1d2h" -> 24h + 2h).
  absl::Duration total = absl::ZeroDuration();
  absl::string_view rest = text;
  size_t i = 0;
  while (i < rest.size()) {
    size_t j = i;
    while (j < rest.size() &&
           ((rest[j] >= '0' && rest[j] <= '9') || rest[j] == '.'))
      ++j;
    if (j < rest.size() && j > i && (rest[j] == 'd' || rest[j] == 'w')) {
      double n = 0;
      if (!absl::SimpleAtod(rest.substr(i, j - i), &n)) break;
      total += absl::Hours(24 * (rest[j] == 'w' ? 7 : 1)) * n;
      rest.remove_prefix(j + 1);
      i = 0;
      continue;
    }
    break;
  }
  absl::Duration tail = absl::ZeroDuration();
  if (!rest.empty() && !absl::ParseDuration(rest, &tail)) {
    *error = absl::StrCat(
        "\"", text, "\" is not a duration (examples: 300s, 5m, 1h30m, 7d)");
    return false;
  }
  total += tail;
  if (total < absl::ZeroDuration() || total == absl::InfiniteDuration()) {
    *error = "duration must be finite and not negative";
    return false;
  }
  *out = total;
  return true;
}

bool AbslParseFlag(absl::string_view text, HumanDuration* out,
                   std::string* error) {
  return ParseHumanDuration(text, &out->value, error);
}

std::string AbslUnparseFlag(HumanDuration d) {
  return absl::FormatDuration(d.value);
}

}  // namespace jwtauth::server
