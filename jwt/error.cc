#include "jwt/error.h"

#include <array>
#include <string>

#include "absl/strings/cord.h"

namespace jwtauth::jwt {
namespace {

constexpr absl::string_view kPayloadUrl = "type.jwtauth/jwtauth.jwt.JwtError";

constexpr std::array<std::pair<JwtError, absl::string_view>, 16> kNames = {{
    {JwtError::kMalformed, "MALFORMED"},
    {JwtError::kTooLarge, "TOO_LARGE"},
    {JwtError::kBadSignature, "BAD_SIGNATURE"},
    {JwtError::kAlgorithmNotAllowed, "ALGORITHM_NOT_ALLOWED"},
    {JwtError::kUnsupportedHeader, "UNSUPPORTED_HEADER"},
    {JwtError::kKeyNotFound, "KEY_NOT_FOUND"},
    {JwtError::kExpired, "EXPIRED"},
    {JwtError::kNotYetValid, "NOT_YET_VALID"},
    {JwtError::kWrongAudience, "WRONG_AUDIENCE"},
    {JwtError::kWrongIssuer, "WRONG_ISSUER"},
    {JwtError::kMissingClaim, "MISSING_CLAIM"},
    {JwtError::kInvalidClaim, "INVALID_CLAIM"},
    {JwtError::kLifetimeTooLong, "LIFETIME_TOO_LONG"},
    {JwtError::kInvalidKey, "INVALID_KEY"},
    {JwtError::kInvalidOption, "INVALID_OPTION"},
    {JwtError::kSigningFailed, "SIGNING_FAILED"},
}};

}  // namespace

absl::string_view JwtErrorName(JwtError error) {
  for (const auto& [e, name] : kNames) {
    if (e == error) return name;
  }
  return "UNKNOWN";
}

absl::Status MakeJwtError(JwtError error, absl::string_view message) {
  absl::StatusCode code = absl::StatusCode::kUnauthenticated;
  if (error == JwtError::kInvalidKey || error == JwtError::kInvalidOption) {
    code = absl::StatusCode::kInvalidArgument;
  } else if (error == JwtError::kSigningFailed) {
    code = absl::StatusCode::kInternal;
  }
  absl::Status status(code, message);
  status.SetPayload(kPayloadUrl, absl::Cord(JwtErrorName(error)));
  return status;
}

std::optional<JwtError> GetJwtError(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const std::string name(*payload);
  for (const auto& [e, n] : kNames) {
    if (n == name) return e;
  }
  return std::nullopt;
}

}  // namespace jwtauth::jwt
