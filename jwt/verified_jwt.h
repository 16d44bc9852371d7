// verified_jwt.h: a JWT whose signature and claims passed a Verifier.
//
// The only way to get one is Verifier::Verify; there is no "decode without
// verifying" in this library, so code that takes `const VerifiedJwt&` cannot
// be handed an unchecked token.
//
//   absl::StatusOr<VerifiedJwt> jwt = verifier.Verify(token);
//   if (jwt.ok()) std::optional<std::string> name = jwt->GetString("username");
//
// Thread-safety: immutable; thread-safe.
#ifndef JWTAUTH_JWT_VERIFIED_JWT_H_
#define JWTAUTH_JWT_VERIFIED_JWT_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "jwt/json.h"

namespace jwtauth::jwt {

class VerifiedJwt {
 public:
  const Json& header() const { return *header_; }
  const Json& claims() const& { return claims_; }
  // On an expiring VerifiedJwt (std::move(jwt).claims()) the claims move out.
  Json claims() && { return std::move(claims_); }
  // token is the compact token exactly as it was verified.
  const std::string& token() const { return token_; }
  // kid of the key that verified the token ("" if the key has none).
  const std::string& key_id() const { return key_id_; }
  // signature_verified is false only under verify_signature = false.
  bool signature_verified() const { return signature_verified_; }

  bool Has(absl::string_view name) const {
    return claims_.Find(name) != nullptr;
  }
  std::optional<std::string> GetString(absl::string_view name) const;
  std::optional<int64_t> GetInt(absl::string_view name) const;
  // GetTime reads a NumericDate claim (exp, nbf, iat, orig_iat...).
  std::optional<absl::Time> GetTime(absl::string_view name) const;

  std::optional<absl::Time> expiration() const { return GetTime("exp"); }
  std::optional<absl::Time> issued_at() const { return GetTime("iat"); }
  std::optional<std::string> subject() const { return GetString("sub"); }
  std::optional<std::string> jwt_id() const { return GetString("jti"); }

 private:
  friend class Verifier;
  VerifiedJwt(std::shared_ptr<const Json> header, Json claims,
              std::string token, std::string key_id, bool signature_verified)
      : header_(std::move(header)),
        claims_(std::move(claims)),
        token_(std::move(token)),
        key_id_(std::move(key_id)),
        signature_verified_(signature_verified) {}

  std::shared_ptr<const Json> header_;
  Json claims_;
  std::string token_;
  std::string key_id_;
  bool signature_verified_;
};

// NumericDateToTime converts a JSON number of seconds since the epoch to a
// time; values beyond absl's range saturate to the infinite past/future.
absl::Time NumericDateToTime(const Json& value);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_VERIFIED_JWT_H_
