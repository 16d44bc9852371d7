#include "interceptors/remote_key_set.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "interceptors/reconnecting_channel.h"
#include "jwt/json.h"
#include "jwt/key_set.h"
#include "jwtauth/v1/auth.grpc.pb.h"

namespace jwtauth::interceptors {
namespace {

constexpr absl::string_view kMsgNoKeys =
    "no signing keys from the auth server yet";

}  // namespace

absl::StatusOr<std::shared_ptr<RemoteKeySet>> RemoteKeySet::Create(
    RemoteKeySetOptions options, jwt::Clock clock) {
  if (absl::Status s = jwt::ValidateOptions(options.validator); !s.ok())
    return s;
  for (absl::Duration d : {options.refresh_interval, options.fetch_timeout,
                           options.initial_backoff, options.max_backoff}) {
    if (d <= absl::ZeroDuration())
      return absl::InvalidArgumentError(
          "RemoteKeySetOptions: refresh_interval, fetch_timeout and the "
          "backoffs must be positive");
  }
  if (options.min_refetch_interval < absl::ZeroDuration())
    return absl::InvalidArgumentError(
        "RemoteKeySetOptions: min_refetch_interval must not be negative");
  return std::shared_ptr<RemoteKeySet>(
      new RemoteKeySet(std::move(options), std::move(clock)));
}

RemoteKeySet::~RemoteKeySet() { Stop(); }

void RemoteKeySet::Start(std::shared_ptr<grpc::ChannelInterface> channel) {
  {
    common::MutexLock lock(&mu_);
    channel_ = std::move(channel);
  }
  thread_ = std::thread([this] { Run(); });
}

void RemoteKeySet::Start(
    const std::string& target,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  Start(ReconnectingChannel(target, std::move(credentials),
                            options_.initial_backoff, options_.max_backoff));
}

void RemoteKeySet::Stop() {
  {
    common::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void RemoteKeySet::Run() {
  std::mt19937_64 rng(std::random_device{}());
  absl::Duration backoff = options_.initial_backoff;
  for (;;) {
    absl::Duration wait = options_.refresh_interval;
    if (absl::Status s = Fetch(); s.ok()) {
      backoff = options_.initial_backoff;
    } else {
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      wait = std::min(backoff * jitter(rng), options_.refresh_interval);
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    common::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(
            [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; },
            wait)) {
      return;
    }
  }
}

absl::Status RemoteKeySet::Fetch() {
  std::shared_ptr<grpc::ChannelInterface> channel;
  {
    common::MutexLock lock(&mu_);
    if (channel_ == nullptr)
      return absl::FailedPreconditionError("RemoteKeySet not started");
    if (fetching_) {
      const uint64_t seen = completed_;
      mu_.Await([this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return completed_ != seen;
      });
      return last_status_;
    }
    fetching_ = true;
    channel = channel_;
  }
  absl::Status status = FetchOnce(channel);
  common::MutexLock lock(&mu_);
  fetching_ = false;
  ++completed_;
  last_status_ = status;
  if (status.ok()) {
    last_success_ = clock_();
  } else {
    last_error_ = status;
  }
  return status;
}

absl::Status RemoteKeySet::FetchOnce(
    const std::shared_ptr<grpc::ChannelInterface>& channel) {
  fetches_.fetch_add(1);
  auto fail = [this](absl::Status s) {
    failed_fetches_.fetch_add(1);
    return s;
  };
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(options_.fetch_timeout));
  jwtauth::v1::GetJwksRequest request;
  jwtauth::v1::GetJwksResponse response;
  grpc::Status rpc = jwtauth::v1::AuthService::NewStub(channel)->GetJwks(
      &context, request, &response);
  if (!rpc.ok()) {
    return fail(absl::UnavailableError(
        absl::StrCat("GetJwks failed: ", rpc.error_message(), " (code ",
                     static_cast<int>(rpc.error_code()), ")")));
  }
  // The same document as the installed one was checked when installed: no
  // parse, and cached tokens stay valid (the generation is kept).
  if (Load() != nullptr && response.jwks_json() == installed_jwks_) {
    return absl::OkStatus();
  }
  absl::StatusOr<jwt::Json> jwks = jwt::ParseJson(response.jwks_json());
  if (!jwks.ok() || !jwks->is_object()) {
    return fail(absl::DataLossError("GetJwks answered something not JSON"));
  }
  if (const jwt::Json* keys = jwks->Find("keys");
      keys != nullptr && keys->is_array() && keys->items().empty()) {
    return fail(absl::FailedPreconditionError(
        "the auth server publishes no public keys (GetJwks answered an empty "
        "JWK Set): it signs with an HS* secret, which is never published; "
        "local validation with keys from the auth server needs an asymmetric "
        "algorithm (RS*, PS*, ES*, EdDSA)"));
  }
  absl::StatusOr<jwt::KeySet> set =
      jwt::KeySet::FromJwks(*jwks, options_.default_algorithm);
  if (!set.ok()) {
    return fail(absl::DataLossError(absl::StrCat(
        "GetJwks answered an unusable JWK Set: ", set.status().message())));
  }
  absl::StatusOr<jwt::Verifier> verifier =
      jwt::Verifier::Create(*std::move(set), options_.validator, clock_);
  if (!verifier.ok()) return fail(verifier.status());
  std::atomic_store(
      &verifier_,
      std::shared_ptr<const jwt::Verifier>(
          std::make_shared<const jwt::Verifier>(*std::move(verifier))));
  installed_jwks_ = response.jwks_json();
  // After the swap: whoever reads the new generation gets the new keys.
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return absl::OkStatus();
}

void RemoteKeySet::FetchForDemand() {
  {
    common::MutexLock lock(&mu_);
    // A fetch in flight is joined whatever the rate (it costs nothing more).
    if (!fetching_) {
      const absl::Time now = clock_();
      if (now - last_demand_ < options_.min_refetch_interval) {
        unknown_kid_limited_.fetch_add(1);
        return;
      }
      last_demand_ = now;
      unknown_kid_fetches_.fetch_add(1);
    }
  }
  Fetch().IgnoreError();  // recorded in Stats
}

absl::StatusOr<std::shared_ptr<const jwt::Verifier>> RemoteKeySet::Current() {
  if (std::shared_ptr<const jwt::Verifier> v = Load()) return v;
  FetchForDemand();
  if (std::shared_ptr<const jwt::Verifier> v = Load()) return v;
  return absl::UnavailableError(kMsgNoKeys);
}

absl::StatusOr<std::shared_ptr<const jwt::Verifier>>
RemoteKeySet::ForUnknownKid(absl::string_view kid) {
  std::shared_ptr<const jwt::Verifier> v = Load();
  // Another caller may have fetched it meanwhile.
  if (v == nullptr || v->keys().FindByKid(kid) == nullptr) {
    FetchForDemand();
    v = Load();
  }
  if (v == nullptr) return absl::UnavailableError(kMsgNoKeys);
  return v;
}

absl::Status RemoteKeySet::Refresh() { return Fetch(); }

absl::Status RemoteKeySet::AwaitFirstFetch(absl::Duration timeout) {
  common::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(
          [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return completed_ > 0 || last_success_ != absl::InfinitePast();
          },
          timeout)) {
    return absl::DeadlineExceededError(
        "no answer from the auth server's GetJwks yet");
  }
  if (last_success_ != absl::InfinitePast()) return absl::OkStatus();
  return last_status_;
}

RemoteKeySetStats RemoteKeySet::Stats() const {
  RemoteKeySetStats s;
  s.fetches = fetches_.load();
  s.failed_fetches = failed_fetches_.load();
  s.unknown_kid_fetches = unknown_kid_fetches_.load();
  s.unknown_kid_limited = unknown_kid_limited_.load();
  if (std::shared_ptr<const jwt::Verifier> v = Load()) {
    s.ready = true;
    s.keys = v->keys().keys().size();
  }
  common::MutexLock lock(&mu_);
  s.last_error = last_error_;
  s.last_success = last_success_;
  return s;
}

}  // namespace jwtauth::interceptors
