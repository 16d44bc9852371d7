#include "interceptors/client_interceptor.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace jwtauth::interceptors {
namespace {

using grpc::experimental::InterceptionHookPoints;

class AuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  AuthInterceptor(TokenSource* source, const std::string* prefix, bool skip)
      : source_(source), prefix_(prefix), skip_(skip) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!skip_) {
      if (methods->QueryInterceptionHookPoint(
              InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
        absl::StatusOr<std::string> token = source_->Token();
        if (token.ok()) {
          methods->GetSendInitialMetadata()->insert(
              {"authorization", absl::StrCat(*prefix_, " ", *token)});
          sent_ = *std::move(token);
        }
      }
      if (methods->QueryInterceptionHookPoint(
              InterceptionHookPoints::POST_RECV_STATUS)) {
        const grpc::Status* status = methods->GetRecvStatus();
        if (status != nullptr &&
            status->error_code() == grpc::StatusCode::UNAUTHENTICATED &&
            !sent_.empty()) {
          source_->Refused(sent_);
        }
      }
    }
    methods->Proceed();
  }

 private:
  TokenSource* source_;
  const std::string* prefix_;
  const bool skip_;
  std::string sent_;
};

class Factory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  Factory(std::shared_ptr<TokenSource> source, std::string prefix)
      : source_(std::move(source)), prefix_(std::move(prefix)) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    const bool skip =
        absl::StartsWith(info->method(), "/jwtauth.v1.AuthService/");
    return new AuthInterceptor(source_.get(), &prefix_, skip);
  }

 private:
  std::shared_ptr<TokenSource> source_;
  const std::string prefix_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
ClientAuthInterceptorFactory(std::shared_ptr<TokenSource> source,
                             std::string prefix) {
  return std::make_unique<Factory>(std::move(source), std::move(prefix));
}

}  // namespace jwtauth::interceptors
