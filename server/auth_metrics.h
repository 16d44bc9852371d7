// auth_metrics.h: the series jwtauth-server exports on /metrics, on a
// MetricsRegistry (metrics.h).
//
//   jwtauth_calls_total{method,outcome}          counter
//   jwtauth_call_duration_seconds{method}        histogram, 100 µs .. 10 s
//   jwtauth_login_throttles_total                counter
//   jwtauth_revocations_total{kind}              counter, token | all_sessions
//                                                | over_cap (a single logout
//                                                that revoked all sessions:
//                                                the user's cap was reached)
//   jwtauth_store_errors_total                   counter
//   jwtauth_token_cache_entries                  gauge    } from callbacks,
//   jwtauth_token_cache_hits_total               counter  } when given
//   jwtauth_token_cache_misses_total             counter  }
//   jwtauth_revocation_set_size                  gauge    }
//
// Methods and outcomes are enums: every (method, outcome) series exists from
// the start (at 0), and a call is recorded by indexing a fixed table, so the
// hot path is two or three relaxed atomic adds with no lock, lookup or
// allocation. An outcome is OK or the ErrorInfo reason of auth.proto's error
// table (plus TOKEN_REVOKED); any other status is OTHER. No label ever holds
// request data. A server-streaming call (WatchRevocations) is recorded when
// it is answered (its snapshot queued, or refused), not when it ends.
//
//   std::unique_ptr<AuthMetrics> metrics = *AuthMetrics::Create({});
//   const absl::Time start = absl::Now();
//   absl::Status s = ...;
//   metrics->RecordCall(AuthMethod::kVerifyToken, s, absl::Now() - start);
//   http body: metrics->Render();
//
// Thread-safety: thread-safe; the Record* calls are lock-free.
#ifndef JWTAUTH_SERVER_AUTH_METRICS_H_
#define JWTAUTH_SERVER_AUTH_METRICS_H_

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/metrics.h"

namespace jwtauth::server {

// AuthMethod: the AuthService methods (label `method`, the RPC's name).
enum class AuthMethod {
  kObtainToken,
  kRefreshToken,
  kVerifyToken,
  kRevokeToken,
  kWatchRevocations,
  kGetJwks,
};
inline constexpr size_t kAuthMethodCount = 6;

// CallOutcome: OK or a client-facing reason (label `outcome`, upper case as
// in ErrorInfo.reason); kOther for a status without a known reason.
enum class CallOutcome {
  kOk,
  kCredentialsMissing,
  kRequestTooLarge,
  kNullCharacters,
  kBadCredentials,
  kTokenExpired,
  kTokenInvalid,
  kTokenRejected,
  kPayloadInvalid,
  kUserNotFound,
  kUserInactive,
  kOrigIatMissing,
  kRefreshExpired,
  kThrottled,
  kOverloaded,
  kStoreUnavailable,
  kTokenRevoked,
  kOther,
};
inline constexpr size_t kCallOutcomeCount = 18;

// RevocationKind: what RevokeToken revoked (label `kind`): one token, all
// sessions as asked, or all sessions because the user had
// max_revoked_tokens_per_user revocations in force (an abuse signal).
enum class RevocationKind { kToken, kAllSessions, kOverCap };

// AuthMethodName is the method's label value ("VerifyToken").
absl::string_view AuthMethodName(AuthMethod method);
// CallOutcomeName is the outcome's label value ("OK", "TOKEN_EXPIRED").
absl::string_view CallOutcomeName(CallOutcome outcome);
// OutcomeFromReason maps an ErrorInfo reason to its outcome; an unknown
// reason is kOther.
CallOutcome OutcomeFromReason(absl::string_view reason);
// OutcomeOf is kOk for an OK status, else the outcome of its AuthFailure
// reason (auth_error.h), else kOther.
CallOutcome OutcomeOf(const absl::Status& status);

// AuthMetricsCallbacks: values kept by other components, read at scrape
// time. Each may be empty (the series is then not exported). They run on the
// scraping thread and must be quick.
struct AuthMetricsCallbacks {
  std::function<double()> token_cache_entries;
  std::function<double()> token_cache_hits;
  std::function<double()> token_cache_misses;
  std::function<double()> revocation_set_size;
};

class AuthMetrics {
 public:
  // Create registers every series on a registry of its own.
  static absl::StatusOr<std::unique_ptr<AuthMetrics>> Create(
      AuthMetricsCallbacks callbacks);
  AuthMetrics(const AuthMetrics&) = delete;
  AuthMetrics& operator=(const AuthMetrics&) = delete;

  // RecordCall counts one finished call and observes its latency.
  void RecordCall(AuthMethod method, CallOutcome outcome,
                  absl::Duration latency) {
    calls_[Index(method)][Index(outcome)]->Increment();
    durations_[Index(method)]->ObserveDuration(latency);
  }
  void RecordCall(AuthMethod method, const absl::Status& status,
                  absl::Duration latency) {
    RecordCall(method, OutcomeOf(status), latency);
  }
  // RecordLoginThrottled counts a login refused by the throttle.
  void RecordLoginThrottled() { throttles_->Increment(); }
  // RecordRevocation counts a successful RevokeToken.
  void RecordRevocation(RevocationKind kind) {
    revocations_[Index(kind)]->Increment();
  }
  // RecordStoreError counts a user-store operation that failed.
  void RecordStoreError() { store_errors_->Increment(); }

  // CallCount returns calls_total{method, outcome} (for tests).
  uint64_t CallCount(AuthMethod method, CallOutcome outcome) const {
    return calls_[Index(method)][Index(outcome)]->Value();
  }

  // Render returns the text exposition of every series (the /metrics body).
  std::string Render() const { return registry_.Render(); }
  // registry gives access to add further series.
  MetricsRegistry& registry() { return registry_; }

 private:
  AuthMetrics() = default;
  template <typename E>
  static constexpr size_t Index(E e) {
    return static_cast<size_t>(e);
  }

  MetricsRegistry registry_;
  std::array<std::array<Counter*, kCallOutcomeCount>, kAuthMethodCount>
      calls_{};
  std::array<Histogram*, kAuthMethodCount> durations_{};
  std::array<Counter*, 3> revocations_{};
  Counter* throttles_ = nullptr;
  Counter* store_errors_ = nullptr;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_AUTH_METRICS_H_
