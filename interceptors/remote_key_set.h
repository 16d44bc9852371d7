// remote_key_set.h: the auth server's public keys for local validation,
// fetched with jwtauth.v1.AuthService/GetJwks over a gRPC channel and kept
// fresh, so a service validating locally follows key rotations without
// copies of key files.
//
//   absl::StatusOr<std::shared_ptr<RemoteKeySet>> keys =
//       RemoteKeySet::Create({.validator = validator_options});
//   (*keys)->Start(auth_address, grpc::InsecureChannelCredentials());
//   auto validator = LocalValidator(*keys, cache, clock, watcher);
//
// Fetching: Start fetches at once on the key set's own thread, then every
// `refresh_interval` (after a failure: a jittered backoff from
// `initial_backoff` doubling to `max_backoff`). When a token names a kid the
// held set lacks (ForUnknownKid: a rotation not yet seen), the set is
// fetched at once on the caller's thread — but at most once per
// `min_refetch_interval` by the injected clock, so a flood of tokens with
// made-up kids costs the auth server one GetJwks per interval. One fetch runs
// at a time; callers arriving meanwhile wait for its result.
//
// Failures: until a first successful fetch, Current() is UNAVAILABLE (and
// LocalValidator answers UNAVAILABLE, never a verdict on the token). After
// that, a failed fetch keeps the last good set. An answer that is not a
// usable JWK Set is a failed fetch; an empty set (the auth server signs with
// an HS* secret, which is never published) is FAILED_PRECONDITION saying so.
// The last failure is in Stats().last_error.
//
// Hot path: Current() is one atomic load of a shared_ptr to an immutable
// jwt::Verifier, replaced (an atomic store) by each successful fetch.
//
// Thread-safety: thread-safe. Start at most once; Stop (or the destructor)
// ends the refresh thread, waiting for a fetch in flight (at most
// `fetch_timeout`).
#ifndef JWTAUTH_INTERCEPTORS_REMOTE_KEY_SET_H_
#define JWTAUTH_INTERCEPTORS_REMOTE_KEY_SET_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "interceptors/verifier_source.h"
#include "jwt/algorithm.h"
#include "jwt/clock.h"
#include "jwt/validator_options.h"
#include "jwt/verifier.h"

namespace jwtauth::interceptors {

struct RemoteKeySetOptions {
  // The claims rules tokens are verified with (as for a fixed jwt::Verifier).
  jwt::ValidatorOptions validator;
  // The algorithm of JWKs that carry no "alg" (the auth server's all do).
  std::optional<jwt::Algorithm> default_algorithm;
  // How often the set is fetched in the background.
  absl::Duration refresh_interval = absl::Minutes(5);
  // Fetches for unknown kids happen at most once per this interval.
  absl::Duration min_refetch_interval = absl::Seconds(30);
  // Deadline of one GetJwks call.
  absl::Duration fetch_timeout = absl::Seconds(5);
  // Retry after a failed background fetch: initial_backoff doubling up to
  // max_backoff, each wait jittered to 50-100 % of its nominal value.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
};

struct RemoteKeySetStats {
  uint64_t fetches = 0;              // GetJwks calls made
  uint64_t failed_fetches = 0;       // calls failed or answers refused
  uint64_t unknown_kid_fetches = 0;  // fetches made for an unknown kid
  uint64_t unknown_kid_limited = 0;  // unknown kids refused a fetch (rate)
  bool ready = false;                // a set is held
  size_t keys = 0;                   // keys in the held set
  absl::Status last_error;           // of the last failed fetch
  absl::Time last_success = absl::InfinitePast();  // injected clock
};

class RemoteKeySet final : public VerifierSource {
 public:
  // Create checks the options (ValidatorOptions as jwt::Verifier does, and
  // positive intervals).
  static absl::StatusOr<std::shared_ptr<RemoteKeySet>> Create(
      RemoteKeySetOptions options, jwt::Clock clock = jwt::SystemClock());
  ~RemoteKeySet() override;
  RemoteKeySet(const RemoteKeySet&) = delete;
  RemoteKeySet& operator=(const RemoteKeySet&) = delete;

  // Start fetches from jwtauth.v1.AuthService/GetJwks over `channel` and
  // refreshes on the key set's own thread until Stop.
  void Start(std::shared_ptr<grpc::ChannelInterface> channel);
  // Start over a channel to `target` whose reconnection backoff follows
  // initial_backoff / max_backoff (gRPC's default grows to 120 s).
  void Start(const std::string& target,
             std::shared_ptr<grpc::ChannelCredentials> credentials);
  // Stop ends the refresh thread; idempotent.
  void Stop();

  // Refresh fetches now (not rate limited; joins a fetch in flight) and
  // returns the outcome. FAILED_PRECONDITION before Start.
  absl::Status Refresh();
  // AwaitFirstFetch waits up to `timeout` for the first fetch to finish and
  // returns its outcome (OK once a set is held; DEADLINE_EXCEEDED if none
  // finished in time).
  absl::Status AwaitFirstFetch(absl::Duration timeout);

  absl::StatusOr<std::shared_ptr<const jwt::Verifier>> Current() override;
  absl::StatusOr<std::shared_ptr<const jwt::Verifier>> ForUnknownKid(
      absl::string_view kid) override;
  bool blocking() const override { return true; }
  uint64_t generation() const override {
    return generation_.load(std::memory_order_acquire);
  }

  RemoteKeySetStats Stats() const;

 private:
  RemoteKeySet(RemoteKeySetOptions options, jwt::Clock clock)
      : options_(std::move(options)), clock_(std::move(clock)) {}
  // Fetch makes one GetJwks call, or waits for the one in flight.
  absl::Status Fetch();
  // FetchOnce: the call and the swap (no lock held).
  absl::Status FetchOnce(
      const std::shared_ptr<grpc::ChannelInterface>& channel);
  // FetchForDemand fetches unless rate limited (no fetch: OK).
  void FetchForDemand();
  void Run();
  std::shared_ptr<const jwt::Verifier> Load() const {
    return std::atomic_load(&verifier_);
  }

  const RemoteKeySetOptions options_;
  const jwt::Clock clock_;
  // Swapped whole with std::atomic_store; never modified in place.
  std::shared_ptr<const jwt::Verifier> verifier_;
  // Bumped after verifier_ is swapped for different keys.
  std::atomic<uint64_t> generation_{0};
  // The JWK Set verifier_ was built from (only the one fetch running at a
  // time touches it).
  std::string installed_jwks_;

  std::atomic<uint64_t> fetches_{0};
  std::atomic<uint64_t> failed_fetches_{0};
  std::atomic<uint64_t> unknown_kid_fetches_{0};
  std::atomic<uint64_t> unknown_kid_limited_{0};

  mutable common::Mutex mu_;
  std::shared_ptr<grpc::ChannelInterface> channel_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t completed_ ABSL_GUARDED_BY(mu_) = 0;    // fetches finished
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);  // of the last fetch
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  absl::Time last_success_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // When the last fetch for an unknown kid (or a key-less Current) began.
  absl::Time last_demand_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_REMOTE_KEY_SET_H_
