// profile-server: the example protected service. It takes the same key
// flags as jwtauth-server and refuses every call without a valid
// `authorization: JWT <token>` before its handlers run.
//
//   local mode (default): verifies tokens with the keys; no network.
//   remote mode (--auth_server=HOST:PORT alone): asks jwtauth-server's
//   VerifyToken, so disabled and deleted users are refused too.
//   local mode fed by the auth server (--auth_server with either or both of):
//     --jwks_from_auth_server  verify with the auth server's public keys,
//         fetched with its GetJwks RPC instead of key files: refreshed every
//         --jwks_refresh, and at once (at most every --jwks_min_refetch) when
//         a token names a kid not yet seen, so key rotations need no restart.
//         Calls get UNAVAILABLE until the first fetch succeeds. Needs an
//         asymmetric JWT_ALGORITHM on the auth server (an HS* secret is never
//         published: startup fails saying so).
//     --watch_revocations  follow the auth server's WatchRevocations stream
//         and refuse revoked tokens ("Token is blacklisted.") — log-outs,
//         password changes and disabled users — within about a second.
//   e.g. profile-server --auth_server=127.0.0.1:50051 --jwks_from_auth_server
//            --watch_revocations
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/serving_tuning.h"
#include "interceptors/remote_key_set.h"
#include "interceptors/revocation_watcher.h"
#include "interceptors/server_auth.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "server/human_duration.h"
#include "server/key_files.h"

using jwtauth::server::HumanDuration;

ABSL_FLAG(std::string, listen, "127.0.0.1:50061", "Address to serve on");
ABSL_FLAG(std::string, port_file, "", "Write the bound port here once serving");
ABSL_FLAG(std::string, algorithm, "HS256",
          "JWT_ALGORITHM (must match jwtauth-server)");
ABSL_FLAG(std::string, secret_key_file, "",
          "HS*: the secret file (default <data_dir>/secret.key)");
ABSL_FLAG(std::string, secret_key_env, "",
          "HS*: or the environment variable holding it");
ABSL_FLAG(std::string, private_key_file, "",
          "Asymmetric: private key (its public half verifies)");
ABSL_FLAG(std::string, public_key_file, "",
          "Asymmetric: the public key to verify with");
ABSL_FLAG(std::string, data_dir, "data",
          "jwtauth-server's data dir (for secret.key)");
ABSL_FLAG(bool, verify_expiration, true, "JWT_VERIFY_EXPIRATION");
ABSL_FLAG(HumanDuration, leeway, HumanDuration{}, "JWT_LEEWAY");
ABSL_FLAG(std::string, audience, "", "JWT_AUDIENCE");
ABSL_FLAG(std::string, issuer, "", "JWT_ISSUER");
ABSL_FLAG(std::string, auth_header_prefix, "JWT", "JWT_AUTH_HEADER_PREFIX");
ABSL_FLAG(std::string, auth_server, "", "Remote mode: jwtauth-server address");
ABSL_FLAG(bool, jwks_from_auth_server, false,
          "Local mode with the --auth_server's public keys (GetJwks)");
ABSL_FLAG(HumanDuration, jwks_refresh, HumanDuration{absl::Minutes(5)},
          "With --jwks_from_auth_server: how often the keys are refetched");
ABSL_FLAG(HumanDuration, jwks_min_refetch, HumanDuration{absl::Seconds(30)},
          "With --jwks_from_auth_server: at most one fetch per this interval "
          "for tokens naming an unknown kid");
ABSL_FLAG(bool, watch_revocations, false,
          "Local mode refusing tokens revoked on --auth_server "
          "(WatchRevocations)");
ABSL_FLAG(int, cache_size, 10000, "Verified tokens cached (0 = no cache)");

