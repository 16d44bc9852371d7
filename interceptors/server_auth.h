// server_auth.h: server-side JWT validation that any gRPC server attaches in
// a few lines, so that calls without a valid token never reach a handler.
//
//   auto auth = *ServerAuth::Create({.validator = LocalValidator(*verifier)});
//   builder.AddListeningPort(addr,
//   auth->Credentials(grpc::SslServerCredentials(opts)));
//   // plaintext:   builder.AddListeningPort(addr,
//   auth->InsecureCredentials());
//   // in a handler:
//   absl::StatusOr<std::shared_ptr<const Caller>> who = CallerClaims(*context);
//
// How: the check runs as the transport's auth metadata processor, before any
// handler (sync, async or callback alike) is scheduled; a refused call gets
// its status straight from the transport. TLS, mTLS and local credentials
// take the processor through the C++ API. gRPC 1.51's C++
// InsecureServerCredentials() aborts when given a processor, so
// InsecureCredentials() builds plaintext credentials through gRPC's public
// core API (grpc_insecure_server_credentials_create +
// grpc_server_credentials_set_auth_metadata_processor), which supports it;
// docs/design.md records why this and not a forwarding proxy. Credentials()
// recognises gRPC's insecure credentials and switches to the same path.
//
// Decisions (SPEC §5, all UNAUTHENTICATED with drf-jwt's text):
//   no authorization, or another scheme   "Authentication credentials were not
//   provided." prefix only                            "Invalid Authorization
//   header. No credentials provided." more than two parts "Invalid
//   Authorization header. Credentials string
//                                           should not contain spaces."
//   token refused                          the validator's message (Signature
//   has expired., ...)
// Public methods (health and reflection by default) skip the check. A method
// may require claims; an identified caller without them gets
// PERMISSION_DENIED "You do not have permission to perform this action.".
//
// Per-call identity never goes into the connection-scoped AuthContext: the
// handler's CallerClaims() reads its own call's metadata and looks the token
// up in the validator's cache (verifying again on a miss), so two users on
// one connection each see their own claims.
//
// Thread-safety: thread-safe; a ServerAuth must outlive servers using it.
#ifndef JWTAUTH_INTERCEPTORS_SERVER_AUTH_H_
#define JWTAUTH_INTERCEPTORS_SERVER_AUTH_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "interceptors/caller.h"
#include "interceptors/revocation_checker.h"
#include "interceptors/token_validator.h"

namespace jwtauth::interceptors {

inline constexpr absl::string_view kMsgPermissionDenied =
    "You do not have permission to perform this action.";

// ClaimRequirement: the claim must equal `value`, or be an array holding it;
// for the "scope" and "scp" claims a space-separated string (an OAuth scope
// list) holding it also counts.
struct ClaimRequirement {
  std::string claim;
  std::string value;
};

struct ServerAuthOptions {
  std::shared_ptr<TokenValidator> validator;
  // Revocations to enforce on top of the validator (local mode: a
  // RevocationWatcher following the auth server's WatchRevocations), checked
  // on every call, cached tokens included: a revoked token gets
  // UNAUTHENTICATED "Token is blacklisted." (revocation_checker.h).
  std::shared_ptr<const RevocationChecker> revocations;
  // JWT_AUTH_HEADER_PREFIX; compared case-insensitively.
  std::string header_prefix = "JWT";
  // Methods callable without a token: "/pkg.Service/Method", or
  // "/pkg.Service/" for a whole service (other forms are refused by Create).
  std::vector<std::string> public_methods = {
      "/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/",
      "/grpc.reflection.v1.ServerReflection/"};
  // Claims required per method or service (same key forms as above).
  std::map<std::string, std::vector<ClaimRequirement>> required_claims;
  // Make this instance the one CallerClaims() uses (the last one wins).
  bool set_default = true;
};

class ServerAuth : public std::enable_shared_from_this<ServerAuth> {
 public:
  static absl::StatusOr<std::shared_ptr<ServerAuth>> Create(
      ServerAuthOptions options);

  // Credentials installs the check on secure credentials (TLS, mTLS, local);
  // gRPC's insecure credentials are replaced by InsecureCredentials().
  std::shared_ptr<grpc::ServerCredentials> Credentials(
      std::shared_ptr<grpc::ServerCredentials> base);
  // InsecureCredentials: plaintext with the check installed.
  std::shared_ptr<grpc::ServerCredentials> InsecureCredentials();

  // Check decides one call from its method path and `authorization` values.
  grpc::Status Check(absl::string_view path,
                     absl::Span<const absl::string_view> authorization) const;
  // CheckWithoutBlocking decides a call when no network is needed (public
  // method, bad header, cached token); nullopt means Check must run.
  std::optional<grpc::Status> CheckWithoutBlocking(
      absl::string_view path,
      absl::Span<const absl::string_view> authorization) const;

  // CallerOf returns the verified caller of the call in `context`.
  absl::StatusOr<std::shared_ptr<const Caller>> CallerOf(
      const grpc::ServerContextBase& context) const;

  TokenCacheStats CacheStats() const {
    return options_.validator->CacheStats();
  }
  bool blocking() const { return options_.validator->blocking(); }

 private:
  explicit ServerAuth(ServerAuthOptions options)
      : options_(std::move(options)) {}
  bool IsPublic(absl::string_view path) const;
  const std::vector<ClaimRequirement>* RequirementsFor(
      absl::string_view path) const;
  grpc::Status CheckRequirements(absl::string_view path,
                                 const Caller& caller) const;
  absl::Status CheckRevoked(const Caller& caller) const;

  ServerAuthOptions options_;
};

// CallerClaims returns the verified caller of the call in `context`, using
// the default ServerAuth (ServerAuthOptions::set_default).
absl::StatusOr<std::shared_ptr<const Caller>> CallerClaims(
    const grpc::ServerContextBase& context);

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_SERVER_AUTH_H_
