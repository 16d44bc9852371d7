#include "server/auth_metrics.h"

#include <optional>
#include <utility>

#include "server/auth_error.h"

namespace jwtauth::server {
namespace {

constexpr std::array<absl::string_view, kAuthMethodCount> kMethodNames = {
    "ObtainToken", "RefreshToken",     "VerifyToken",
    "RevokeToken", "WatchRevocations", "GetJwks"};

constexpr std::array<absl::string_view, kCallOutcomeCount> kOutcomeNames = {
    "OK",
    "CREDENTIALS_MISSING",
    "REQUEST_TOO_LARGE",
    "NULL_CHARACTERS",
    "BAD_CREDENTIALS",
    "TOKEN_EXPIRED",
    "TOKEN_INVALID",
    "TOKEN_REJECTED",
    "PAYLOAD_INVALID",
    "USER_NOT_FOUND",
    "USER_INACTIVE",
    "ORIG_IAT_MISSING",
    "REFRESH_EXPIRED",
    "THROTTLED",
    "OVERLOADED",
    "STORE_UNAVAILABLE",
    "TOKEN_REVOKED",
    "OTHER"};

constexpr std::array<absl::string_view, 3> kRevocationKindNames = {
    "token", "all_sessions", "over_cap"};

}  // namespace

absl::string_view AuthMethodName(AuthMethod method) {
  return kMethodNames[static_cast<size_t>(method)];
}

absl::string_view CallOutcomeName(CallOutcome outcome) {
  return kOutcomeNames[static_cast<size_t>(outcome)];
}

CallOutcome OutcomeFromReason(absl::string_view reason) {
  // "OK" and "OTHER" are not reasons.
  for (size_t i = 1; i + 1 < kCallOutcomeCount; ++i) {
    if (kOutcomeNames[i] == reason) return static_cast<CallOutcome>(i);
  }
  return CallOutcome::kOther;
}

CallOutcome OutcomeOf(const absl::Status& status) {
  if (status.ok()) return CallOutcome::kOk;
  std::optional<std::string> reason = ReasonOf(status);
  return reason.has_value() ? OutcomeFromReason(*reason) : CallOutcome::kOther;
}

absl::StatusOr<std::unique_ptr<AuthMetrics>> AuthMetrics::Create(
    AuthMetricsCallbacks callbacks) {
  std::unique_ptr<AuthMetrics> m(new AuthMetrics());
  MetricsRegistry& r = m->registry_;
  for (size_t method = 0; method < kAuthMethodCount; ++method) {
    for (size_t outcome = 0; outcome < kCallOutcomeCount; ++outcome) {
      absl::StatusOr<Counter*> c = r.AddCounter(
          "jwtauth_calls_total",
          "AuthService calls by method and outcome (OK or the ErrorInfo "
          "reason).",
          {{"method", std::string(kMethodNames[method])},
           {"outcome", std::string(kOutcomeNames[outcome])}});
      if (!c.ok()) return c.status();
      m->calls_[method][outcome] = *c;
    }
  }
  for (size_t method = 0; method < kAuthMethodCount; ++method) {
    absl::StatusOr<Histogram*> h = r.AddHistogram(
        "jwtauth_call_duration_seconds",
        "AuthService call latency, from the handler's start to its answer.",
        {{"method", std::string(kMethodNames[method])}}, DurationBuckets());
    if (!h.ok()) return h.status();
    m->durations_[method] = *h;
  }
  absl::StatusOr<Counter*> throttles =
      r.AddCounter("jwtauth_login_throttles_total",
                   "Logins refused by the failed-login throttle.");
  if (!throttles.ok()) return throttles.status();
  m->throttles_ = *throttles;
  for (size_t kind = 0; kind < kRevocationKindNames.size(); ++kind) {
    absl::StatusOr<Counter*> c =
        r.AddCounter("jwtauth_revocations_total",
                     "Successful revocations: one token, or all sessions of "
                     "a user.",
                     {{"kind", std::string(kRevocationKindNames[kind])}});
    if (!c.ok()) return c.status();
    m->revocations_[kind] = *c;
  }
  absl::StatusOr<Counter*> store_errors = r.AddCounter(
      "jwtauth_store_errors_total", "User-store operations that failed.");
  if (!store_errors.ok()) return store_errors.status();
  m->store_errors_ = *store_errors;

  struct CallbackSeries {
    std::function<double()>* read;
    bool counter;
    const char* name;
    const char* help;
  };
  const CallbackSeries callback_series[] = {
      {&callbacks.token_cache_entries, false, "jwtauth_token_cache_entries",
       "Verified tokens held in the token cache."},
      {&callbacks.token_cache_hits, true, "jwtauth_token_cache_hits_total",
       "Token checks answered from the token cache."},
      {&callbacks.token_cache_misses, true, "jwtauth_token_cache_misses_total",
       "Token checks not found in the token cache."},
      {&callbacks.revocation_set_size, false, "jwtauth_revocation_set_size",
       "Revocation entries (token ids and user generations) held."},
  };
  for (const CallbackSeries& s : callback_series) {
    if (!*s.read) continue;
    absl::Status added =
        s.counter ? r.AddCounterCallback(s.name, s.help, {}, std::move(*s.read))
                  : r.AddGaugeCallback(s.name, s.help, {}, std::move(*s.read));
    if (!added.ok()) return added;
  }
  return m;
}

}  // namespace jwtauth::server
