#include "server/auth_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"
#include "server/auth_error.h"
#include "server/auth_log.h"
#include "server/grpc_status.h"
#include "server/json_struct.h"

namespace jwtauth::server {
namespace {

using google::protobuf::util::TimeUtil;

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  *out = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(t));
}

void FillTokenResponse(const IssuedToken& issued,
                       jwtauth::v1::TokenResponse* response) {
  response->set_token(issued.token);
  SetTimestamp(issued.expires_at, response->mutable_expires_at());
  if (issued.refresh_expires_at.has_value()) {
    SetTimestamp(*issued.refresh_expires_at,
                 response->mutable_refresh_expires_at());
  }
}

std::string Outcome(const absl::Status& status) {
  if (status.ok()) return "OK";
  return ReasonOf(status).value_or(
      std::string(absl::StatusCodeToString(status.code())));
}

// Record counts one finished call in `metrics` (if any).
void Record(AuthMetrics* metrics, AuthMethod method, const absl::Status& status,
            absl::Time start) {
  if (metrics == nullptr) return;
  metrics->RecordCall(method, status, absl::Now() - start);
  if (status.ok()) return;
  const std::optional<std::string> reason = ReasonOf(status);
  if (reason == "THROTTLED") metrics->RecordLoginThrottled();
  if (reason == "STORE_UNAVAILABLE") metrics->RecordStoreError();
}

void FinishOverloaded(grpc::ServerUnaryReactor* reactor,
                      absl::string_view method, absl::string_view user,
                      absl::string_view peer, AuthMetrics* metrics,
                      AuthMethod which, absl::Time start) {
  absl::Status busy = AuthFailure(absl::StatusCode::kResourceExhausted,
                                  kMsgOverloaded, "OVERLOADED");
  LogAuthDecision(method, user, Outcome(busy), peer);
  Record(metrics, which, busy, start);
  reactor->Finish(ToGrpcStatus(busy));
}

}  // namespace

std::string PeerAddress(absl::string_view peer) {
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    // gRPC 1.51 percent-encodes the brackets: "ipv6:%5B::1%5D:44436".
    std::string host = absl::StrReplaceAll(
        peer,
        {{"%5B", "["}, {"%5D", "]"}, {"%5b", "["}, {"%5d", "]"}, {"%25", "%"}});
    const size_t close = host.rfind(']');
    if (close != std::string::npos) host.resize(close + 1);
    return absl::StrCat("ipv6:", host);
  }
  if (absl::ConsumePrefix(&peer, "ipv4:")) {
    const size_t colon = peer.rfind(':');
    return absl::StrCat("ipv4:", colon == absl::string_view::npos
                                     ? peer
                                     : peer.substr(0, colon));
  }
  return std::string(peer);
}

grpc::ServerUnaryReactor* AuthServiceImpl::ObtainToken(
    grpc::CallbackServerContext* context,
    const jwtauth::v1::ObtainTokenRequest* request,
    jwtauth::v1::TokenResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string peer = PeerAddress(context->peer());
  AuthMetrics* metrics = metrics_;
  absl::Status cheap = tokens_->CheckObtainRequest(request->username(),
                                                   request->password(), peer);
  if (!cheap.ok()) {
    LogAuthDecision("ObtainToken", request->username(), Outcome(cheap), peer);
    Record(metrics, AuthMethod::kObtainToken, cheap, start);
    reactor->Finish(ToGrpcStatus(cheap));
    return reactor;
  }
  TokenService* tokens = tokens_;
  common::WorkerPool* finish_pool = finish_pool_;
  const bool queued = pool_->TrySubmit([tokens, finish_pool, context, reactor,
                                        request, response, peer, metrics,
                                        start] {
    if (context->IsCancelled()) {  // the caller gave up while queued: skip
                                   // the hash
      reactor->Finish(
          grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
      return;
    }
    absl::StatusOr<IssuedToken> issued =
        tokens->Obtain(request->username(), request->password(), peer);
    LogAuthDecision("ObtainToken", request->username(),
                    Outcome(issued.status()), peer);
    Record(metrics, AuthMethod::kObtainToken, issued.status(), start);
    if (issued.ok()) FillTokenResponse(*issued, response);
    grpc::Status status = ToGrpcStatus(issued.status());
    if (finish_pool == nullptr || !finish_pool->TrySubmit([reactor, status] {
          reactor->Finish(status);
        })) {
      reactor->Finish(status);
    }
  });
  if (!queued) {
    FinishOverloaded(reactor, "ObtainToken", request->username(), peer, metrics,
                     AuthMethod::kObtainToken, start);
  }
  return reactor;
}

bool AuthServiceImpl::RunIo(std::function<void()> work) {
  if (io_pool_ == nullptr) {
    work();
    return true;
  }
  return io_pool_->TrySubmit(std::move(work));
}

// Decision is a call's outcome as logged: its status and the user it was
// about ("" when none).
struct AuthServiceImpl::Decision {
  absl::Status status;
  std::string username;
  // Logged as the method instead of the call's own name when set.
  const char* method = nullptr;
};

template <typename Decide>
grpc::ServerUnaryReactor* AuthServiceImpl::ServeOnIo(
    grpc::CallbackServerContext* context, AuthMethod method, const char* name,
    Decide decide) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string peer = PeerAddress(context->peer());
  AuthMetrics* metrics = metrics_;
  const bool ran =
      RunIo([decide, reactor, peer, metrics, method, name, start]() mutable {
        const Decision decision = decide();
        LogAuthDecision(decision.method != nullptr ? decision.method : name,
                        decision.username, Outcome(decision.status), peer);
        Record(metrics, method, decision.status, start);
        reactor->Finish(ToGrpcStatus(decision.status));
      });
  if (!ran) FinishOverloaded(reactor, name, "", peer, metrics, method, start);
  return reactor;
}

