// login_throttle.h: limits failed logins per username and per peer.
//
// Each failed login counts against its username and its peer address; once a
// key has `max_failures` failures inside `window`, further attempts on that
// key are refused until the oldest failure leaves the window. A success
// clears the username's failures (not the peer's). Keys are independent, so
// an attack on one username does not lock out other usernames, and an
// attacker spreading over many usernames is held back by its peer key. An
// IPv6 peer's key is its /64 (a host commonly holds a whole /64), an IPv4
// peer's its address.
// Memory is bounded: at most `max_keys` keys are tracked; the least recently
// touched are dropped first.
//
//   LoginThrottle throttle({}, clock);
//   if (auto wait = throttle.Admit("ada", "ipv4:10.0.0.1")) ...
//   RESOURCE_EXHAUSTED
//   ... check the password ...; on success: throttle.Succeeded("ada", peer);
//
// Admit counts an attempt as a failure the moment it is admitted, so a burst
// of concurrent attempts cannot all pass the check before any of them fails:
// at most the limit of attempts per key are admitted per window, however
// many arrive at once.
//
// Thread-safety: thread-safe.
#ifndef JWTAUTH_SERVER_LOGIN_THROTTLE_H_
#define JWTAUTH_SERVER_LOGIN_THROTTLE_H_

#include <cstddef>
#include <deque>
#include <list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "jwt/clock.h"

namespace jwtauth::server {

struct ThrottleOptions {
  int max_failures_per_username = 5;
  int max_failures_per_peer = 20;
  absl::Duration window = absl::Minutes(5);
  size_t max_keys = 100'000;
};

class LoginThrottle {
 public:
  LoginThrottle(ThrottleOptions options, jwt::Clock clock);

  // Check returns how long to wait when `username` or `peer` is throttled, or
  // nullopt when the attempt may proceed. The wait is rounded up to whole
  // seconds (at least 1) as DRF reports it.
  std::optional<absl::Duration> Check(absl::string_view username,
                                      absl::string_view peer);
  // Admit is Check and, when the attempt may proceed, RecordFailure, in one
  // step under one lock.
  std::optional<absl::Duration> Admit(absl::string_view username,
                                      absl::string_view peer);
  // Succeeded undoes an admitted attempt that turned out to be a successful
  // login: the username's failures are cleared and the peer's count for
  // this attempt is taken back.
  void Succeeded(absl::string_view username, absl::string_view peer);
  // Withdraw takes back an admitted attempt that never got to check the
  // password (e.g. the user store was down): one count from each key.
  void Withdraw(absl::string_view username, absl::string_view peer);
  void RecordFailure(absl::string_view username, absl::string_view peer);
  void RecordSuccess(absl::string_view username);

  size_t tracked_keys() const;

 private:
  struct Entry {
    std::deque<absl::Time> failures;
    std::list<std::string>::iterator lru;
  };
  std::optional<absl::Duration> WaitFor(const std::string& key, int limit,
                                        absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Add(const std::string& key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<absl::Duration> CheckLocked(absl::string_view username,
                                            absl::string_view peer,
                                            absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Erase(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PopNewest(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ThrottleOptions options_;
  const jwt::Clock clock_;
  mutable common::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_LOGIN_THROTTLE_H_
