#include "interceptors/token_cache.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace jwtauth::interceptors {

TokenCache::TokenCache(TokenCacheOptions options, jwt::Clock clock)
    : options_(options),
      shard_capacity_(options.capacity == 0
                          ? 0
                          : std::max<size_t>(1, options.capacity / kShards)),
      clock_(std::move(clock)) {}

TokenCache::Shard& TokenCache::ShardFor(absl::string_view token) {
  return shards_[absl::HashOf(token) % kShards];
}

std::shared_ptr<const Caller> TokenCache::Lookup(absl::string_view token,
                                                 uint64_t generation) {
  if (shard_capacity_ == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Shard& shard = ShardFor(token);
  const absl::Time now = clock_();
  common::MutexLock lock(&shard.mu);
  auto it = shard.map.find(token);
  if (it == shard.map.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  // Never serve an expired token, or one verified with other keys.
  if (now >= it->second.valid_until || it->second.generation != generation) {
    shard.lru.erase(it->second.lru);
    shard.map.erase(it);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second.caller;
}

void TokenCache::Insert(absl::string_view token,
                        std::shared_ptr<const Caller> caller,
                        uint64_t generation) {
  if (shard_capacity_ == 0 || caller == nullptr) return;
  const absl::Time now = clock_();
  const absl::Time valid_until =
      std::min(caller->expires_at, now + options_.max_age);
  if (valid_until <= now) return;
  Shard& shard = ShardFor(token);
  common::MutexLock lock(&shard.mu);
  auto it = shard.map.find(token);
  if (it != shard.map.end()) {
    it->second.caller = std::move(caller);
    it->second.valid_until = valid_until;
    it->second.generation = generation;
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
    return;
  }
  while (shard.map.size() >= shard_capacity_) {
    shard.map.erase(shard.lru.back());
    shard.lru.pop_back();
  }
  shard.lru.emplace_front(token);
  shard.map.emplace(shard.lru.front(), Entry{std::move(caller), valid_until,
                                             generation, shard.lru.begin()});
}

TokenCacheStats TokenCache::Stats() const {
  TokenCacheStats stats;
  for (const Shard& shard : shards_) {
    common::MutexLock lock(&shard.mu);
    stats.size += shard.map.size();
  }
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace jwtauth::interceptors
