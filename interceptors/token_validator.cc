#include "interceptors/token_validator.h"

#include <optional>
#include <string>
#include <utility>

#include "client/auth_client.h"
#include "jwt/base64url.h"
#include "jwt/drf_messages.h"
#include "jwt/json.h"
#include "jwt/verified_jwt.h"

namespace jwtauth::interceptors {
namespace {

constexpr absl::string_view kMsgInvalidPayload = "Invalid payload.";
constexpr absl::string_view kMsgAuthUnavailable =
    "Authentication service unavailable.";

absl::Status Unauthenticated(absl::string_view message) {
  return absl::UnauthenticatedError(message);
}

// UnknownKid returns the kid the token's header names when `verifier` has no
// key with it (the failure path only: the header is read without trust, to
// pick keys, as the verifier itself does).
std::optional<std::string> UnknownKid(absl::string_view token,
                                      const jwt::Verifier& verifier) {
  constexpr size_t kMaxHeader = 4096;
  const size_t dot = token.find('.');
  if (dot == absl::string_view::npos || dot > kMaxHeader) return std::nullopt;
  std::string header_json;
  if (!jwt::Base64UrlDecode(token.substr(0, dot), header_json))
    return std::nullopt;
  absl::StatusOr<jwt::Json> header = jwt::ParseJson(header_json);
  if (!header.ok() || !header->is_object()) return std::nullopt;
  const jwt::Json* kid = header->Find("kid");
  if (kid == nullptr || !kid->is_string() || kid->string_value().empty())
    return std::nullopt;
  if (verifier.keys().FindByKid(kid->string_value()) != nullptr)
    return std::nullopt;
  return kid->string_value();
}

class Local final : public TokenValidator {
 public:
  Local(std::shared_ptr<VerifierSource> source, TokenCacheOptions cache,
        jwt::Clock clock, std::shared_ptr<const RevocationChecker> revocations)
      : source_(std::move(source)),
        cache_(cache, clock),
        revocations_(std::move(revocations)) {}

  absl::StatusOr<std::shared_ptr<const Caller>> Validate(
      absl::string_view token) override {
    // Read before Current(): an entry is stored under a generation no newer
    // than the keys that verified it (verifier_source.h).
    const uint64_t generation = source_->generation();
    std::shared_ptr<const Caller> caller = cache_.Lookup(token, generation);
    if (caller == nullptr) {
      absl::StatusOr<std::shared_ptr<const jwt::Verifier>> verifier =
          source_->Current();
      if (!verifier.ok()) return absl::UnavailableError(kMsgAuthUnavailable);
      absl::StatusOr<jwt::VerifiedJwt> jwt = (*verifier)->Verify(token);
      if (!jwt.ok()) {
        // A kid we have no key for: perhaps a rotation not yet seen.
        if (std::optional<std::string> kid = UnknownKid(token, **verifier)) {
          absl::StatusOr<std::shared_ptr<const jwt::Verifier>> newer =
              source_->ForUnknownKid(*kid);
          if (newer.ok() && *newer != *verifier) jwt = (*newer)->Verify(token);
        }
      }
      if (!jwt.ok())
        return Unauthenticated(
            jwt::DescribeRejectionStatus(jwt.status()).message);
      caller = CallerFromClaims(std::move(*jwt).claims());
      if (caller->username.empty()) return Unauthenticated(kMsgInvalidPayload);
      // Cached even when revoked: the revocation check runs on every hit.
      cache_.Insert(token, caller, generation);
    }
    if (revocations_ != nullptr) {
      if (absl::Status s = CheckRevocation(*revocations_, *caller); !s.ok())
        return s;
    }
    return caller;
  }
  std::shared_ptr<const Caller> Cached(absl::string_view token) override {
    std::shared_ptr<const Caller> caller =
        cache_.Lookup(token, source_->generation());
    if (caller != nullptr && revocations_ != nullptr &&
        !CheckRevocation(*revocations_, *caller).ok()) {
      return nullptr;  // Validate gives the refusal
    }
    return caller;
  }
  bool blocking() const override { return source_->blocking(); }
  TokenCacheStats CacheStats() const override { return cache_.Stats(); }