namespace {

namespace v1 = jwtauth::examples::v1;
namespace ic = jwtauth::interceptors;
namespace jwt = jwtauth::jwt;

int Fail(absl::string_view message) {
  std::fprintf(stderr, "profile-server: %s\n", std::string(message).c_str());
  return 2;
}

// ProfileService: handlers read the caller from the verified claims.
class ProfileService final : public v1::Profile::CallbackService {
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx,
                                   const v1::WhoAmIRequest*,
                                   v1::WhoAmIResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    absl::StatusOr<std::shared_ptr<const ic::Caller>> caller =
        ic::CallerClaims(*ctx);
    if (!caller.ok()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   std::string(caller.status().message())));
      return reactor;
    }
    resp->set_username((*caller)->username);
    resp->set_user_id((*caller)->user_id.value_or(0));
    resp->set_claims_json(jwt::SerializeJson((*caller)->claims));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const v1::EchoRequest* req,
                                 v1::EchoResponse* resp) override {
    resp->set_message(req->message());
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int Serve() {
  std::optional<jwt::Algorithm> alg =
      jwt::ParseAlgorithm(absl::GetFlag(FLAGS_algorithm));
  if (!alg.has_value()) return Fail("--algorithm: unknown algorithm");
  std::shared_ptr<ic::TokenValidator> validator;
  ic::TokenCacheOptions cache;
  cache.capacity =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_cache_size)));
  const std::string auth_server = absl::GetFlag(FLAGS_auth_server);
  const bool jwks = absl::GetFlag(FLAGS_jwks_from_auth_server);
  const bool watch = absl::GetFlag(FLAGS_watch_revocations);
  if ((jwks || watch) && auth_server.empty()) {
    return Fail(
        "--jwks_from_auth_server and --watch_revocations need --auth_server");
  }
  const bool remote = !auth_server.empty() && !jwks && !watch;
  jwt::ValidatorOptions options;
  options.verify_expiration = absl::GetFlag(FLAGS_verify_expiration);
  options.leeway = absl::GetFlag(FLAGS_leeway).value;
  if (!absl::GetFlag(FLAGS_audience).empty())
    options.audience = absl::GetFlag(FLAGS_audience);
  if (!absl::GetFlag(FLAGS_issuer).empty())
    options.issuer = absl::GetFlag(FLAGS_issuer);
  std::shared_ptr<ic::RemoteKeySet> key_set;  // stopped before exit
  std::shared_ptr<ic::RevocationWatcher> watcher;
  if (watch) {
    watcher = std::make_shared<ic::RevocationWatcher>();
    watcher->Start(auth_server, grpc::InsecureChannelCredentials());
  }
  if (remote) {
    ic::RemoteOptions remote_options;
    remote_options.cache.capacity = cache.capacity;
    validator = ic::RemoteValidator(
        grpc::CreateChannel(auth_server, grpc::InsecureChannelCredentials()),
        remote_options);
  } else if (jwks) {
    ic::RemoteKeySetOptions key_options;
    key_options.validator = options;
    key_options.refresh_interval = absl::GetFlag(FLAGS_jwks_refresh).value;
    key_options.min_refetch_interval =
        absl::GetFlag(FLAGS_jwks_min_refetch).value;
    absl::StatusOr<std::shared_ptr<ic::RemoteKeySet>> created =
        ic::RemoteKeySet::Create(key_options);
    if (!created.ok()) return Fail(created.status().message());
    key_set = *std::move(created);
    key_set->Start(auth_server, grpc::InsecureChannelCredentials());
    const absl::Status first = key_set->AwaitFirstFetch(absl::Seconds(5));
    if (first.code() == absl::StatusCode::kFailedPrecondition)
      return Fail(absl::StrCat("--jwks_from_auth_server: ", first.message()));
    if (!first.ok()) {
      std::fprintf(stderr,
                   "profile-server: no keys from --auth_server yet (%s); "
                   "calls get UNAVAILABLE until they arrive\n",
                   std::string(first.message()).c_str());
    }
    validator = ic::LocalValidator(key_set, cache);
  } else {
    jwtauth::server::KeyConfig keys_config{
        *alg,
        absl::GetFlag(FLAGS_secret_key_file),
        absl::GetFlag(FLAGS_secret_key_env),
        absl::GetFlag(FLAGS_private_key_file),
        absl::GetFlag(FLAGS_public_key_file),
        absl::GetFlag(FLAGS_data_dir)};
    absl::StatusOr<jwt::KeySet> keys =
        jwtauth::server::LoadVerificationKeys(keys_config);
    if (!keys.ok()) return Fail(keys.status().message());
    absl::StatusOr<jwt::Verifier> verifier =
        jwt::Verifier::Create(*keys, options);
    if (!verifier.ok()) return Fail(verifier.status().message());
    validator = ic::LocalValidator(*std::move(verifier), cache);
  }
  ic::ServerAuthOptions auth_options;
  auth_options.validator = validator;
  auth_options.revocations = watcher;
  auth_options.header_prefix = absl::GetFlag(FLAGS_auth_header_prefix);
  absl::StatusOr<std::shared_ptr<ic::ServerAuth>> auth =
      ic::ServerAuth::Create(auth_options);
  if (!auth.ok()) return Fail(auth.status().message());

  ProfileService service;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           (*auth)->InsecureCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return Fail("cannot listen on --listen");
  std::fprintf(stderr,
               "profile-server: serving jwtauth.examples.v1.Profile on port %d "
               "(%s mode)\n",
               port,
               remote ? "remote"
               : jwks ? "local, keys from --auth_server"
                      : "local");
  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_port_file)) << port << "\n";
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (key_set != nullptr) key_set->Stop();
  if (watcher != nullptr) watcher->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Optional, and worth it on Debian's abseil (common/serving_tuning.h).
  jwtauth::common::TuneForServing();
  absl::SetProgramUsageMessage("profile-server [--flags]");
  absl::ParseCommandLine(argc, argv);
  return Serve();
}
