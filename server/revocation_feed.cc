#include "server/revocation_feed.h"

#include <algorithm>
#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/auth_error.h"
#include "server/auth_log.h"
#include "server/grpc_status.h"

namespace jwtauth::server {
namespace {

using jwtauth::v1::RevocationEvents;
using EventsPtr = std::shared_ptr<const RevocationEvents>;

void AddToken(const std::string& jti, absl::Time expires_at,
              RevocationEvents* out) {
  jwtauth::v1::RevokedToken* t = out->add_tokens();
  t->set_jti(jti);
  *t->mutable_expires_at() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(
          absl::ToUnixSeconds(expires_at));
}

void AddGeneration(int64_t user_id, int64_t generation, RevocationEvents* out) {
  jwtauth::v1::UserGeneration* g = out->add_users();
  g->set_user_id(absl::StrCat(user_id));
  g->set_generation(generation);
}

// WatchReactor: one WatchRevocations stream. One write is in flight at a
// time; later messages queue (bounded). Finish waits for the write in flight.
class WatchReactor final : public grpc::ServerWriteReactor<RevocationEvents>,
                           public RevocationFeed::Subscriber {
 public:
  WatchReactor(RevocationFeed* feed, size_t max_pending,
               RevocationFeed::Answered answered)
      : feed_(feed),
        max_pending_(max_pending),
        answered_(std::move(answered)) {}

  void EnqueueSnapshot(std::vector<EventsPtr> messages) override {
    common::MutexLock lock(&mu_);
    if (finishing_) return;  // cancelled meanwhile: OnDone answers
    AnswerLocked(absl::OkStatus());
    // Not counted against max_pending: a set of any size is sent whole.
    snapshot_left_ = messages.size();
    for (EventsPtr& m : messages) queue_.push_back(std::move(m));
    WriteNextLocked();
  }

  void Enqueue(EventsPtr events) override {
    common::MutexLock lock(&mu_);
    if (finishing_) return;
    if (queue_.size() - snapshot_left_ >= max_pending_) {
      FinishLocked(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       "watcher too slow: reconnect for a new snapshot"));
      return;
    }
    queue_.push_back(std::move(events));
    WriteNextLocked();
  }

  void Close(const absl::Status& status) override {
    common::MutexLock lock(&mu_);
    AnswerLocked(status);
    // A status without an AuthFailure reason (shutdown) goes out as it is.
    FinishLocked(
        ReasonOf(status).has_value()
            ? ToGrpcStatus(status)
            : grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                           std::string(status.message())));
  }

  void OnWriteDone(bool ok) override {
    common::MutexLock lock(&mu_);
    queue_.pop_front();
    if (snapshot_left_ > 0) --snapshot_left_;
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream broken"));
      return;
    }
    if (finishing_) {
      FinishLocked(pending_status_);
      return;
    }
    WriteNextLocked();
  }

  void OnCancel() override {
    common::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    feed_->Unsubscribe(this);
    {
      common::MutexLock lock(&mu_);
      AnswerLocked(absl::CancelledError("cancelled before its snapshot"));
    }
    delete this;
  }

 private:
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || queue_.empty()) return;
    writing_ = true;
    StartWrite(queue_.front().get());
  }
  void AnswerLocked(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (answered_ == nullptr) return;
    RevocationFeed::Answered answered = std::move(answered_);
    answered_ = nullptr;
    answered(status);
  }

  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (!finishing_) {
      finishing_ = true;
      pending_status_ = status;
    }
    if (writing_) return;  // OnWriteDone finishes
    finished_ = true;
    queue_.clear();
    Finish(pending_status_);
  }

  RevocationFeed* const feed_;
  const size_t max_pending_;
  common::Mutex mu_;
  // Until the call is answered (then empty).
  RevocationFeed::Answered answered_ ABSL_GUARDED_BY(mu_);
  std::deque<EventsPtr> queue_ ABSL_GUARDED_BY(mu_);
  // Snapshot messages at the front of queue_ (not counted by max_pending).
  size_t snapshot_left_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status pending_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

RevocationFeed::RevocationFeed(UserStore* store, jwt::Clock clock,
                               RevocationFeedOptions options)
    : store_(store), clock_(std::move(clock)), options_(options) {}

RevocationFeed::~RevocationFeed() { Stop(); }

void RevocationFeed::Start() {
  Poll();
  poller_ = std::thread([this] { Run(); });
}

void RevocationFeed::Poke() {
  common::MutexLock lock(&mu_);
  poke_ = true;
}

void RevocationFeed::Stop() {
  {
    common::MutexLock lock(&mu_);
    if (!stopping_) {
      stopping_ = true;
      const absl::Status down = absl::UnavailableError("server shutting down");
      for (Subscriber* s : subscribers_) s->Close(down);
      for (const Parked& p : parked_) p.subscriber->Close(down);
    }
  }
  if (poller_.joinable()) poller_.join();
}

void RevocationFeed::Run() {
  for (;;) {
    {
      common::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                               mu_) { return poke_ || stopping_; },
                           options_.poll_interval);
      if (stopping_) return;
    }
    Poll();
  }
}

