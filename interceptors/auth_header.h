// auth_header.h: reads the token from an `authorization` metadata value the
// way djangorestframework-jwt's JSONWebTokenAuthentication reads the HTTP
// Authorization header (SPEC §5): split on runs of whitespace; the first part
// must equal the prefix case-insensitively; exactly one more part is the
// token.
//
//   absl::StatusOr<absl::string_view> token = ExtractToken(value, "JWT");
//
// Outcomes (all UNAUTHENTICATED, messages exactly drf-jwt's):
//   other prefix (e.g. "Basic ...")  kNotOurs      -> treated as no credentials
//   prefix only                      "Invalid Authorization header. No
//   credentials provided." more than two parts              "Invalid
//   Authorization header. Credentials string
//                                     should not contain spaces."
// Thread-safety: stateless, safe from any thread.
#ifndef JWTAUTH_INTERCEPTORS_AUTH_HEADER_H_
#define JWTAUTH_INTERCEPTORS_AUTH_HEADER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace jwtauth::interceptors {

inline constexpr absl::string_view kMsgNoCredentials =
    "Authentication credentials were not provided.";
inline constexpr absl::string_view kMsgPrefixOnly =
    "Invalid Authorization header. No credentials provided.";
inline constexpr absl::string_view kMsgSpaces =
    "Invalid Authorization header. Credentials string should not contain "
    "spaces.";

enum class HeaderOutcome { kToken, kNotOurs, kPrefixOnly, kTooManyParts };

struct ParsedHeader {
  HeaderOutcome outcome;
  absl::string_view token;  // a view into the value; set for kToken
};

ParsedHeader ParseAuthorization(absl::string_view value,
                                absl::string_view prefix);

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_AUTH_HEADER_H_
