// token_service.h: Obtain, Refresh and Verify as djangorestframework-jwt
// defines them (SPEC §3), independent of gRPC so it can be embedded and
// tested directly. The gRPC adapter is auth_service.h.
//
// Tokens carry drf-jwt's payload in its order — user_id, username, exp,
// email, orig_iat (when refresh is allowed), aud, iss (when configured) —
// then iat, a random jti and gen (the user's token generation), then
// configured static claims, then whatever the PayloadHook adds. Verification
// names the user by "username" (drf-jwt's get_username_from_payload) and,
// stricter than drf-jwt, also requires "user_id" to match, so a deleted user's
// tokens never pass for a new user who reuses the name. A token whose jti was
// revoked, or whose gen is not the user's current token generation (log out
// everywhere, password change, deactivation; a token without gen counts as
// generation 0), is refused with "Token is blacklisted." (TOKEN_REVOKED) by
// Verify, Refresh and Revoke.
//
//   TokenService service(settings, keys, store, hasher, throttle, clock);
//   absl::StatusOr<IssuedToken> t = service.Obtain("ada", "pw", peer);
//
// Thread-safety: thread-safe. Obtain runs one password hash: call it from a
// worker pool, never on a gRPC callback thread. Verify and Refresh do one
// user-store lookup each; Revoke a lookup and one write.
#ifndef JWTAUTH_SERVER_TOKEN_SERVICE_H_
#define JWTAUTH_SERVER_TOKEN_SERVICE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "jwt/clock.h"
#include "jwt/json.h"
#include "jwt/key_set.h"
#include "jwt/raw_jwt.h"
#include "jwt/signer.h"
#include "jwt/verifier.h"
#include "server/login_throttle.h"
#include "server/password_hasher.h"
#include "server/user.h"
#include "server/user_store.h"

namespace jwtauth::server {

inline constexpr size_t kMaxPasswordLength = 4096;

// TokenSettings are drf-jwt's settings (SPEC §1) with its defaults.
struct TokenSettings {
  bool verify = true;                            // JWT_VERIFY
  bool verify_expiration = true;                 // JWT_VERIFY_EXPIRATION
  absl::Duration leeway = absl::ZeroDuration();  // JWT_LEEWAY
  absl::Duration expiration_delta = absl::Seconds(300);  // JWT_EXPIRATION_DELTA
  bool allow_refresh = false;                            // JWT_ALLOW_REFRESH
  absl::Duration refresh_expiration_delta =
      absl::Hours(24 * 7);  // JWT_REFRESH_EXPIRATION_DELTA
  // Accept an expired token at RefreshToken while it is inside its refresh
  // window (the most requested drf-jwt change; off by default).
  bool allow_expired_refresh = false;
  std::optional<std::string> audience;  // JWT_AUDIENCE
  std::optional<std::string> issuer;    // JWT_ISSUER
  // Static claims added to every token (a JSON object); may not override
  // the claims above.
  jwt::Json extra_claims = jwt::Json::Object();
  // RevokeToken keeps at most this many of one user's revoked tokens in
  // force; revoking one more revokes all of the user's sessions instead
  // (UserStore::RevokeToken says why). At least 1.
  size_t max_revoked_tokens_per_user = 100;
};

// PayloadHook is JWT_PAYLOAD_HANDLER's extension point: it runs after the
// default payload is built and may add claims (overriding the registered
// ones is refused).
using PayloadHook = std::function<void(const User& user, jwt::RawJwt& payload)>;

struct IssuedToken {
  std::string token;
  absl::Time expires_at;
  std::optional<absl::Time> refresh_expires_at;
  User user;
};

struct VerifiedToken {
  jwt::VerifiedJwt jwt;
  User user;
};

struct RevokedToken {
  User user;
  // Every token of the user was revoked: asked for, or because the user had
  // max_revoked_tokens_per_user revocations in force.
  bool all_sessions = false;
  // How long the jti is kept (the token's last possible use); nullopt for
  // all_sessions.
  std::optional<absl::Time> revoked_until;
  // The user's new token generation (all_sessions only).
  int64_t generation = 0;
  // A single logout that revoked all sessions: the user had
  // max_revoked_tokens_per_user revocations in force.
  bool over_cap = false;
};

class TokenService {
 public:
  // Create checks the settings (durations positive, extra claims an object
  // that does not override the payload's own claims) and builds the signer and
  // verifier. `store` must outlive the service.
  static absl::StatusOr<std::unique_ptr<TokenService>> Create(
      TokenSettings settings, jwt::KeySet keys, UserStore* store,
      PasswordHasher hasher, ThrottleOptions throttle, jwt::Clock clock,
      PayloadHook hook = nullptr);

