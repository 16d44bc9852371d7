#include "client/auth_client.h"

#include <chrono>

#include "absl/strings/cord.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace jwtauth::client {
namespace {

constexpr absl::string_view kReasonUrl = "type.jwtauth/jwtauth.client.Reason";

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

IssuedToken FromResponse(const jwtauth::v1::TokenResponse& r) {
  IssuedToken t{r.token(), ToTime(r.expires_at()), std::nullopt};
  if (r.has_refresh_expires_at())
    t.refresh_expires_at = ToTime(r.refresh_expires_at());
  return t;
}

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info) && info.domain() == "jwtauth") {
        out.SetPayload(kReasonUrl, absl::Cord(info.reason()));
      }
    }
  }
  return out;
}

std::optional<std::string> ErrorReason(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

absl::Status WithErrorReason(absl::Status status, absl::string_view reason) {
  status.SetPayload(kReasonUrl, absl::Cord(reason));
  return status;
}

AuthClient::AuthClient(std::shared_ptr<grpc::ChannelInterface> channel,
                       absl::Duration timeout)
    : stub_(jwtauth::v1::AuthService::NewStub(channel)), timeout_(timeout) {}

absl::StatusOr<IssuedToken> AuthClient::Obtain(absl::string_view username,
                                               absl::string_view password) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(timeout_));
  jwtauth::v1::ObtainTokenRequest req;
  req.set_username(std::string(username));
  req.set_password(std::string(password));
  jwtauth::v1::TokenResponse resp;
  grpc::Status s = stub_->ObtainToken(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromResponse(resp);
}

absl::StatusOr<IssuedToken> AuthClient::Refresh(absl::string_view token) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(timeout_));
  jwtauth::v1::RefreshTokenRequest req;
  req.set_token(std::string(token));
  jwtauth::v1::TokenResponse resp;
  grpc::Status s = stub_->RefreshToken(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromResponse(resp);
}

absl::StatusOr<VerifiedToken> AuthClient::Verify(absl::string_view token) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(timeout_));
  jwtauth::v1::VerifyTokenRequest req;
  req.set_token(std::string(token));
  jwtauth::v1::VerifyTokenResponse resp;
  grpc::Status s = stub_->VerifyToken(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  VerifiedToken v;
  v.token = resp.token();
  if (!google::protobuf::util::MessageToJsonString(resp.claims(),
                                                   &v.claims_json)
           .ok()) {
    v.claims_json = "{}";
  }
  v.user_id = resp.user().id();
  v.username = resp.user().username();
  v.email = resp.user().email();
  return v;
}

absl::StatusOr<Revocation> AuthClient::Revoke(absl::string_view token,
                                              bool all_sessions) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(timeout_));
  jwtauth::v1::RevokeTokenRequest req;
  req.set_token(std::string(token));
  req.set_all_sessions(all_sessions);
  jwtauth::v1::RevokeTokenResponse resp;
  grpc::Status s = stub_->RevokeToken(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  Revocation revocation;
  revocation.all_sessions = resp.all_sessions() || all_sessions;
  if (resp.has_revoked_until() && !revocation.all_sessions) {
    revocation.revoked_until =
        absl::FromUnixSeconds(resp.revoked_until().seconds());
  }
  return revocation;
}

absl::StatusOr<std::string> AuthClient::Jwks() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(timeout_));
  jwtauth::v1::GetJwksResponse resp;
  grpc::Status s = stub_->GetJwks(&ctx, jwtauth::v1::GetJwksRequest(), &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return resp.jwks_json();
}

}  // namespace jwtauth::client
