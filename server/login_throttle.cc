// login_throttle.cc: sliding-window failure counts per username and per peer,
// in an LRU-bounded map.
#include "server/login_throttle.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace jwtauth::server {
namespace {

// Prefixes keep the two key spaces apart: a username can never be mistaken
// for a peer address.
constexpr absl::string_view kUserPrefix = "user:";
constexpr absl::string_view kPeerPrefix = "peer:";

std::string UserKey(absl::string_view username) {
  return absl::StrCat(kUserPrefix, username);
}
// PeerKey keys an IPv6 peer ("ipv6:[addr]", PeerAddress's form) by its /64:
// one host commonly holds a whole /64 and could otherwise take a fresh
// address, and a fresh peer budget, for every attempt. IPv4-mapped addresses
// and everything else are keyed as they are.
std::string PeerKey(absl::string_view peer) {
  absl::string_view host = peer;
  if (absl::ConsumePrefix(&host, "ipv6:[")) {
    const size_t close = host.find(']');
    in6_addr addr;
    if (close != absl::string_view::npos &&
        inet_pton(AF_INET6, std::string(host.substr(0, close)).c_str(),
                  &addr) == 1 &&
        !IN6_IS_ADDR_V4MAPPED(&addr)) {
      std::fill(addr.s6_addr + 8, addr.s6_addr + 16, uint8_t{0});
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(AF_INET6, &addr, text, sizeof(text)) != nullptr)
        return absl::StrCat(kPeerPrefix, "ipv6:[", text, "]/64");
    }
  }
  return absl::StrCat(kPeerPrefix, peer);
}

// Prune drops failures that have left the window ending at `now` (a failure
// at t counts while now - t < window), and all but the newest `limit`
// failures, which are the only ones that can matter to a decision.
void Prune(std::deque<absl::Time>& failures, absl::Duration window, int limit,
           absl::Time now) {
  while (!failures.empty() && failures.front() <= now - window)
    failures.pop_front();
  while (limit > 0 && failures.size() > static_cast<size_t>(limit))
    failures.pop_front();
}

}  // namespace

LoginThrottle::LoginThrottle(ThrottleOptions options, jwt::Clock clock)
    : options_(std::move(options)), clock_(std::move(clock)) {}

std::optional<absl::Duration> LoginThrottle::Check(absl::string_view username,
                                                   absl::string_view peer) {
  const absl::Time now = clock_();
  common::MutexLock lock(&mu_);
  return CheckLocked(username, peer, now);
}

std::optional<absl::Duration> LoginThrottle::Admit(absl::string_view username,
                                                   absl::string_view peer) {
  const absl::Time now = clock_();
  common::MutexLock lock(&mu_);
  std::optional<absl::Duration> wait = CheckLocked(username, peer, now);
  if (wait.has_value()) return wait;
  Add(UserKey(username), now);
  Add(PeerKey(peer), now);
  return std::nullopt;
}

void LoginThrottle::Succeeded(absl::string_view username,
                              absl::string_view peer) {
  common::MutexLock lock(&mu_);
  Erase(UserKey(username));
  PopNewest(PeerKey(peer));  // this attempt's count
}

void LoginThrottle::Withdraw(absl::string_view username,
                             absl::string_view peer) {
  common::MutexLock lock(&mu_);
  PopNewest(UserKey(username));
  PopNewest(PeerKey(peer));
}

void LoginThrottle::PopNewest(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (!it->second.failures.empty()) it->second.failures.pop_back();
  if (it->second.failures.empty()) Erase(key);
}

void LoginThrottle::Erase(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

std::optional<absl::Duration> LoginThrottle::CheckLocked(
    absl::string_view username, absl::string_view peer, absl::Time now) {
  std::optional<absl::Duration> user_wait =
      WaitFor(UserKey(username), options_.max_failures_per_username, now);
  std::optional<absl::Duration> peer_wait =
      WaitFor(PeerKey(peer), options_.max_failures_per_peer, now);
  if (user_wait.has_value() && peer_wait.has_value())
    return std::max(*user_wait, *peer_wait);
  return user_wait.has_value() ? user_wait : peer_wait;
}

void LoginThrottle::RecordFailure(absl::string_view username,
                                  absl::string_view peer) {
  const absl::Time now = clock_();
  common::MutexLock lock(&mu_);
  Add(UserKey(username), now);
  Add(PeerKey(peer), now);
}

void LoginThrottle::RecordSuccess(absl::string_view username) {
  common::MutexLock lock(&mu_);
  Erase(UserKey(username));
}

size_t LoginThrottle::tracked_keys() const {
  common::MutexLock lock(&mu_);
  return entries_.size();
}

std::optional<absl::Duration> LoginThrottle::WaitFor(const std::string& key,
                                                     int limit,
                                                     absl::Time now) {
  if (limit <= 0) return std::nullopt;  // this kind of key is not limited
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  Entry& entry = it->second;
  Prune(entry.failures, options_.window, limit, now);
  if (entry.failures.empty()) {
    lru_.erase(entry.lru);
    entries_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, entry.lru);
  if (entry.failures.size() < static_cast<size_t>(limit)) return std::nullopt;
  // After pruning, the oldest kept failure is the one whose expiry brings the
  // count below the limit. A clock that went backwards cannot make the wait
  // longer than one window.
  absl::Duration wait =
      std::min(entry.failures.front() + options_.window - now, options_.window);
  wait = absl::Ceil(wait, absl::Seconds(1));
  return std::max(wait, absl::Seconds(1));
}

void LoginThrottle::Add(const std::string& key, absl::Time now) {
  if (options_.max_keys == 0) return;
  const int limit = absl::StartsWith(key, kUserPrefix)
                        ? options_.max_failures_per_username
                        : options_.max_failures_per_peer;
  if (limit <= 0) return;  // not limited: nothing worth remembering
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    while (entries_.size() >= options_.max_keys && !lru_.empty()) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = entries_.emplace(key, Entry{{}, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  it->second.failures.push_back(now);
  Prune(it->second.failures, options_.window, limit, now);
  if (it->second.failures.empty()) {  // a window of zero or less keeps nothing
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
}

}  // namespace jwtauth::server