  // Obtain checks a username and password (one password hash, whether or not
  // the user exists) and issues a token. `peer` keys the throttle.
  absl::StatusOr<IssuedToken> Obtain(absl::string_view username,
                                     absl::string_view password,
                                     absl::string_view peer);
  // CheckObtainRequest does Obtain's cheap checks (missing fields, sizes,
  // throttle) so a caller can refuse before queueing the hash.
  absl::Status CheckObtainRequest(absl::string_view username,
                                  absl::string_view password,
                                  absl::string_view peer);

  absl::StatusOr<IssuedToken> Refresh(absl::string_view token);
  absl::StatusOr<VerifiedToken> Verify(absl::string_view token);
  // Revoke checks `token` as Refresh would accept it (an expired token still
  // inside its refresh window counts when allow_expired_refresh is on) and
  // revokes it, or with `all_sessions` every token of its user. Past the
  // per-user cap (TokenSettings::max_revoked_tokens_per_user) it revokes
  // every token of the user, and says so in RevokedToken::all_sessions.
  absl::StatusOr<RevokedToken> Revoke(absl::string_view token,
                                      bool all_sessions);

  // SetKeys replaces the keys (a rotation picked up without a restart):
  // keys.current() signs from now on, every key verifies. Calls in flight
  // finish with the keys they started with. On error the old keys stay.
  absl::Status SetKeys(jwt::KeySet keys);
  jwt::KeySet keys() const { return crypto()->keys; }

  const TokenSettings& settings() const { return settings_; }
  const PasswordHasher& hasher() const { return hasher_; }

 private:
  // Crypto is everything built from one key set, swapped as a whole.
  struct Crypto {
    jwt::KeySet keys;
    jwt::JwtSigner signer;
    jwt::Verifier verifier;
    jwt::Verifier expired_ok_verifier;  // for allow_expired_refresh
  };
  static absl::StatusOr<std::shared_ptr<const Crypto>> BuildCrypto(
      const TokenSettings& settings, jwt::KeySet keys, jwt::Clock clock);
  std::shared_ptr<const Crypto> crypto() const {
    return std::atomic_load(&crypto_);
  }
  // RefreshWindowEnd is when `jwt`'s refresh chain ends (orig_iat +
  // refresh_expiration_delta); nullopt without an integer orig_iat.
  std::optional<absl::Time> RefreshWindowEnd(const jwt::VerifiedJwt& jwt) const;

  TokenService(TokenSettings settings, std::shared_ptr<const Crypto> crypto,
               UserStore* store, PasswordHasher hasher,
               ThrottleOptions throttle, jwt::Clock clock, PayloadHook hook);

  absl::StatusOr<IssuedToken> Issue(const User& user,
                                    std::optional<int64_t> orig_iat);
  // VerifyRefreshable checks a token as Refresh and Revoke accept it (an
  // expired one too when allow_expired_refresh is on), user checks included.
  absl::StatusOr<VerifiedToken> VerifyRefreshable(absl::string_view token);
  // CheckUser applies SPEC §3's user checks to a verified payload, then the
  // revocation checks (jti, generation).
  absl::StatusOr<User> CheckUser(const jwt::VerifiedJwt& jwt);

  TokenSettings settings_;
  std::shared_ptr<const Crypto> crypto_;  // std::atomic_load/store only
  UserStore* store_;
  PasswordHasher hasher_;
  LoginThrottle throttle_;
  jwt::Clock clock_;
  PayloadHook hook_;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_TOKEN_SERVICE_H_
