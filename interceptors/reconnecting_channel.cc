#include "interceptors/reconnecting_channel.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace jwtauth::interceptors {

std::shared_ptr<grpc::Channel> ReconnectingChannel(
    const std::string& target,
    std::shared_ptr<grpc::ChannelCredentials> credentials,
    absl::Duration initial_backoff, absl::Duration max_backoff) {
  auto ms = [](absl::Duration d) {
    return static_cast<int>(
        std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, 3'600'000));
  };
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, ms(initial_backoff));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, ms(initial_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, ms(max_backoff));
  return grpc::CreateCustomChannel(target, std::move(credentials), args);
}

}  // namespace jwtauth::interceptors
