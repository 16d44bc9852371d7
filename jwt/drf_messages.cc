#include "jwt/drf_messages.h"

namespace jwtauth::jwt {

DrfRejection DescribeRejection(JwtError error) {
  switch (error) {
    case JwtError::kExpired:
      return {kMsgExpired, "TOKEN_EXPIRED"};
    case JwtError::kMalformed:
    case JwtError::kBadSignature:
    case JwtError::kTooLarge:
    case JwtError::kUnsupportedHeader:
    case JwtError::kKeyNotFound:
    case JwtError::kInvalidClaim:
      return {kMsgDecodeError, "TOKEN_INVALID"};
    default:
      return {kMsgIncorrectCredentials, "TOKEN_REJECTED"};
  }
}

DrfRejection DescribeRejectionStatus(const absl::Status& status) {
  std::optional<JwtError> error = GetJwtError(status);
  if (!error.has_value()) return {kMsgDecodeError, "TOKEN_INVALID"};
  return DescribeRejection(*error);
}

}  // namespace jwtauth::jwt
