// token_cache.h: a bounded LRU of verified tokens (token -> Caller), in the
// style of Envoy's jwt_authn cache.
//
// Every hit re-checks the entry's expiry against the injected clock, so the
// cache never serves an expired token; an entry also expires `max_age` after
// insertion (remote mode uses it to notice disabled users). Keys are the full
// token string, so a hit means byte-identical input. Size and hit ratio are
// observable. The cache is split into shards with their own locks.
//
//   TokenCache cache({.capacity = 10000}, clock);
//   if (auto caller = cache.Lookup(token)) ...
//
// Thread-safety: thread-safe.
#ifndef JWTAUTH_INTERCEPTORS_TOKEN_CACHE_H_
#define JWTAUTH_INTERCEPTORS_TOKEN_CACHE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "interceptors/caller.h"
#include "jwt/clock.h"

namespace jwtauth::interceptors {

struct TokenCacheOptions {
  // Entries in all; 0 disables the cache.
  size_t capacity = 10'000;
  // Longest an entry is served after it was stored.
  absl::Duration max_age = absl::InfiniteDuration();
};

struct TokenCacheStats {
  size_t size = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  double hit_ratio() const {
    return hits + misses == 0
               ? 0.0
               : static_cast<double>(hits) / static_cast<double>(hits + misses);
  }
};

class TokenCache {
 public:
  TokenCache(TokenCacheOptions options, jwt::Clock clock);

  // Lookup returns the cached caller for `token` if present, unexpired and
  // stored under `generation` (the keys it was verified with; an entry of
  // another generation is dropped).
  std::shared_ptr<const Caller> Lookup(absl::string_view token,
                                       uint64_t generation = 0);
  // Insert stores `caller` for `token` under `generation` (no-op when
  // disabled or already expired).
  void Insert(absl::string_view token, std::shared_ptr<const Caller> caller,
              uint64_t generation = 0);

  TokenCacheStats Stats() const;

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    std::shared_ptr<const Caller> caller;
    absl::Time valid_until;
    uint64_t generation;
    std::list<std::string>::iterator lru;
  };
  struct Shard {
    mutable common::Mutex mu;
    absl::flat_hash_map<std::string, Entry> map ABSL_GUARDED_BY(mu);
    std::list<std::string> lru ABSL_GUARDED_BY(mu);  // front = most recent
  };
  Shard& ShardFor(absl::string_view token);

  const TokenCacheOptions options_;
  const size_t shard_capacity_;
  const jwt::Clock clock_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_TOKEN_CACHE_H_
