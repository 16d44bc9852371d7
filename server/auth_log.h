// auth_log.h: one line per authentication decision, on standard error:
//   2026-11-29T06:12:00.123Z auth method=ObtainToken user="ada" outcome=OK
//   peer=ipv4:127.0.0.1
// User names are escaped (no control characters reach the log); passwords,
// secrets and tokens are never passed here.
// Thread-safety: thread-safe (one write(2) per line).
#ifndef JWTAUTH_SERVER_AUTH_LOG_H_
#define JWTAUTH_SERVER_AUTH_LOG_H_

#include "absl/strings/string_view.h"

namespace jwtauth::server {

// LogAuthDecision writes the line; `outcome` is "OK" or a reason.
void LogAuthDecision(absl::string_view method, absl::string_view user,
                     absl::string_view outcome, absl::string_view peer);

// LogLine writes a timestamped operational message.
void LogLine(absl::string_view message);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_AUTH_LOG_H_
