// revocation_watcher.h: revocations for services that validate tokens
// locally, learnt from the auth server's WatchRevocations stream.
//
// The watcher keeps the revocations in force in memory — revoked jtis until
// their token's expiry, per-user token generations — and answers IsRevoked
// from them without any network call. Every stream starts with a snapshot,
// in one or more messages (snapshot = true on the first, snapshot_complete =
// true on the last), that replaces what was held once it is complete; later
// deltas add to it. Revocations arrive within about a second of RevokeToken
// (the feed is poked at once; other replicas' within its poll interval).
//
//   auto watcher = std::make_shared<RevocationWatcher>();
//   watcher->Start(auth_address, grpc::InsecureChannelCredentials());
//   auto validator = LocalValidator(verifier, {}, clock, watcher);
//   ...
//   watcher->Stop();   // or let the destructor do it
//
// Bounds: revoked jtis are dropped once their token has expired (the token is
// refused anyway), checked with the injected clock on every message and every
// `sweep_interval`; at most `max_entries` jtis are held, and when over, the
// soonest-expiring are dropped and counted (dropped_over_capacity). (Above
// 1,024 entries the set is split into 16 independently locked shards, each
// holding max_entries / 16 and evicting its own soonest-expiring.)
//
// Failures: any end of the stream (server restart, network, the feed
// refusing a slow watcher) is followed by a reconnection after a jittered
// exponential backoff (`initial_backoff` doubling to `max_backoff`; reset by a
// stream that delivered a whole snapshot); the new stream's snapshot replaces
// the old set. Never forgetting a revocation while resynchronising: the chunks
// of a new snapshot are added to the set held as they arrive, and only when the
// snapshot is complete are the entries it did not list dropped (each entry
// carries the number of the last snapshot that listed it). A stream lost
// mid-snapshot drops nothing. Until the snapshot is complete the stream does
// not count as connected (stale() keeps counting). A first message without
// snapshot_complete (a server from before the field) is a whole snapshot.
// While a resynchronisation holds the old and the new entries together, the
// max_entries bound evicts the entries not listed again first.
//
// Policy while disconnected — fail open by default: the last known set keeps
// being enforced, revocations made meanwhile are learnt on reconnection, and
// before the first snapshot only what has arrived of it is known. With
// `max_staleness` set, once the stream has been down (or, before the first
// snapshot, the watcher has been started) for longer than that, stale() is
// true and IsRevoked answers true for every token (LocalValidator then refuses
// calls with UNAVAILABLE, see revocation_checker.h).
//
// Generations: a token is revoked when its user is listed and the token's gen
// claim (0 when absent) differs from the listed generation. An unlisted user
// has generation 0 on the server, but the watcher does not refuse that user's
// gen > 0 tokens (it cannot tell "never revoked" from "not yet learnt").
//
// Thread-safety: thread-safe. IsRevoked takes one shard lock for one or two
// hash lookups. Start at most once; Stop (or the destructor) ends the stream
// promptly (the call is cancelled) and joins the watcher's thread.
#ifndef JWTAUTH_INTERCEPTORS_REVOCATION_WATCHER_H_
#define JWTAUTH_INTERCEPTORS_REVOCATION_WATCHER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "interceptors/revocation_checker.h"
#include "jwt/clock.h"
#include "jwtauth/v1/auth.pb.h"

namespace jwtauth::interceptors {

struct RevocationWatcherOptions {
  // Revoked jtis held at most; the soonest-expiring go first.
  size_t max_entries = 1'000'000;
  // Reconnection backoff: initial_backoff doubling up to max_backoff, each
  // wait jittered to a random 50-100 % of its nominal value.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // How often expired jtis are dropped while the stream is quiet.
  absl::Duration sweep_interval = absl::Seconds(1);
  // Disconnected for longer than this: stale() and every token is refused.
  // InfiniteDuration (the default) keeps enforcing the last known set.
  absl::Duration max_staleness = absl::InfiniteDuration();
};

struct RevocationWatcherStats {
  size_t entries = 0;       // revoked jtis held
  size_t users = 0;         // users with a generation
  uint64_t reconnects = 0;  // stream attempts after the first
  uint64_t dropped_expired = 0;
  uint64_t dropped_over_capacity = 0;
  bool connected = false;  // the current stream delivered its whole snapshot
  bool synced = false;
  // When the last message arrived (injected clock); InfinitePast if never.
  absl::Time last_event = absl::InfinitePast();
};

class RevocationWatcher final : public RevocationChecker {
 public:
  explicit RevocationWatcher(RevocationWatcherOptions options = {},
                             jwt::Clock clock = jwt::SystemClock());
  ~RevocationWatcher() override;
  RevocationWatcher(const RevocationWatcher&) = delete;
  RevocationWatcher& operator=(const RevocationWatcher&) = delete;