void RevocationFeed::Poll() {
  int64_t cursor;
  int64_t poll;
  {
    common::MutexLock lock(&mu_);
    // Cleared here, by the poll that serves it (the store is read below), so
    // a Watch never takes a Poke() as served before its poll has started.
    poke_ = false;
    polling_ = true;
    poll = ++polls_started_;
    cursor = cursor_;
  }
  const absl::Time now = clock_();
  absl::StatusOr<Revocations> changes = store_->RevocationsSince(cursor, now);
  if (!changes.ok()) {
    LogLine(absl::StrCat("revocation feed: ", changes.status().message()));
  }
  auto delta = std::make_shared<RevocationEvents>();
  common::MutexLock lock(&mu_);
  polling_ = false;
  if (changes.ok()) {
    // Tokens past their expiry are refused anyway: forget them.
    const size_t before = tokens_.size();
    for (auto it = tokens_.begin(); it != tokens_.end();) {
      auto next = std::next(it);
      if (it->second.second < now) tokens_.erase(it);
      it = next;
    }
    if (tokens_.size() != before || !changes->tokens.empty() ||
        !changes->users.empty() || !snapshot_used_) {
      snapshot_.clear();  // the set changed, or nobody needs the copy
    }
    snapshot_used_ = false;
    for (const Revocations::Token& t : changes->tokens) {
      tokens_[t.jti] = {t.user_id, t.expires_at};
      AddToken(t.jti, t.expires_at, delta.get());
    }
    for (const Revocations::Generation& g : changes->users) {
      generations_[g.user_id] = g.generation;
      AddGeneration(g.user_id, g.generation, delta.get());
    }
    cursor_ = changes->seq;
    loaded_ = true;
    if (delta->tokens_size() > 0 || delta->users_size() > 0) {
      for (Subscriber* s : subscribers_) s->Enqueue(delta);
    }
  }
  if (stopping_) return;  // Stop closed the parked watchers
  // The parked watchers this poll was for: their snapshot now holds every
  // revocation Poke()d before their call (a failed poll: what the feed has).
  std::vector<Parked> later;
  for (const Parked& p : parked_) {
    if (p.poll > poll) {
      later.push_back(p);
    } else if (loaded_) {
      SendSnapshotLocked(p.subscriber);
    } else {
      p.subscriber->Close(StoreUnavailable());
    }
  }
  parked_ = std::move(later);
  if (!parked_.empty()) poke_ = true;  // they wait for the next poll: run it
}

void RevocationFeed::SendSnapshotLocked(Subscriber* s) {
  // The snapshot and the registration under one lock: no change between them
  // is lost or sent twice.
  subscribers_.insert(s);
  s->EnqueueSnapshot(SnapshotLocked());
}

std::vector<EventsPtr> RevocationFeed::SnapshotLocked() {
  snapshot_used_ = true;
  if (!snapshot_.empty()) return snapshot_;
  ++snapshots_built_;
  std::vector<std::shared_ptr<RevocationEvents>> messages;
  // A watcher takes a first message without snapshot_complete as a whole
  // snapshot (a server from before the field): every snapshot message says
  // it, true or false.
  auto current = std::make_shared<RevocationEvents>();
  current->set_snapshot(true);
  current->set_snapshot_complete(false);
  auto flush_if_full = [&] {
    if (static_cast<size_t>(current->tokens_size() + current->users_size()) <
        options_.chunk) {
      return;
    }
    messages.push_back(std::move(current));
    current = std::make_shared<RevocationEvents>();
    current->set_snapshot_complete(false);
  };
  for (const auto& [jti, entry] : tokens_) {
    AddToken(jti, entry.second, current.get());
    flush_if_full();
  }
  for (const auto& [user, generation] : generations_) {
    AddGeneration(user, generation, current.get());
    flush_if_full();
  }
  if (messages.empty() || current->tokens_size() + current->users_size() > 0)
    messages.push_back(std::move(current));
  // The watcher replaces its set only when it has the whole snapshot.
  messages.back()->set_snapshot_complete(true);
  snapshot_.assign(messages.begin(), messages.end());
  return {messages.begin(), messages.end()};
}

grpc::ServerWriteReactor<RevocationEvents>* RevocationFeed::Watch(
    grpc::CallbackServerContext* /*context*/, Answered answered) {
  auto* reactor =
      new WatchReactor(this, options_.max_pending, std::move(answered));
  common::MutexLock lock(&mu_);
  if (stopping_) {
    reactor->Close(absl::UnavailableError("server shutting down"));
  } else if (subscribers_.size() + parked_.size() >= options_.max_watchers) {
    reactor->Close(absl::ResourceExhaustedError("too many watchers"));
  } else if (poke_) {
    // A revocation made here is not in the set yet: wait for the next poll
    // (the poller runs it at once).
    parked_.push_back({reactor, polls_started_ + 1});
  } else if (polling_) {
    // Every Poke() before this call is served by the poll now running.
    parked_.push_back({reactor, polls_started_});
  } else if (!loaded_) {
    reactor->Close(StoreUnavailable());
  } else {
    SendSnapshotLocked(reactor);
  }
  return reactor;
}

void RevocationFeed::Unsubscribe(Subscriber* subscriber) {
  common::MutexLock lock(&mu_);
  subscribers_.erase(subscriber);
  parked_.erase(std::remove_if(parked_.begin(), parked_.end(),
                               [subscriber](const Parked& p) {
                                 return p.subscriber == subscriber;
                               }),
                parked_.end());
}

size_t RevocationFeed::revoked_tokens() const {
  common::MutexLock lock(&mu_);
  return tokens_.size();
}
size_t RevocationFeed::users_with_generation() const {
  common::MutexLock lock(&mu_);
  return generations_.size();
}
size_t RevocationFeed::watchers() const {
  common::MutexLock lock(&mu_);
  return subscribers_.size();
}
uint64_t RevocationFeed::snapshots_built() const {
  common::MutexLock lock(&mu_);
  return snapshots_built_;
}
size_t RevocationFeed::parked_watchers() const {
  common::MutexLock lock(&mu_);
  return parked_.size();
}
int64_t RevocationFeed::cursor() const {
  common::MutexLock lock(&mu_);
  return cursor_;
}

}  // namespace jwtauth::server
