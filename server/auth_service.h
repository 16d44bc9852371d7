// auth_service.h: jwtauth.v1.AuthService over gRPC's callback API.
//
// ObtainToken's cheap checks (missing fields, sizes, throttling) run on the
// callback thread; the password hash runs on `hash_pool`, which finishes the
// call (or hands the reply to `finish_pool`), so gRPC's few callback threads (2
// on a 2-core machine) stay free for VerifyToken/RefreshToken during a login
// storm. VerifyToken/RefreshToken run inline (a signature check and one local
// SQLite read) unless `io_pool` is given — for a networked store (PostgreSQL)
// whose calls may wait — in which case they run there. A full pool answers
// RESOURCE_EXHAUSTED (OVERLOADED). Every decision is logged once (method, user,
// outcome, peer), never with passwords or tokens.
//
//   AuthServiceImpl service(token_service.get(), &hash_pool);
//   builder.RegisterService(&service);
//
// Thread-safety: thread-safe; `tokens` and `pool` must outlive the server.
#ifndef JWTAUTH_SERVER_AUTH_SERVICE_H_
#define JWTAUTH_SERVER_AUTH_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "common/worker_pool.h"
#include "jwtauth/v1/auth.grpc.pb.h"
#include "server/arena_messages.h"
#include "server/auth_metrics.h"
#include "server/revocation_feed.h"
#include "server/token_service.h"

namespace jwtauth::server {

class AuthServiceImpl final : public jwtauth::v1::AuthService::CallbackService {
 public:
  // finish_pool: if set, a login's reply is sent from there rather than from
  // the hashing thread, so hashing threads running at a low priority never
  // hold gRPC's locks (no priority inversion against VerifyToken).
  AuthServiceImpl(TokenService* tokens, common::WorkerPool* hash_pool,
                  common::WorkerPool* io_pool = nullptr,
                  common::WorkerPool* finish_pool = nullptr)
      : tokens_(tokens),
        pool_(hash_pool),
        io_pool_(io_pool),
        finish_pool_(finish_pool) {
    SetMessageAllocatorFor_VerifyToken(&verify_messages_);
    SetMessageAllocatorFor_RefreshToken(&refresh_messages_);
  }

  grpc::ServerUnaryReactor* ObtainToken(
      grpc::CallbackServerContext* context,
      const jwtauth::v1::ObtainTokenRequest* request,
      jwtauth::v1::TokenResponse* response) override;
  grpc::ServerUnaryReactor* RefreshToken(
      grpc::CallbackServerContext* context,
      const jwtauth::v1::RefreshTokenRequest* request,
      jwtauth::v1::TokenResponse* response) override;
  grpc::ServerUnaryReactor* VerifyToken(
      grpc::CallbackServerContext* context,
      const jwtauth::v1::VerifyTokenRequest* request,
      jwtauth::v1::VerifyTokenResponse* response) override;
  grpc::ServerUnaryReactor* RevokeToken(
      grpc::CallbackServerContext* context,
      const jwtauth::v1::RevokeTokenRequest* request,
      jwtauth::v1::RevokeTokenResponse* response) override;
  grpc::ServerWriteReactor<jwtauth::v1::RevocationEvents>* WatchRevocations(
      grpc::CallbackServerContext* context,
      const jwtauth::v1::WatchRevocationsRequest* request) override;
  grpc::ServerUnaryReactor* GetJwks(
      grpc::CallbackServerContext* context,
      const jwtauth::v1::GetJwksRequest* request,
      jwtauth::v1::GetJwksResponse* response) override;

  // Optional parts, set before the server starts. Without a feed,
  // WatchRevocations is UNIMPLEMENTED; without a JWKS source GetJwks answers
  // an empty set.
  void set_revocation_feed(RevocationFeed* feed) { feed_ = feed; }
  void set_jwks_source(std::function<std::string()> jwks) {
    jwks_ = std::move(jwks);
  }
  // Every call's outcome and latency go to `metrics` (may be null).
  void set_metrics(AuthMetrics* metrics) { metrics_ = metrics; }

 private:
  // RunIo runs `work` on the io pool (or inline without one); false when the
  // pool is full.
  bool RunIo(std::function<void()> work);
  struct Decision;
  // ServeOnIo answers a unary call from the io pool: `decide` (run there)
  // fills the response and returns a Decision; the decision is logged as
  // `name`, recorded as `method`, and finishes the call. A full pool answers
  // OVERLOADED.
  template <typename Decide>
  grpc::ServerUnaryReactor* ServeOnIo(grpc::CallbackServerContext* context,
                                      AuthMethod method, const char* name,
                                      Decide decide);

  TokenService* tokens_;
  common::WorkerPool* pool_;
  common::WorkerPool* io_pool_;
  common::WorkerPool* finish_pool_;
  RevocationFeed* feed_ = nullptr;
  AuthMetrics* metrics_ = nullptr;
  std::function<std::string()> jwks_;
  // VerifyToken's claims Struct and RefreshToken's reply live on a per-call
  // arena (arena_messages.h).
  ArenaMessages<jwtauth::v1::VerifyTokenRequest,
                jwtauth::v1::VerifyTokenResponse>
      verify_messages_;
  ArenaMessages<jwtauth::v1::RefreshTokenRequest, jwtauth::v1::TokenResponse>
      refresh_messages_;
};

// PeerAddress strips the port from a gRPC peer string ("ipv4:1.2.3.4:5678"
// -> "ipv4:1.2.3.4"), so throttling keys on the client's address.
std::string PeerAddress(absl::string_view peer);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_AUTH_SERVICE_H_