  // Start watches jwtauth.v1.AuthService/WatchRevocations over `channel` on
  // the watcher's own thread until Stop. The channel's own reconnection
  // backoff (gRPC's default grows to 120 s) also delays resynchronisation:
  // prefer the overload below, or cap GRPC_ARG_MAX_RECONNECT_BACKOFF_MS.
  void Start(std::shared_ptr<grpc::ChannelInterface> channel);
  // Start over a channel to `target` made for watching: its reconnection
  // backoff follows initial_backoff / max_backoff.
  void Start(const std::string& target,
             std::shared_ptr<grpc::ChannelCredentials> credentials);
  // Stop cancels the stream and joins the thread; idempotent.
  void Stop();

  bool IsRevoked(absl::string_view jti, std::optional<int64_t> user_id,
                 int64_t generation) const override;
  bool stale() const override;
  // synced is true once a whole snapshot has been received (on this or an
  // earlier stream).
  bool synced() const { return synced_.load(std::memory_order_acquire); }
  RevocationWatcherStats Stats() const;

  // Apply applies one stream message (`first`: the stream's first message).
  // Used by the stream, one message at a time; public for tests.
  void Apply(const jwtauth::v1::RevocationEvents& events, bool first);
  // DropExpired drops jtis whose token has expired (by the injected clock).
  void DropExpired();

 private:
  class Stream;
  // Each entry remembers the last snapshot that listed it (or the snapshot
  // in force when a delta brought it): a complete snapshot drops the older.
  // A shard keeps its jtis in two expiry orders: `current` holds those of
  // the current snapshot, `older` those from before it not listed again
  // (yet). A new snapshot moves `current` into `older`; the max_entries
  // bound evicts from `older` first, so a resynchronisation near capacity
  // never drops a newly listed revocation for one about to be dropped.
  struct TokenEntry {
    absl::Time expires_at;
    uint64_t snapshot;
  };
  struct GenerationEntry {
    int64_t generation;
    uint64_t snapshot;
  };
  struct Shard {
    mutable common::Mutex mu;
    absl::flat_hash_map<std::string, TokenEntry> tokens ABSL_GUARDED_BY(mu);
    // (expires_at, jti), soonest first; every jti is in exactly one.
    absl::btree_set<std::pair<absl::Time, std::string>> current
        ABSL_GUARDED_BY(mu);
    absl::btree_set<std::pair<absl::Time, std::string>> older
        ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<int64_t, GenerationEntry> generations
        ABSL_GUARDED_BY(mu);
  };

  Shard& ShardForJti(absl::string_view jti) const;
  Shard& ShardForUser(int64_t user_id) const;
  void AddToken(const std::string& jti, absl::Time expires_at, absl::Time now,
                uint64_t snapshot);
  // StartSnapshot makes every entry older than the snapshot starting.
  void StartSnapshot();
  // DropUnlisted drops the entries no snapshot since `snapshot` listed.
  void DropUnlisted(uint64_t snapshot);
  void Run(std::shared_ptr<grpc::ChannelInterface> channel);
  void StreamEnded();

  const RevocationWatcherOptions options_;
  const jwt::Clock clock_;
  const size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;

  std::atomic<bool> synced_{false};
  std::atomic<bool> connected_{false};
  // When the stream was last lost (or the watcher started), unix nanos.
  std::atomic<int64_t> down_since_nanos_;
  std::atomic<int64_t> last_event_nanos_;
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<uint64_t> snapshots_completed_{0};
  std::atomic<uint64_t> dropped_expired_{0};
  std::atomic<uint64_t> dropped_over_capacity_{0};

  common::Mutex apply_mu_;  // one Apply at a time
  // Snapshots started (each stream's first message starts one).
  uint64_t snapshot_ ABSL_GUARDED_BY(apply_mu_) = 0;
  // The current snapshot has started and is not complete yet.
  bool in_snapshot_ ABSL_GUARDED_BY(apply_mu_) = false;

  common::Mutex mu_;  // the stream's lifecycle
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_done_ ABSL_GUARDED_BY(mu_) = true;
  int cancelling_ ABSL_GUARDED_BY(mu_) = 0;  // Stop calls inside TryCancel
  Stream* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_REVOCATION_WATCHER_H_
