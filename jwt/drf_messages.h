// drf_messages.h: how a token rejection reads to a client, following
// djangorestframework-jwt (SPEC §4/§5): its exact message and jwtauth's
// stable ErrorInfo reason.
//
//   kExpired                                   -> "Signature has expired."
//   TOKEN_EXPIRED kMalformed, kBadSignature, kTooLarge, kUnsupportedHeader,
//   kKeyNotFound, kInvalidClaim                              -> "Error decoding
//   signature." TOKEN_INVALID anything else (alg not allowed, audience, issuer,
//   nbf, missing claims, lifetime)                                  ->
//   "Incorrect authentication credentials."
//                                                                             TOKEN_REJECTED
// PyJWT raises DecodeError (drf: "Error decoding signature.") for undecodable
// tokens and bad signatures, and other InvalidTokenErrors (drf's default
// "Incorrect authentication credentials.") for the rest; this table keeps that.
// Thread-safety: stateless, safe from any thread.
#ifndef JWTAUTH_JWT_DRF_MESSAGES_H_
#define JWTAUTH_JWT_DRF_MESSAGES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "jwt/error.h"

namespace jwtauth::jwt {

inline constexpr absl::string_view kMsgExpired = "Signature has expired.";
inline constexpr absl::string_view kMsgDecodeError =
    "Error decoding signature.";
inline constexpr absl::string_view kMsgIncorrectCredentials =
    "Incorrect authentication credentials.";

struct DrfRejection {
  absl::string_view message;
  absl::string_view reason;
};

// DescribeRejection maps a token rejection to drf-jwt's message and a reason.
DrfRejection DescribeRejection(JwtError error);
// DescribeRejectionStatus does the same for a status from Verifier (a status
// without a JwtError reads as "Error decoding signature.").
DrfRejection DescribeRejectionStatus(const absl::Status& status);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_DRF_MESSAGES_H_
