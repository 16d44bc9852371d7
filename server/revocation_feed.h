// revocation_feed.h: the server side of WatchRevocations.
//
// The feed keeps the revocations still in force in memory (revoked jtis until
// their token's expiry, per-user token generations), refreshed from the user
// store every `poll_interval` with RevocationsSince(cursor) — so revocations
// made through another replica sharing the store arrive within about one
// interval — and at once after Poke() (a revocation made here). Each watcher
// first receives the whole set, which includes every revocation Poke()d
// before its call started, in messages of at most `chunk` entries (the
// first says snapshot = true, the last snapshot_complete = true), then every
// change as a delta.
// A watcher that falls `max_pending` deltas behind is finished with
// RESOURCE_EXHAUSTED (it reconnects and takes a new snapshot); Stop() finishes
// every stream with UNAVAILABLE so that server shutdown does not wait on them.
// Until the first successful read of the store, watchers are refused with
// UNAVAILABLE (STORE_UNAVAILABLE). Watchers connecting while the set is
// unchanged share one copy of the snapshot's messages (a reconnection storm
// after a restart costs one build, not one per watcher); the copy is kept
// until the set changes or a poll interval passes with no watcher; at most
// `max_watchers` streams run at once (parked ones included), others are
// refused with RESOURCE_EXHAUSTED. WatchRevocations itself is not
// authenticated: it lists revoked jtis and the user ids with a generation, so
// expose it (like the whole AuthService) only to your services, e.g. with
// mTLS.
//
// Watch never waits for the store: it runs on a gRPC callback thread, and a
// slow or unreachable store (a PostgreSQL timeout) must not hold those. A
// watch that arrives while a poll is running, or while a Poke() is not yet
// served, is parked; the poller sends its snapshot as soon as the first poll
// that started after the call's revocations were Poke()d has finished (or,
// if that poll failed, from what the feed already holds).
//
//   RevocationFeed feed(store, clock);
//   feed.Start();
//   ... return feed.Watch(context);   // in AuthService::WatchRevocations
//   feed.Stop();                      // before grpc::Server::Shutdown
//
// Thread-safety: thread-safe. Destroy only after the gRPC server has shut
// down (no watch stream may still run).
#ifndef JWTAUTH_SERVER_REVOCATION_FEED_H_
#define JWTAUTH_SERVER_REVOCATION_FEED_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "jwt/clock.h"
#include "jwtauth/v1/auth.grpc.pb.h"
#include "server/user_store.h"

namespace jwtauth::server {

struct RevocationFeedOptions {
  absl::Duration poll_interval = absl::Milliseconds(500);
  size_t max_pending = 256;    // deltas queued for one watcher
  size_t chunk = 10'000;       // entries per snapshot message
  size_t max_watchers = 4096;  // streams at once; more: RESOURCE_EXHAUSTED
};

class RevocationFeed {
 public:
  // Subscriber is a watch stream's end of the feed (internal).
  class Subscriber {
   public:
    virtual ~Subscriber() = default;
    // EnqueueSnapshot queues the whole set, first and at once.
    virtual void EnqueueSnapshot(
        std::vector<std::shared_ptr<const jwtauth::v1::RevocationEvents>>
            messages) = 0;
    // Enqueue queues one delta.
    virtual void Enqueue(
        std::shared_ptr<const jwtauth::v1::RevocationEvents> events) = 0;
    virtual void Close(const absl::Status& status) = 0;
  };

  // Answered is told, once per call, how the feed answered it: OK when its
  // snapshot is queued, or the status it was refused with before that
  // (STORE_UNAVAILABLE, UNAVAILABLE at shutdown, CANCELLED by the client
  // while parked). A stream's later end is not reported: it is the normal
  // end of a watch. Runs under the stream's lock (and maybe the feed's):
  // quick, never calls the feed.
  using Answered = std::function<void(const absl::Status&)>;

  RevocationFeed(UserStore* store, jwt::Clock clock,
                 RevocationFeedOptions options = {});
  ~RevocationFeed();
  RevocationFeed(const RevocationFeed&) = delete;
  RevocationFeed& operator=(const RevocationFeed&) = delete;

  // Start reads the store once (a failure is retried by the poller) and
  // starts polling.
  void Start();
  // Poke asks for a poll now (after a revocation made by this server).
  void Poke();
  // Stop ends every watch stream with UNAVAILABLE and stops polling.
  void Stop();

  // Watch serves one WatchRevocations call; `answered` may be empty.
  grpc::ServerWriteReactor<jwtauth::v1::RevocationEvents>* Watch(
      grpc::CallbackServerContext* context, Answered answered = nullptr);

  // Observability (for /metrics and tests).
  size_t revoked_tokens() const;
  size_t users_with_generation() const;
  size_t watchers() const;         // streaming (snapshot sent)
  size_t parked_watchers() const;  // waiting for a poll to finish
  uint64_t snapshots_built() const;
  int64_t cursor() const;

  // Used by the stream reactor.
  void Unsubscribe(Subscriber* subscriber);

 private:
  struct Parked {
    Subscriber* subscriber;
    int64_t poll;  // the poll (by polls_started_) whose end it waits for
  };

  // Poll reads changes since the cursor (serving any pending Poke()), sends
  // them to the watchers, then serves the parked watchers that waited for
  // this poll. One at a time: Start, then only the poller thread.
  void Poll() ABSL_LOCKS_EXCLUDED(mu_);
  void Run();
  // SendSnapshotLocked registers `s` and queues the whole set to it.
  void SendSnapshotLocked(Subscriber* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // SnapshotLocked returns the snapshot's messages, built again only when
  // the set changed or a poll found them unused since the one before.
  std::vector<std::shared_ptr<const jwtauth::v1::RevocationEvents>>
  SnapshotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  UserStore* const store_;
  const jwt::Clock clock_;
  const RevocationFeedOptions options_;

  mutable common::Mutex mu_;
  // jti -> (user_id, expires_at)
  absl::flat_hash_map<std::string, std::pair<int64_t, absl::Time>> tokens_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, int64_t> generations_ ABSL_GUARDED_BY(mu_);
  int64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  bool poke_ ABSL_GUARDED_BY(mu_) = false;
  bool polling_ ABSL_GUARDED_BY(mu_) = false;
  int64_t polls_started_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Subscriber*> subscribers_ ABSL_GUARDED_BY(mu_);
  std::vector<Parked> parked_ ABSL_GUARDED_BY(mu_);
  // The last snapshot built; empty when the set changed since.
  std::vector<std::shared_ptr<const jwtauth::v1::RevocationEvents>> snapshot_
      ABSL_GUARDED_BY(mu_);
  bool snapshot_used_ ABSL_GUARDED_BY(mu_) = false;  // since the last poll
  uint64_t snapshots_built_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread poller_;  // the only caller of Poll after Start
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_REVOCATION_FEED_H_
