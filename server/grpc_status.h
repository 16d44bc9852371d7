// grpc_status.h: the one conversion from absl::Status to grpc::Status, at the
// RPC edge. A failure made by AuthFailure keeps its code and message and gets
// a google.rpc.ErrorInfo detail (domain "jwtauth", its reason, metadata) in
// grpc-status-details-bin. Anything else is a server-side fault: it becomes
// UNAVAILABLE (store trouble) or INTERNAL with a generic message, never
// echoing internal text to the client.
// Thread-safety: stateless, safe from any thread.
#ifndef JWTAUTH_SERVER_GRPC_STATUS_H_
#define JWTAUTH_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace jwtauth::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_GRPC_STATUS_H_
