#include "interceptors/revocation_watcher.h"

#include <algorithm>
#include <limits>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "interceptors/reconnecting_channel.h"
#include "jwtauth/v1/auth.grpc.pb.h"

namespace jwtauth::interceptors {
namespace {

constexpr size_t kShards = 16;
// Below this many entries one shard keeps eviction exact.
constexpr size_t kMinEntriesToShard = 1024;

constexpr int64_t kNever = std::numeric_limits<int64_t>::min();

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace

// Stream: one WatchRevocations call (callback API). Messages are applied on
// gRPC's callback thread as they arrive; OnDone tells the watcher's thread,
// which owns this object and destroys it after OnDone.
class RevocationWatcher::Stream final
    : public grpc::ClientReadReactor<jwtauth::v1::RevocationEvents> {
 public:
  explicit Stream(RevocationWatcher* watcher) : watcher_(watcher) {}

  // Begin starts the call (outside the watcher's lock: reactions may run
  // inline).
  void Begin(jwtauth::v1::AuthService::Stub* stub) {
    stub->async()->WatchRevocations(&context_, &request_, this);
    StartRead(&events_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    watcher_->Apply(events_, first_);
    first_ = false;
    events_.Clear();
    StartRead(&events_);
  }

  void OnDone(const grpc::Status& /*status*/) override {
    watcher_->StreamEnded();  // last touch of this object
  }

  void Cancel() { context_.TryCancel(); }

 private:
  RevocationWatcher* const watcher_;
  grpc::ClientContext context_;
  jwtauth::v1::WatchRevocationsRequest request_;
  jwtauth::v1::RevocationEvents events_;
  bool first_ = true;  // only reactions touch it, one at a time
};

RevocationWatcher::RevocationWatcher(RevocationWatcherOptions options,
                                     jwt::Clock clock)
    : options_(options),
      clock_(std::move(clock)),
      shard_capacity_(
          std::max<size_t>(1, options.max_entries >= kMinEntriesToShard
                                  ? options.max_entries / kShards
                                  : options.max_entries)),
      down_since_nanos_(absl::ToUnixNanos(clock_())),
      last_event_nanos_(kNever) {
  const size_t n = options.max_entries >= kMinEntriesToShard ? kShards : 1;
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

RevocationWatcher::~RevocationWatcher() { Stop(); }

RevocationWatcher::Shard& RevocationWatcher::ShardForJti(
    absl::string_view jti) const {
  return *shards_[absl::HashOf(jti) % shards_.size()];
}

RevocationWatcher::Shard& RevocationWatcher::ShardForUser(
    int64_t user_id) const {
  return *shards_[absl::HashOf(user_id) % shards_.size()];
}

void RevocationWatcher::Start(std::shared_ptr<grpc::ChannelInterface> channel) {
  down_since_nanos_.store(absl::ToUnixNanos(clock_()));
  thread_ = std::thread([this, channel = std::move(channel)] { Run(channel); });
}

void RevocationWatcher::Start(
    const std::string& target,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  Start(ReconnectingChannel(target, std::move(credentials),
                            options_.initial_backoff, options_.max_backoff));
}

void RevocationWatcher::Stop() {
  Stream* stream = nullptr;
  {
    common::MutexLock lock(&mu_);
    stopping_ = true;
    if (!stream_done_ && stream_ != nullptr) {
      stream = stream_;
      ++cancelling_;  // the thread keeps the stream until TryCancel returns
    }
  }
  // Outside the lock: TryCancel may run the stream's reactions inline.
  if (stream != nullptr) {
    stream->Cancel();
    common::MutexLock lock(&mu_);
    --cancelling_;
  }
  if (thread_.joinable()) thread_.join();
}

void RevocationWatcher::StreamEnded() {
  // Down since the connection was lost: failed attempts do not restart it.
  if (connected_.exchange(false, std::memory_order_acq_rel))
    down_since_nanos_.store(absl::ToUnixNanos(clock_()));
  common::MutexLock lock(&mu_);
  stream_done_ = true;
}

void RevocationWatcher::Run(std::shared_ptr<grpc::ChannelInterface> channel) {
  std::unique_ptr<jwtauth::v1::AuthService::Stub> stub =
      jwtauth::v1::AuthService::NewStub(channel);
  std::mt19937_64 rng(std::random_device{}());
  absl::Duration backoff = options_.initial_backoff;
  bool first_attempt = true;
  for (;;) {
    std::unique_ptr<Stream> stream;
    {
      common::MutexLock lock(&mu_);
      if (stopping_) return;
      if (!first_attempt) reconnects_.fetch_add(1);
      first_attempt = false;
      stream_done_ = false;
      stream = std::make_unique<Stream>(this);
      stream_ = stream.get();
    }
    stream->Begin(stub.get());
    const uint64_t completed_before = snapshots_completed_.load();
    // While the stream runs: sweep expired entries now and then.
    for (;;) {
      {
        common::MutexLock lock(&mu_);
        if (mu_.AwaitWithTimeout(
                [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                  return stream_done_ && cancelling_ == 0;
                },
                options_.sweep_interval)) {
          stream_ = nullptr;
          break;
        }
      }
      DropExpired();
    }
    stream.reset();
    DropExpired();
    // A stream that delivered a whole snapshot was healthy: start backing off
    // anew (one cut short mid-snapshot, e.g. refused as too slow, was not).
    if (snapshots_completed_.load() != completed_before)
      backoff = options_.initial_backoff;
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    const absl::Duration wait = backoff * jitter(rng);
    backoff = std::min(backoff * 2, options_.max_backoff);
    common::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; },
        wait);
  }
}

void RevocationWatcher::AddToken(const std::string& jti, absl::Time expires_at,
                                 absl::Time now, uint64_t snapshot) {
  if (expires_at < now) return;  // refused anyway
  Shard& shard = ShardForJti(jti);
  common::MutexLock lock(&shard.mu);
  auto [it, inserted] =
      shard.tokens.try_emplace(jti, TokenEntry{expires_at, snapshot});
  if (!inserted) {
    TokenEntry& entry = it->second;
    if (entry.snapshot == snapshot && entry.expires_at == expires_at) return;
    (entry.snapshot == snapshot ? shard.current : shard.older)
        .erase({entry.expires_at, jti});
    entry = TokenEntry{expires_at, snapshot};
  }
  shard.current.insert({expires_at, jti});
  while (shard.tokens.size() > shard_capacity_) {
    auto& from = shard.older.empty() ? shard.current : shard.older;
    auto soonest = from.begin();
    shard.tokens.erase(soonest->second);
    from.erase(soonest);
    dropped_over_capacity_.fetch_add(1);
  }
}

void RevocationWatcher::StartSnapshot() {
  for (const std::unique_ptr<Shard>& shard : shards_) {
    common::MutexLock lock(&shard->mu);
    if (shard->older.empty()) {
      std::swap(shard->older, shard->current);
    } else {  // the previous snapshot never completed
      shard->older.insert(shard->current.begin(), shard->current.end());
      shard->current.clear();
    }
  }
}

void RevocationWatcher::DropUnlisted(uint64_t snapshot) {
  for (const std::unique_ptr<Shard>& shard : shards_) {
    common::MutexLock lock(&shard->mu);
    for (const auto& [expires_at, jti] : shard->older) shard->tokens.erase(jti);
    shard->older.clear();
    absl::erase_if(shard->generations, [snapshot](const auto& entry) {
      return entry.second.snapshot < snapshot;
    });
  }
}

void RevocationWatcher::Apply(const jwtauth::v1::RevocationEvents& events,
                              bool first) {
  const absl::Time now = clock_();
  common::MutexLock apply_lock(&apply_mu_);
  if (first) {
    // A new stream: its snapshot is added to what is held (a revocation
    // listed in a later chunk stays enforced meanwhile) and replaces it once
    // complete.
    ++snapshot_;
    StartSnapshot();
    in_snapshot_ = events.snapshot();
  }
  // A server from before snapshot_complete sends the whole snapshot in its
  // first message.
  const bool completes =
      in_snapshot_ && (events.snapshot_complete() ||
                       (first && !events.has_snapshot_complete()));
  for (const jwtauth::v1::RevokedToken& t : events.tokens()) {
    if (t.jti().empty()) continue;
    AddToken(t.jti(), ToTime(t.expires_at()), now, snapshot_);
  }
  for (const jwtauth::v1::UserGeneration& g : events.users()) {
    int64_t user_id;
    if (!absl::SimpleAtoi(g.user_id(), &user_id)) continue;
    Shard& shard = ShardForUser(user_id);
    common::MutexLock lock(&shard.mu);
    shard.generations[user_id] = {g.generation(), snapshot_};
  }
  last_event_nanos_.store(absl::ToUnixNanos(now));
  if (completes) {
    in_snapshot_ = false;
    // Connected before the replaced set is visible: whoever sees it through
    // a shard's lock also sees the stream as up.
    connected_.store(true, std::memory_order_release);
    DropUnlisted(snapshot_);
    synced_.store(true, std::memory_order_release);
    snapshots_completed_.fetch_add(1, std::memory_order_release);
  }
  DropExpired();
}

void RevocationWatcher::DropExpired() {
  const absl::Time now = clock_();
  for (const std::unique_ptr<Shard>& shard : shards_) {
    common::MutexLock lock(&shard->mu);
    for (auto* order : {&shard->current, &shard->older}) {
      while (!order->empty() && order->begin()->first < now) {
        shard->tokens.erase(order->begin()->second);
        order->erase(order->begin());
        dropped_expired_.fetch_add(1);
      }
    }
  }
}

bool RevocationWatcher::stale() const {
  if (options_.max_staleness == absl::InfiniteDuration()) return false;
  if (connected_.load(std::memory_order_acquire)) return false;
  return clock_() - absl::FromUnixNanos(down_since_nanos_.load()) >
         options_.max_staleness;
}

bool RevocationWatcher::IsRevoked(absl::string_view jti,
                                  std::optional<int64_t> user_id,
                                  int64_t generation) const {
  if (stale()) return true;
  if (!jti.empty()) {
    Shard& shard = ShardForJti(jti);
    common::MutexLock lock(&shard.mu);
    if (shard.tokens.contains(jti)) return true;
  }
  if (user_id.has_value()) {
    Shard& shard = ShardForUser(*user_id);
    common::MutexLock lock(&shard.mu);
    auto it = shard.generations.find(*user_id);
    if (it != shard.generations.end() && it->second.generation != generation)
      return true;
  }
  return false;
}

RevocationWatcherStats RevocationWatcher::Stats() const {
  RevocationWatcherStats s;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    common::MutexLock lock(&shard->mu);
    s.entries += shard->tokens.size();
    s.users += shard->generations.size();
  }
  s.reconnects = reconnects_.load();
  s.dropped_expired = dropped_expired_.load();
  s.dropped_over_capacity = dropped_over_capacity_.load();
  s.connected = connected_.load();
  s.synced = synced_.load();
  const int64_t last = last_event_nanos_.load();
  s.last_event =
      last == kNever ? absl::InfinitePast() : absl::FromUnixNanos(last);
  return s;
}

}  // namespace jwtauth::interceptors
