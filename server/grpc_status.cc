#include "server/grpc_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/auth_error.h"

namespace jwtauth::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::optional<std::string> reason = ReasonOf(status);
  if (!reason.has_value()) {
    if (status.code() == absl::StatusCode::kUnavailable)
      return ToGrpcStatus(StoreUnavailable());
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }
  google::rpc::ErrorInfo info;
  info.set_reason(*reason);
  info.set_domain(std::string(kErrorDomain));
  if (std::optional<int64_t> retry = RetryAfterOf(status); retry.has_value()) {
    (*info.mutable_metadata())["retry_after_seconds"] = absl::StrCat(*retry);
  }
  google::rpc::Status details;
  details.set_code(static_cast<int32_t>(status.code()));
  details.set_message(std::string(status.message()));
  details.add_details()->PackFrom(info);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()),
                      details.SerializeAsString());
}

}  // namespace jwtauth::server
