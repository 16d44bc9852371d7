#include "interceptors/token_source.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

#include "jwt/base64url.h"
#include "jwt/json.h"
#include "jwt/verified_jwt.h"

namespace jwtauth::interceptors {

std::optional<absl::Time> PeekExpiration(absl::string_view token) {
  const size_t first = token.find('.');
  const size_t second =
      token.find('.', first == absl::string_view::npos ? 0 : first + 1);
  if (first == absl::string_view::npos || second == absl::string_view::npos)
    return std::nullopt;
  std::string payload;
  if (!jwt::Base64UrlDecode(token.substr(first + 1, second - first - 1),
                            payload)) {
    return std::nullopt;
  }
  absl::StatusOr<jwt::Json> claims = jwt::ParseJson(payload);
  if (!claims.ok() || !claims->is_object()) return std::nullopt;
  const jwt::Json* exp = claims->Find("exp");
  if (exp == nullptr || !exp->is_number()) return std::nullopt;
  return jwt::NumericDateToTime(*exp);
}

StaticTokenSource::StaticTokenSource(std::string token, jwt::Clock clock)
    : token_(std::move(token)),
      expires_at_(PeekExpiration(token_)),
      clock_(std::move(clock)) {}

absl::StatusOr<std::string> StaticTokenSource::Token() {
  if (expires_at_.has_value() && clock_() >= *expires_at_) {
    return absl::UnauthenticatedError("the configured token has expired");
  }
  return token_;
}

AuthServiceTokenSource::AuthServiceTokenSource(
    std::shared_ptr<grpc::ChannelInterface> channel, std::string username,
    std::string password, AuthServiceSourceOptions options, jwt::Clock clock)
    : client_(std::move(channel), options.call_timeout),
      username_(std::move(username)),
      password_(std::move(password)),
      options_(options),
      clock_(std::move(clock)) {}

absl::StatusOr<std::shared_ptr<AuthServiceTokenSource>>
AuthServiceTokenSource::Create(
    std::shared_ptr<grpc::ChannelInterface> auth_channel, std::string username,
    std::string password, AuthServiceSourceOptions options, jwt::Clock clock) {
  std::shared_ptr<AuthServiceTokenSource> source(new AuthServiceTokenSource(
      std::move(auth_channel), std::move(username), std::move(password),
      options, std::move(clock)));
  absl::StatusOr<client::IssuedToken> first =
      source->client_.Obtain(source->username_, source->password_);
  if (!first.ok()) return first.status();
  {
    common::MutexLock lock(&source->mu_);
    source->SetToken(*std::move(first));
    source->obtains_ = 1;
  }
  source->thread_ = std::thread([s = source.get()] { s->Run(); });
  return source;
}

AuthServiceTokenSource::~AuthServiceTokenSource() {
  {
    common::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  OPENSSL_cleanse(password_.data(), password_.size());
}

absl::StatusOr<std::string> AuthServiceTokenSource::Token() {
  common::MutexLock lock(&mu_);
  if (!current_.has_value() || clock_() >= current_->expires_at) {
    return absl::UnavailableError(
        "no unexpired token yet; the token source is renewing it");
  }
  return current_->token;
}

void AuthServiceTokenSource::Refused(const std::string& token) {
  common::MutexLock lock(&mu_);
  if (current_.has_value() && current_->token == token) refused_ = true;
}

void AuthServiceTokenSource::Poke() {
  common::MutexLock lock(&mu_);
  poked_ = true;
}

bool AuthServiceTokenSource::RefusedPending() {
  common::MutexLock lock(&mu_);
  if (!refused_) return false;
  last_forced_ = clock_();
  return true;
}

void AuthServiceTokenSource::SetToken(client::IssuedToken token) {
  const absl::Time now = clock_();
  // Renew `refresh_margin` before exp, but not before half the remaining
  // lifetime has passed.
  renew_at_ = std::max(token.expires_at - options_.refresh_margin,
                       now + (token.expires_at - now) / 2);
  current_ = std::move(token);
  refused_ = false;
}

int AuthServiceTokenSource::obtains() const {
  common::MutexLock lock(&mu_);
  return obtains_;
}

int AuthServiceTokenSource::refreshes() const {
  common::MutexLock lock(&mu_);
  return refreshes_;
}

bool AuthServiceTokenSource::Renew(bool force_obtain) {
  std::optional<client::IssuedToken> current;
  {
    common::MutexLock lock(&mu_);
    current = current_;
  }
  const absl::Time now = clock_();
  const bool can_refresh = !force_obtain && current.has_value() &&
                           now < current->expires_at &&
                           current->refresh_expires_at.has_value() &&
                           now <= *current->refresh_expires_at;
  if (can_refresh) {
    absl::StatusOr<client::IssuedToken> next = client_.Refresh(current->token);
    if (next.ok()) {
      common::MutexLock lock(&mu_);
      SetToken(*std::move(next));
      ++refreshes_;
      return true;
    }
    // REFRESH_EXPIRED, ORIG_IAT_MISSING, a refused token...: log in again.
  }
  absl::StatusOr<client::IssuedToken> fresh =
      client_.Obtain(username_, password_);
  if (!fresh.ok()) return false;
  common::MutexLock lock(&mu_);
  SetToken(*std::move(fresh));
  ++obtains_;
  return true;
}

void AuthServiceTokenSource::Run() {
  absl::Duration backoff = options_.retry_initial;
  absl::Time retry_at = absl::InfinitePast();
  for (;;) {
    bool refused = false;
    absl::Time renew_at;
    const absl::Time now = clock_();
    {
      common::MutexLock lock(&mu_);
      if (stop_) return;
      refused = refused_;
      renew_at = current_.has_value() ? renew_at_ : absl::InfinitePast();
      watch_refused_ = true;
      if (refused) {
        // A refusal forces a login, at most once per min_forced_login_interval.
        const absl::Time allowed =
            last_forced_ + options_.min_forced_login_interval;
        if (now < allowed) {
          refused = false;
          watch_refused_ = false;  // already pending: do not wake for it again
          renew_at = std::min(renew_at, allowed);
        } else {
          last_forced_ = now;
        }
      }
      poked_ = false;
    }
    if ((refused || now >= renew_at) && now >= retry_at) {
      if (Renew(refused || (now >= renew_at && RefusedPending()))) {
        backoff = options_.retry_initial;
        retry_at = absl::InfinitePast();
      } else {
        retry_at = now + backoff;
        backoff = std::min(backoff * 2, absl::Minutes(1));
      }
      continue;
    }
    // Sleep until the next renewal is due (bounded, so a changed clock is
    // noticed), or until stopped, refused or poked.
    const absl::Time wake = std::max(renew_at, retry_at);
    const absl::Duration wait =
        std::clamp(wake - now, absl::Milliseconds(1), absl::Seconds(1));
    common::MutexLock lock(&mu_);
    // (Runs with mu_ held: Await evaluates it under the lock.)
    mu_.AwaitWithTimeout(
        [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return stop_ || poked_ || (watch_refused_ && refused_);
        },
        wait);
  }
}

}  // namespace jwtauth::interceptors
