// profile-client: calls the example protected service as a user. It logs in
// through jwtauth-server with the auth-service token source (password from
// the terminal or standard input), and every call on its channel carries
// `authorization: JWT <token>`, kept fresh in the background.
//
//   profile-client --auth_server=127.0.0.1:50051 --server=127.0.0.1:50061
//   USERNAME
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "client/password_input.h"
#include "interceptors/client_interceptor.h"
#include "interceptors/token_source.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"

ABSL_FLAG(std::string, auth_server, "127.0.0.1:50051",
          "jwtauth-server address");
ABSL_FLAG(std::string, server, "127.0.0.1:50061", "profile-server address");
ABSL_FLAG(int, calls, 1, "How many WhoAmI calls to make");
ABSL_FLAG(double, interval_seconds, 1, "Pause between calls");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "profile-client [--flags] USERNAME  (password on stdin or prompt)");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: profile-client [--flags] USERNAME\n");
    return 2;
  }
  absl::StatusOr<std::string> password =
      jwtauth::client::ReadPassword("Password: ", false);
  if (!password.ok()) return 2;
  auto auth_channel = grpc::CreateChannel(absl::GetFlag(FLAGS_auth_server),
                                          grpc::InsecureChannelCredentials());
  auto source = jwtauth::interceptors::AuthServiceTokenSource::Create(
      auth_channel, args[1], *password);
  if (!source.ok()) {
    std::fprintf(stderr, "profile-client: login failed: %s\n",
                 std::string(source.status().message()).c_str());
    return 1;
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      factories;
  factories.push_back(
      jwtauth::interceptors::ClientAuthInterceptorFactory(*source));
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials(),
      grpc::ChannelArguments(), std::move(factories));
  auto stub = jwtauth::examples::v1::Profile::NewStub(channel);
  for (int i = 0; i < absl::GetFlag(FLAGS_calls); ++i) {
    if (i > 0) {
      std::this_thread::sleep_for(
          std::chrono::duration<double>(absl::GetFlag(FLAGS_interval_seconds)));
    }
    grpc::ClientContext ctx;
    jwtauth::examples::v1::WhoAmIResponse resp;
    grpc::Status s = stub->WhoAmI(&ctx, {}, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "profile-client: %s\n", s.error_message().c_str());
      return 1;
    }
    std::printf("you are %s (user %lld)\n", resp.username().c_str(),
                static_cast<long long>(resp.user_id()));
  }
  return 0;
}
