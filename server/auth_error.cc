#include "server/auth_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace jwtauth::server {
namespace {

constexpr absl::string_view kReasonUrl = "type.jwtauth/jwtauth.server.Reason";
constexpr absl::string_view kRetryUrl =
    "type.jwtauth/jwtauth.server.RetryAfter";

}  // namespace

absl::Status AuthFailure(absl::StatusCode code, absl::string_view message,
                         absl::string_view reason) {
  absl::Status status(code, message);
  status.SetPayload(kReasonUrl, absl::Cord(reason));
  return status;
}

absl::Status ThrottledFailure(int64_t seconds) {
  absl::Status status =
      AuthFailure(absl::StatusCode::kResourceExhausted,
                  absl::StrCat("Request was throttled. Expected available in ",
                               seconds, " seconds."),
                  "THROTTLED");
  status.SetPayload(kRetryUrl, absl::Cord(absl::StrCat(seconds)));
  return status;
}

absl::Status StoreUnavailable() {
  return AuthFailure(absl::StatusCode::kUnavailable, kMsgStoreUnavailable,
                     "STORE_UNAVAILABLE");
}

std::optional<std::string> ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

std::optional<int64_t> RetryAfterOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryUrl);
  int64_t seconds = 0;
  if (!payload.has_value() ||
      !absl::SimpleAtoi(std::string(*payload), &seconds)) {
    return std::nullopt;
  }
  return seconds;
}

}  // namespace jwtauth::server
