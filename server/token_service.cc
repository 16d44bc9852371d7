#include "server/token_service.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "jwt/base64url.h"
#include "jwt/drf_messages.h"
#include "jwt/key_loader.h"
#include "server/auth_error.h"

namespace jwtauth::server {
namespace {

// Claims the service writes itself; extra claims and hooks may not replace
// them.
constexpr std::array<absl::string_view, 10> kOwnClaims = {
    "user_id", "username", "exp", "email", "orig_iat",
    "aud",     "iss",      "iat", "jti",   "gen"};

bool IsOwnClaim(absl::string_view name) {
  for (absl::string_view own : kOwnClaims) {
    if (own == name) return true;
  }
  return false;
}

absl::Status Unauthenticated(absl::string_view message,
                             absl::string_view reason) {
  return AuthFailure(absl::StatusCode::kUnauthenticated, message, reason);
}

absl::Status TokenRejected(const absl::Status& status) {
  const jwt::DrfRejection r = jwt::DescribeRejectionStatus(status);
  return Unauthenticated(r.message, r.reason);
}

jwt::ValidatorOptions ValidatorFor(const TokenSettings& s,
                                   bool verify_expiration) {
  jwt::ValidatorOptions o;
  o.verify_signature = s.verify;
  o.verify_expiration = verify_expiration;
  o.leeway = s.leeway;
  o.audience = s.audience;
  o.issuer = s.issuer;
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenService>> TokenService::Create(
    TokenSettings settings, jwt::KeySet keys, UserStore* store,
    PasswordHasher hasher, ThrottleOptions throttle, jwt::Clock clock,
    PayloadHook hook) {
  if (settings.expiration_delta <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("expiration_delta must be positive");
  }
  if (settings.refresh_expiration_delta <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "refresh_expiration_delta must be positive");
  }
  if (!settings.extra_claims.is_object()) {
    return absl::InvalidArgumentError("extra claims must be a JSON object");
  }
  for (const std::string& name : settings.extra_claims.keys()) {
    if (IsOwnClaim(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "extra claim \"", name, "\" would override a claim jwtauth writes"));
    }
  }
  if (settings.max_revoked_tokens_per_user < 1) {
    return absl::InvalidArgumentError(
        "max_revoked_tokens_per_user must be at least 1");
  }
  if (store == nullptr)
    return absl::InvalidArgumentError("a user store is required");
  if (hasher.iterations() < 1 || hasher.iterations() > kMaxPbkdf2Iterations) {
    return absl::InvalidArgumentError("PBKDF2 iterations out of range");
  }
  absl::StatusOr<std::shared_ptr<const Crypto>> crypto =
      BuildCrypto(settings, std::move(keys), clock);
  if (!crypto.ok()) return crypto.status();
  return std::unique_ptr<TokenService>(
      new TokenService(std::move(settings), *std::move(crypto), store, hasher,
                       throttle, clock, std::move(hook)));
}

absl::StatusOr<std::shared_ptr<const TokenService::Crypto>>
TokenService::BuildCrypto(const TokenSettings& settings, jwt::KeySet keys,
                          jwt::Clock clock) {
  absl::StatusOr<jwt::JwtSigner> signer =
      jwt::JwtSigner::Create(keys.current());
  if (!signer.ok()) return signer.status();
  absl::StatusOr<jwt::Verifier> verifier = jwt::Verifier::Create(
      keys, ValidatorFor(settings, settings.verify_expiration), clock);
  if (!verifier.ok()) return verifier.status();
  absl::StatusOr<jwt::Verifier> expired_ok =
      jwt::Verifier::Create(keys, ValidatorFor(settings, false), clock);
  if (!expired_ok.ok()) return expired_ok.status();
  return std::make_shared<const Crypto>(
      Crypto{std::move(keys), *std::move(signer), *std::move(verifier),
             *std::move(expired_ok)});
}

absl::Status TokenService::SetKeys(jwt::KeySet keys) {
  absl::StatusOr<std::shared_ptr<const Crypto>> crypto =
      BuildCrypto(settings_, std::move(keys), clock_);
  if (!crypto.ok()) return crypto.status();
  std::atomic_store(&crypto_, *std::move(crypto));
  return absl::OkStatus();
}

TokenService::TokenService(TokenSettings settings,
                           std::shared_ptr<const Crypto> crypto,
                           UserStore* store, PasswordHasher hasher,
                           ThrottleOptions throttle, jwt::Clock clock,
                           PayloadHook hook)
    : settings_(std::move(settings)),
      crypto_(std::move(crypto)),
      store_(store),
      hasher_(hasher),
      throttle_(throttle, clock),
      clock_(std::move(clock)),
      hook_(std::move(hook)) {}

namespace {

// CheckCredentialShape applies the request rules that need no state.
absl::Status CheckCredentialShape(absl::string_view username,
                                  absl::string_view password) {
  if (username.empty() || password.empty()) {
    return AuthFailure(absl::StatusCode::kInvalidArgument,
                       kMsgCredentialsMissing, "CREDENTIALS_MISSING");
  }
  size_t characters = 0;  // Django's max_length counts characters, not bytes
  for (char c : username)
    characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (characters > kMaxUsernameLength || password.size() > kMaxPasswordLength) {
    return AuthFailure(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat("username must be at most ", kMaxUsernameLength,
                     " characters and password at most ", kMaxPasswordLength,
                     " bytes"),
        "REQUEST_TOO_LARGE");
  }
  // DRF's CharField refuses NUL characters (ProhibitNullCharactersValidator);
  // they would also alias shorter passwords (PBKDF2-HMAC zero-pads keys).
  if (username.find('\0') != absl::string_view::npos ||
      password.find('\0') != absl::string_view::npos) {
    return AuthFailure(absl::StatusCode::kInvalidArgument, kMsgNullCharacters,
                       "NULL_CHARACTERS");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TokenService::CheckObtainRequest(absl::string_view username,
                                              absl::string_view password,
                                              absl::string_view peer) {
  absl::Status shape = CheckCredentialShape(username, password);
  if (!shape.ok()) return shape;
  if (std::optional<absl::Duration> wait = throttle_.Check(username, peer);
      wait.has_value()) {
    return ThrottledFailure(absl::ToInt64Seconds(*wait));
  }
  return absl::OkStatus();
}

absl::StatusOr<IssuedToken> TokenService::Obtain(absl::string_view username,
                                                 absl::string_view password,
                                                 absl::string_view peer) {
  absl::Status shape = CheckCredentialShape(username, password);
  if (!shape.ok()) return shape;
  // Admit counts this attempt before the hash, so concurrent attempts cannot
  // all slip past the limit; a successful login takes the count back.
  if (std::optional<absl::Duration> wait = throttle_.Admit(username, peer);
      wait.has_value()) {
    return ThrottledFailure(absl::ToInt64Seconds(*wait));
  }
  absl::StatusOr<std::optional<User>> user = store_->FindByUsername(username);
  if (!user.ok()) {
    throttle_.Withdraw(username, peer);  // the store failed, not the caller
    return StoreUnavailable();
  }
  bool ok = false;
  if (user->has_value()) {
    ok = hasher_.Check(password, (*user)->password_hash);
  } else {
    hasher_.HashDummy(password);  // same cost as a real check: no timing oracle
  }
  // Django's ModelBackend refuses inactive users inside authenticate(), so
  // the message does not reveal which of the three it was.
  if (!ok || !(*user)->is_active) {
    return Unauthenticated(kMsgBadCredentials,
                           "BAD_CREDENTIALS");  // already counted
  }
  throttle_.Succeeded(username, peer);
  const User& u = **user;
  // Django's update_last_login; a failure here must not fail the login.
  (void)store_->RecordLogin(u.id, clock_());
  if (settings_.allow_refresh) {
    return Issue(u, absl::ToUnixSeconds(clock_()));
  }
  return Issue(u, std::nullopt);
}

absl::StatusOr<IssuedToken> TokenService::Issue(
    const User& user, std::optional<int64_t> orig_iat) {
  const absl::Time now = clock_();
  const absl::Time exp = now + settings_.expiration_delta;
  jwt::RawJwt raw;
  raw.SetInt("user_id", user.id)
      .SetString("username", user.username)
      .SetNumericDate("exp", exp)
      .SetString("email", user.email);
  if (orig_iat.has_value()) raw.SetInt("orig_iat", *orig_iat);
  if (settings_.audience.has_value()) raw.SetString("aud", *settings_.audience);
  if (settings_.issuer.has_value()) raw.SetString("iss", *settings_.issuer);
  raw.SetNumericDate("iat", now);
  absl::StatusOr<std::string> jti = jwt::GenerateSecret(16);
  if (!jti.ok()) return absl::InternalError("random generator failed");
  raw.SetString("jti", jwt::Base64UrlEncode(*jti));
  raw.SetInt("gen", user.token_generation);
  const jwt::Json& extra = settings_.extra_claims;
  for (size_t i = 0; i < extra.keys().size(); ++i)
    raw.Set(extra.keys()[i], extra.items()[i]);
  if (hook_) {
    jwt::RawJwt custom;
    hook_(user, custom);
    const jwt::Json& c = custom.claims();
    for (size_t i = 0; i < c.keys().size(); ++i) {
      if (IsOwnClaim(c.keys()[i])) {
        return absl::InternalError(
            "payload hook tried to override a registered claim");
      }
      raw.Set(c.keys()[i], c.items()[i]);
    }
  }
  absl::StatusOr<std::string> token = crypto()->signer.Sign(raw);
  if (!token.ok()) return absl::InternalError("token signing failed");
  IssuedToken issued{*std::move(token),
                     absl::FromUnixSeconds(absl::ToUnixSeconds(exp)),
                     std::nullopt, user};
  if (orig_iat.has_value()) {
    issued.refresh_expires_at =
        absl::FromUnixSeconds(*orig_iat) + settings_.refresh_expiration_delta;
  }
  return issued;
}

absl::StatusOr<User> TokenService::CheckUser(const jwt::VerifiedJwt& jwt) {
  std::optional<std::string> username = jwt.GetString("username");
  if (!username.has_value() || username->empty()) {
    return Unauthenticated(kMsgInvalidPayload, "PAYLOAD_INVALID");
  }
  // A token without jti (issued by drf-jwt, say) can only be revoked with
  // its user's generation; "" is no stored jti.
  const std::string jti = jwt.GetString("jti").value_or("");
  absl::StatusOr<std::optional<TokenSubject>> subject =
      store_->FindForToken(*username, jti);
  if (!subject.ok()) return StoreUnavailable();
  if (!subject->has_value())
    return Unauthenticated(kMsgUserNotFound, "USER_NOT_FOUND");
  User& user = (*subject)->user;
  // Stricter than drf-jwt: a token's user_id, when present, must be this
  // user's, so a re-created username does not inherit old tokens.
  if (const jwt::Json* id = jwt.claims().Find("user_id"); id != nullptr) {
    if (!id->int_value().has_value() || *id->int_value() != user.id) {
      return Unauthenticated(kMsgUserNotFound, "USER_NOT_FOUND");
    }
  }
  if (!user.is_active)
    return Unauthenticated(kMsgUserInactive, "USER_INACTIVE");
  int64_t generation = 0;
  if (const jwt::Json* gen = jwt.claims().Find("gen"); gen != nullptr) {
    if (!gen->int_value().has_value())
      return Unauthenticated(kMsgInvalidPayload, "PAYLOAD_INVALID");
    generation = *gen->int_value();
  }
  if ((*subject)->jti_revoked || generation != user.token_generation)
    return Unauthenticated(kMsgTokenRevoked, "TOKEN_REVOKED");
  return std::move(user);
}

absl::StatusOr<VerifiedToken> TokenService::Verify(absl::string_view token) {
  absl::StatusOr<jwt::VerifiedJwt> jwt = crypto()->verifier.Verify(token);
  if (!jwt.ok()) return TokenRejected(jwt.status());
  absl::StatusOr<User> user = CheckUser(*jwt);
  if (!user.ok()) return user.status();
  return VerifiedToken{*std::move(jwt), *std::move(user)};
}

absl::StatusOr<VerifiedToken> TokenService::VerifyRefreshable(
    absl::string_view token) {
  const std::shared_ptr<const Crypto> crypto = this->crypto();
  const jwt::Verifier& verifier = settings_.allow_expired_refresh
                                      ? crypto->expired_ok_verifier
                                      : crypto->verifier;
  absl::StatusOr<jwt::VerifiedJwt> jwt = verifier.Verify(token);
  if (!jwt.ok()) return TokenRejected(jwt.status());
  absl::StatusOr<User> user = CheckUser(*jwt);
  if (!user.ok()) return user.status();
  return VerifiedToken{*std::move(jwt), *std::move(user)};
}

std::optional<absl::Time> TokenService::RefreshWindowEnd(
    const jwt::VerifiedJwt& jwt) const {
  const jwt::Json* orig = jwt.claims().Find("orig_iat");
  if (orig == nullptr || !orig->int_value().has_value()) return std::nullopt;
  return absl::FromUnixSeconds(*orig->int_value()) +
         settings_.refresh_expiration_delta;
}

absl::StatusOr<IssuedToken> TokenService::Refresh(absl::string_view token) {
  if (!settings_.verify) {
    // With JWT_VERIFY off a forged token would come back properly signed,
    // and protected services verifying signatures would then accept it.
    return Unauthenticated(jwt::kMsgIncorrectCredentials, "TOKEN_REJECTED");
  }
  absl::StatusOr<VerifiedToken> verified = VerifyRefreshable(token);
  if (!verified.ok()) return verified.status();
  const jwt::VerifiedJwt* jwt = &verified->jwt;
  const User* user = &verified->user;
  const jwt::Json* orig = jwt->claims().Find("orig_iat");
  if (orig == nullptr || !orig->is_number() || orig->number_value() == 0 ||
      !orig->int_value().has_value()) {
    return Unauthenticated(kMsgOrigIatRequired, "ORIG_IAT_MISSING");
  }
  const int64_t orig_iat = *orig->int_value();
  const absl::Time limit =
      absl::FromUnixSeconds(orig_iat) + settings_.refresh_expiration_delta;
  const absl::Time now = clock_();
  // drf-jwt: refused when now > orig_iat + delta (equality still passes).
  if (now > limit)
    return Unauthenticated(kMsgRefreshExpired, "REFRESH_EXPIRED");
  return Issue(*user, orig_iat);
}

absl::StatusOr<RevokedToken> TokenService::Revoke(absl::string_view token,
                                                  bool all_sessions) {
  if (!settings_.verify) {
    // With JWT_VERIFY off anyone could forge a token naming any user and log
    // that user out everywhere, or fill the revocation set every watcher
    // holds.
    return Unauthenticated(jwt::kMsgIncorrectCredentials, "TOKEN_REJECTED");
  }
  absl::StatusOr<VerifiedToken> verified = VerifyRefreshable(token);
  if (!verified.ok()) return verified.status();
  const jwt::VerifiedJwt* jwt = &verified->jwt;
  const User* user = &verified->user;
  if (settings_.allow_expired_refresh && settings_.verify_expiration) {
    // An expired token passed: only inside its refresh window, as Refresh
    // takes it. A token that leaked long ago must not log its user out
    // everywhere.
    const absl::Time now = clock_();
    const std::optional<absl::Time> exp = jwt->expiration();
    if (exp.has_value() && now >= *exp + settings_.leeway) {
      const std::optional<absl::Time> window_end = RefreshWindowEnd(*jwt);
      if (!window_end.has_value() || now > *window_end)
        return Unauthenticated(jwt::kMsgExpired, "TOKEN_EXPIRED");
    }
  }
  RevokedToken revoked{*user, all_sessions, std::nullopt, 0};
  if (all_sessions) {
    absl::StatusOr<int64_t> generation = store_->BumpTokenGeneration(user->id);
    if (generation.status().code() == absl::StatusCode::kNotFound)
      return Unauthenticated(kMsgUserNotFound, "USER_NOT_FOUND");
    if (!generation.ok()) return StoreUnavailable();
    revoked.generation = *generation;
    return revoked;
  }
  std::optional<std::string> jti = jwt->GetString("jti");
  if (!jti.has_value() || jti->empty() || jti->size() > kMaxJtiLength) {
    return AuthFailure(absl::StatusCode::kInvalidArgument, kMsgJtiMissing,
                       "JTI_MISSING");
  }
  // Kept until the token could no longer be used for anything: its exp plus
  // the longest leeway any validator may allow (a protected service may
  // allow more than this server), or the end of its refresh window when
  // expired tokens may be refreshed. Services validating locally only need
  // it until the former (`watch`): they never refresh.
  absl::Time until = absl::InfiniteFuture();
  absl::Time watch = absl::InfiniteFuture();
  if (const jwt::Json* exp = jwt->claims().Find("exp");
      exp != nullptr && exp->int_value().has_value() &&
      settings_.verify_expiration) {
    watch = absl::FromUnixSeconds(*exp->int_value()) +
            std::max(settings_.leeway, jwt::kMaxLeeway);
    until = watch;
    if (settings_.allow_expired_refresh) {
      if (const std::optional<absl::Time> window_end = RefreshWindowEnd(*jwt);
          window_end.has_value()) {
        until = std::max(until, *window_end);
      }
    }
  }
  absl::StatusOr<TokenRevocation> stored =
      store_->RevokeToken(*jti, user->id, until, watch, clock_(),
                          settings_.max_revoked_tokens_per_user);
  if (stored.status().code() == absl::StatusCode::kNotFound ||
      stored.status().code() == absl::StatusCode::kFailedPrecondition) {
    // The user went away between the lookup and the write.
    return Unauthenticated(kMsgUserNotFound, "USER_NOT_FOUND");
  }
  if (!stored.ok()) return StoreUnavailable();
  if (stored->all_sessions) {
    // The user had max_revoked_tokens_per_user revocations in force.
    revoked.all_sessions = true;
    revoked.over_cap = true;
    revoked.generation = stored->generation;
    return revoked;
  }
  revoked.revoked_until = until;
  return revoked;
}

}  // namespace jwtauth::server
