// Links the README snippets into a program and checks they are callable.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <string>

std::unique_ptr<grpc::Server> ServeProtected(grpc::Service* service,
                                             const std::string& address,
                                             const std::string& secret);
std::shared_ptr<grpc::Channel> AuthenticatedChannel(
    const std::string& target, const std::string& username,
    const std::string& password);

int main(int argc, char**) {
  // Reference both so the link must resolve everything they use.
  auto serve = &ServeProtected;
  auto channel = &AuthenticatedChannel;
  std::printf("consumer linked (%d)\n",
              (serve != nullptr) + (channel != nullptr) + argc - 1);
  return 0;
}
