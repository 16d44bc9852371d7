#include "server/auth_log.h"

#include <unistd.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace jwtauth::server {
namespace {

void Write(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                          absl::UTCTimeZone());
}

}  // namespace

void LogAuthDecision(absl::string_view method, absl::string_view user,
                     absl::string_view outcome, absl::string_view peer) {
  // Bound what an attacker-chosen name can add to a line.
  const absl::string_view shown = user.substr(0, 160);
  Write(absl::StrCat(
      Now(), " auth method=", method, " user=\"", absl::CHexEscape(shown),
      user.size() > shown.size() ? "...\"" : "\"", " outcome=", outcome,
      " peer=", absl::CHexEscape(peer), "\n"));
}

void LogLine(absl::string_view message) {
  Write(absl::StrCat(Now(), " ", message, "\n"));
}

}  // namespace jwtauth::server
