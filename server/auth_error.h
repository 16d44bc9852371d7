// auth_error.h: the service's client-facing failures (SPEC §4).
//
// Inside jwtauth::server every failure a client may see is an absl::Status
// made by AuthFailure: its code and message are what the client receives,
// and it carries a stable upper-case reason (ErrorInfo.reason at the gRPC
// edge, see grpc_status.h) plus optional metadata such as
// retry_after_seconds. Any other status reaching the edge is mapped to a
// safe UNAVAILABLE/INTERNAL answer there.
// Thread-safety: stateless functions, safe from any thread.
#ifndef JWTAUTH_SERVER_AUTH_ERROR_H_
#define JWTAUTH_SERVER_AUTH_ERROR_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace jwtauth::server {

inline constexpr absl::string_view kErrorDomain = "jwtauth";

inline constexpr absl::string_view kMsgCredentialsMissing =
    "Must include \"username\" and \"password\".";
inline constexpr absl::string_view kMsgNullCharacters =
    "Null characters are not allowed.";
inline constexpr absl::string_view kMsgBadCredentials =
    "Unable to log in with provided credentials.";
inline constexpr absl::string_view kMsgInvalidPayload = "Invalid payload.";
inline constexpr absl::string_view kMsgUserNotFound = "User doesn't exist.";
inline constexpr absl::string_view kMsgUserInactive =
    "User account is disabled.";
inline constexpr absl::string_view kMsgOrigIatRequired =
    "orig_iat field is required.";
inline constexpr absl::string_view kMsgRefreshExpired = "Refresh has expired.";
// The wording of drf-jwt's maintained fork (blacklist app).
inline constexpr absl::string_view kMsgTokenRevoked = "Token is blacklisted.";
inline constexpr absl::string_view kMsgJtiMissing =
    "Token has no jti claim: revoke all sessions instead.";
inline constexpr absl::string_view kMsgStoreUnavailable =
    "The user store is unavailable.";
inline constexpr absl::string_view kMsgOverloaded =
    "Server is busy. Try again shortly.";

// AuthFailure makes a client-facing failure with `reason`.
absl::Status AuthFailure(absl::StatusCode code, absl::string_view message,
                         absl::string_view reason);

// ThrottledFailure is RESOURCE_EXHAUSTED "Request was throttled. Expected
// available in N seconds." (DRF's text) with reason THROTTLED and metadata
// retry_after_seconds = N.
absl::Status ThrottledFailure(int64_t seconds);

// StoreUnavailable maps a user-store error to the client-facing failure
// (UNAVAILABLE, STORE_UNAVAILABLE); the store's own message is for logs.
absl::Status StoreUnavailable();

// ReasonOf returns the reason attached by AuthFailure, or nullopt.
std::optional<std::string> ReasonOf(const absl::Status& status);
// RetryAfterOf returns the retry_after_seconds attached by ThrottledFailure.
std::optional<int64_t> RetryAfterOf(const absl::Status& status);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_AUTH_ERROR_H_