grpc::ServerUnaryReactor* AuthServiceImpl::RefreshToken(
    grpc::CallbackServerContext* context,
    const jwtauth::v1::RefreshTokenRequest* request,
    jwtauth::v1::TokenResponse* response) {
  TokenService* tokens = tokens_;
  return ServeOnIo(context, AuthMethod::kRefreshToken, "RefreshToken",
                   [tokens, request, response] {
                     absl::StatusOr<IssuedToken> issued =
                         tokens->Refresh(request->token());
                     if (!issued.ok()) return Decision{issued.status(), ""};
                     FillTokenResponse(*issued, response);
                     return Decision{absl::OkStatus(), issued->user.username};
                   });
}

grpc::ServerUnaryReactor* AuthServiceImpl::VerifyToken(
    grpc::CallbackServerContext* context,
    const jwtauth::v1::VerifyTokenRequest* request,
    jwtauth::v1::VerifyTokenResponse* response) {
  TokenService* tokens = tokens_;
  return ServeOnIo(context, AuthMethod::kVerifyToken, "VerifyToken",
                   [tokens, request, response] {
                     absl::StatusOr<VerifiedToken> verified =
                         tokens->Verify(request->token());
                     if (!verified.ok()) return Decision{verified.status(), ""};
                     response->set_token(request->token());
                     JsonToStruct(verified->jwt.claims(),
                                  response->mutable_claims());
                     jwtauth::v1::User* user = response->mutable_user();
                     user->set_id(absl::StrCat(verified->user.id));
                     user->set_username(verified->user.username);
                     user->set_email(verified->user.email);
                     return Decision{absl::OkStatus(), verified->user.username};
                   });
}

grpc::ServerUnaryReactor* AuthServiceImpl::RevokeToken(
    grpc::CallbackServerContext* context,
    const jwtauth::v1::RevokeTokenRequest* request,
    jwtauth::v1::RevokeTokenResponse* response) {
  TokenService* tokens = tokens_;
  RevocationFeed* feed = feed_;
  AuthMetrics* metrics = metrics_;
  // Revocations are writes: always off gRPC's threads when there is a pool.
  return ServeOnIo(
      context, AuthMethod::kRevokeToken,
      request->all_sessions() ? "RevokeToken(all_sessions)" : "RevokeToken",
      [tokens, feed, metrics, request, response] {
        absl::StatusOr<RevokedToken> revoked =
            tokens->Revoke(request->token(), request->all_sessions());
        if (!revoked.ok()) return Decision{revoked.status(), ""};
        response->set_all_sessions(revoked->all_sessions);
        if (revoked->revoked_until.has_value() &&
            *revoked->revoked_until != absl::InfiniteFuture()) {
          SetTimestamp(*revoked->revoked_until,
                       response->mutable_revoked_until());
        }
        if (feed != nullptr) feed->Poke();
        if (metrics != nullptr) {
          metrics->RecordRevocation(revoked->over_cap ? RevocationKind::kOverCap
                                    : revoked->all_sessions
                                        ? RevocationKind::kAllSessions
                                        : RevocationKind::kToken);
        }
        return Decision{absl::OkStatus(), revoked->user.username,
                        revoked->over_cap ? "RevokeToken(over_cap)" : nullptr};
      });
}

grpc::ServerWriteReactor<jwtauth::v1::RevocationEvents>*
AuthServiceImpl::WatchRevocations(
    grpc::CallbackServerContext* context,
    const jwtauth::v1::WatchRevocationsRequest* /*request*/) {
  // Counted once the feed has answered (its snapshot queued, or refused),
  // with the time that took; a stream's later end is its normal end.
  RevocationFeed::Answered answered;
  if (metrics_ != nullptr) {
    answered = [metrics = metrics_,
                start = absl::Now()](const absl::Status& status) {
      metrics->RecordCall(AuthMethod::kWatchRevocations, status,
                          absl::Now() - start);
    };
  }
  if (feed_ != nullptr) return feed_->Watch(context, std::move(answered));
  if (answered != nullptr) answered(absl::UnimplementedError("no feed"));
  return jwtauth::v1::AuthService::CallbackService::WatchRevocations(context,
                                                                     nullptr);
}

grpc::ServerUnaryReactor* AuthServiceImpl::GetJwks(
    grpc::CallbackServerContext* context,
    const jwtauth::v1::GetJwksRequest* /*request*/,
    jwtauth::v1::GetJwksResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  response->set_jwks_json(jwks_ ? jwks_() : std::string("{\"keys\":[]}"));
  Record(metrics_, AuthMethod::kGetJwks, absl::OkStatus(), start);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace jwtauth::server
