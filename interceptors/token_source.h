// token_source.h: where a client's token comes from.
//
// Token() is called from gRPC interceptors, possibly on gRPC's callback
// threads, so it never blocks on the network: it returns what the source
// holds. The auth-service source keeps its token fresh on its own thread.
//
//   auto source = *AuthServiceTokenSource::Create(channel, "ada", password,
//   {}); auto factory = ClientAuthInterceptorFactory(source);  //
//   client_interceptor.h
//
// Thread-safety: thread-safe.
#ifndef JWTAUTH_INTERCEPTORS_TOKEN_SOURCE_H_
#define JWTAUTH_INTERCEPTORS_TOKEN_SOURCE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/auth_client.h"
#include "common/mutex.h"
#include "jwt/clock.h"

namespace jwtauth::interceptors {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // Token returns the current token, or an error when there is none that is
  // unexpired. Never blocks on I/O.
  virtual absl::StatusOr<std::string> Token() = 0;
  // Refused tells the source the server refused `token` (UNAUTHENTICATED).
  virtual void Refused(const std::string& token) = 0;
};

// PeekExpiration reads exp from a token's payload WITHOUT verifying it: for a
// client deciding whether its own token is worth sending, never for
// authentication. nullopt when unreadable or absent.
std::optional<absl::Time> PeekExpiration(absl::string_view token);

// StaticTokenSource serves one fixed token until its exp passes.
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token,
                             jwt::Clock clock = jwt::SystemClock());
  absl::StatusOr<std::string> Token() override;
  void Refused(const std::string& /*token*/) override {}

 private:
  const std::string token_;
  const std::optional<absl::Time> expires_at_;
  const jwt::Clock clock_;
};

struct AuthServiceSourceOptions {
  // Refresh this long before exp.
  absl::Duration refresh_margin = absl::Seconds(30);
  // After a failed obtain/refresh, retry after this long (doubling up to 1
  // min).
  absl::Duration retry_initial = absl::Milliseconds(200);
  // At most one login forced by refused calls per this interval, so a service
  // that refuses every token cannot make each call cost a password hash.
  absl::Duration min_forced_login_interval = absl::Seconds(5);
  // Deadline of each AuthService call.
  absl::Duration call_timeout = absl::Seconds(10);
};

// AuthServiceTokenSource logs in with a username and password, refreshes the
// token `refresh_margin` before it expires, but never before half its
// lifetime has passed (so short-lived tokens cannot make it spin), when the
// server allows refresh,
// and logs in again when the refresh chain ends or the token was refused.
// All network calls run on the source's own thread.
class AuthServiceTokenSource final : public TokenSource {
 public:
  // Create obtains the first token synchronously (call it from an
  // application thread, not a gRPC callback), then starts the refresh thread.
  static absl::StatusOr<std::shared_ptr<AuthServiceTokenSource>> Create(
      std::shared_ptr<grpc::ChannelInterface> auth_channel,
      std::string username, std::string password,
      AuthServiceSourceOptions options = {},
      jwt::Clock clock = jwt::SystemClock());
  ~AuthServiceTokenSource() override;

  absl::StatusOr<std::string> Token() override;
  void Refused(const std::string& token) override;

  // Counters for tests and metrics.
  int obtains() const;
  int refreshes() const;
  // Poke wakes the refresh thread to re-check now (tests with a fake clock).
  void Poke();

 private:
  AuthServiceTokenSource(std::shared_ptr<grpc::ChannelInterface> channel,
                         std::string username, std::string password,
                         AuthServiceSourceOptions options, jwt::Clock clock);
  void Run();
  // Renew obtains or refreshes; returns true on success.
  bool Renew(bool force_obtain);
  // SetToken stores a new token and schedules its renewal.
  void SetToken(client::IssuedToken token) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // RefusedPending reports (and stamps) a refusal still waiting for a login.
  bool RefusedPending();

  client::AuthClient client_;
  const std::string username_;
  std::string password_;
  const AuthServiceSourceOptions options_;
  const jwt::Clock clock_;

  mutable common::Mutex mu_;
  std::optional<client::IssuedToken> current_ ABSL_GUARDED_BY(mu_);
  absl::Time renew_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_forced_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool watch_refused_ ABSL_GUARDED_BY(mu_) = true;
  bool refused_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;
  int obtains_ ABSL_GUARDED_BY(mu_) = 0;
  int refreshes_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_TOKEN_SOURCE_H_
