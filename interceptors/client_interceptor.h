// client_interceptor.h: makes every call on a channel carry
// `authorization: <prefix> <token>`.
//
//   auto source = *AuthServiceTokenSource::Create(auth_channel, "ada",
//   password);
//   std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
//   f; f.push_back(ClientAuthInterceptorFactory(source)); auto channel =
//   grpc::experimental::CreateCustomChannelWithInterceptors(
//       target, creds, grpc::ChannelArguments(), std::move(f));
//
// The interceptor reads the source's current token (never blocking), skips
// calls to jwtauth.v1.AuthService itself, attaches nothing when the source
// has no unexpired token (the server then answers "Authentication
// credentials were not provided."), and reports UNAUTHENTICATED answers to
// the source so it logs in again. Works with sync, async and callback stubs
// and any channel credentials.
// Thread-safety: thread-safe.
#ifndef JWTAUTH_INTERCEPTORS_CLIENT_INTERCEPTOR_H_
#define JWTAUTH_INTERCEPTORS_CLIENT_INTERCEPTOR_H_

#include <grpcpp/support/client_interceptor.h>

#include <memory>
#include <string>

#include "interceptors/token_source.h"

namespace jwtauth::interceptors {

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
ClientAuthInterceptorFactory(std::shared_ptr<TokenSource> source,
                             std::string prefix = "JWT");

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_CLIENT_INTERCEPTOR_H_
