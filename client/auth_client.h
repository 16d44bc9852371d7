// auth_client.h: a small typed client for jwtauth.v1.AuthService.
//
// Each call returns absl::StatusOr; a failure keeps the server's code and
// message (drf-jwt's text) and carries its ErrorInfo reason, read with
// ErrorReason(status), e.g. "TOKEN_EXPIRED". Calls have a deadline
// (default 10 s) and never retry on their own.
//
//   AuthClient client(grpc::CreateChannel("127.0.0.1:50051", creds));
//   absl::StatusOr<IssuedToken> t = client.Obtain("ada", password);
//
// Thread-safety: thread-safe (gRPC stubs are).
#ifndef JWTAUTH_CLIENT_AUTH_CLIENT_H_
#define JWTAUTH_CLIENT_AUTH_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "jwtauth/v1/auth.grpc.pb.h"

namespace jwtauth::client {

struct IssuedToken {
  std::string token;
  absl::Time expires_at;
  std::optional<absl::Time> refresh_expires_at;
};

struct VerifiedToken {
  std::string token;
  std::string claims_json;  // the verified claims as a JSON object
  std::string user_id;
  std::string username;
  std::string email;
};

struct Revocation {
  // Every token of the user was revoked: asked for, or the server's
  // per-user cap on revoked tokens in force was reached.
  bool all_sessions = false;
  // Until when the token's revocation is kept; nullopt for all_sessions and
  // for a token without exp (kept for good).
  std::optional<absl::Time> revoked_until;
};

class AuthClient {
 public:
  explicit AuthClient(std::shared_ptr<grpc::ChannelInterface> channel,
                      absl::Duration timeout = absl::Seconds(10));

  absl::StatusOr<IssuedToken> Obtain(absl::string_view username,
                                     absl::string_view password);
  absl::StatusOr<IssuedToken> Refresh(absl::string_view token);
  absl::StatusOr<VerifiedToken> Verify(absl::string_view token);
  // Revoke logs out: `token` (or, with all_sessions, every token of its
  // user) is refused from now on.
  absl::StatusOr<Revocation> Revoke(absl::string_view token,
                                    bool all_sessions = false);
  // Jwks returns the server's public JWK Set (JSON).
  absl::StatusOr<std::string> Jwks();

 private:
  std::unique_ptr<jwtauth::v1::AuthService::Stub> stub_;
  absl::Duration timeout_;
};

// FromGrpcStatus converts a grpc::Status, keeping the ErrorInfo reason (and
// retry_after_seconds) from grpc-status-details-bin as payloads.
absl::Status FromGrpcStatus(const grpc::Status& status);

// ErrorReason returns the server's ErrorInfo reason, or nullopt when the
// failure did not come from jwtauth (e.g. the server could not be reached).
std::optional<std::string> ErrorReason(const absl::Status& status);

// WithErrorReason returns `status` carrying `reason`, as ErrorReason reads it
// (for jwtauth's own local decisions, e.g. the interceptors' TOKEN_REVOKED).
absl::Status WithErrorReason(absl::Status status, absl::string_view reason);

}  // namespace jwtauth::client

#endif  // JWTAUTH_CLIENT_AUTH_CLIENT_H_