 private:
  const std::shared_ptr<VerifierSource> source_;
  TokenCache cache_;
  const std::shared_ptr<const RevocationChecker> revocations_;
};

class Remote final : public TokenValidator {
 public:
  Remote(std::shared_ptr<grpc::ChannelInterface> channel, RemoteOptions options,
         jwt::Clock clock)
      : client_(std::move(channel), options.timeout),
        cache_(options.cache, std::move(clock)) {}

  absl::StatusOr<std::shared_ptr<const Caller>> Validate(
      absl::string_view token) override {
    if (std::shared_ptr<const Caller> hit = cache_.Lookup(token)) return hit;
    absl::StatusOr<client::VerifiedToken> verified = client_.Verify(token);
    if (!verified.ok()) {
      // The auth server's own answer (drf-jwt's message) goes to the caller;
      // failing to reach it is UNAVAILABLE, never a verdict on the token.
      if (client::ErrorReason(verified.status()).has_value() &&
          verified.status().code() == absl::StatusCode::kUnauthenticated) {
        return Unauthenticated(verified.status().message());
      }
      return absl::UnavailableError(kMsgAuthUnavailable);
    }
    // Trust only an answer about this very token that names a user.
    absl::StatusOr<jwt::Json> claims = jwt::ParseJson(verified->claims_json);
    if (!claims.ok() || !claims->is_object() || verified->token != token ||
        verified->username.empty()) {
      return absl::UnavailableError(kMsgAuthUnavailable);
    }
    std::shared_ptr<const Caller> caller = CallerFromClaims(*std::move(claims));
    if (caller->username != verified->username)
      return absl::UnavailableError(kMsgAuthUnavailable);
    cache_.Insert(token, caller);
    return caller;
  }
  std::shared_ptr<const Caller> Cached(absl::string_view token) override {
    return cache_.Lookup(token);
  }
  bool blocking() const override { return true; }
  TokenCacheStats CacheStats() const override { return cache_.Stats(); }

 private:
  client::AuthClient client_;
  TokenCache cache_;
};

}  // namespace

std::shared_ptr<const Caller> CallerFromClaims(jwt::Json claims) {
  auto caller = std::make_shared<Caller>();
  if (const jwt::Json* u = claims.Find("username");
      u != nullptr && u->is_string()) {
    caller->username = u->string_value();
  }
  if (const jwt::Json* id = claims.Find("user_id");
      id != nullptr && id->is_number()) {
    caller->user_id = id->int_value();
  }
  if (const jwt::Json* jti = claims.Find("jti");
      jti != nullptr && jti->is_string()) {
    caller->jti = jti->string_value();
  }
  if (const jwt::Json* gen = claims.Find("gen");
      gen != nullptr && gen->int_value().has_value()) {
    caller->generation = *gen->int_value();
  }
  if (const jwt::Json* exp = claims.Find("exp");
      exp != nullptr && exp->is_number()) {
    caller->expires_at = jwt::NumericDateToTime(*exp);
  }
  caller->claims = std::move(claims);
  return caller;
}

std::shared_ptr<TokenValidator> LocalValidator(
    jwt::Verifier verifier, TokenCacheOptions cache, jwt::Clock clock,
    std::shared_ptr<const RevocationChecker> revocations) {
  return LocalValidator(FixedVerifierSource(std::move(verifier)), cache,
                        std::move(clock), std::move(revocations));
}

std::shared_ptr<TokenValidator> LocalValidator(
    std::shared_ptr<VerifierSource> source, TokenCacheOptions cache,
    jwt::Clock clock, std::shared_ptr<const RevocationChecker> revocations) {
  return std::make_shared<Local>(std::move(source), cache, std::move(clock),
                                 std::move(revocations));
}

std::shared_ptr<TokenValidator> RemoteValidator(
    std::shared_ptr<grpc::ChannelInterface> channel, RemoteOptions options,
    jwt::Clock clock) {
  return std::make_shared<Remote>(std::move(channel), options,
                                  std::move(clock));
}

}  // namespace jwtauth::interceptors
