// reconnecting_channel.h: a channel whose own reconnect backoff is capped, for
// long-lived background clients (RevocationWatcher, RemoteKeySet). gRPC's
// default backoff grows to 120 s, so after a long outage the channel would
// stay down well after the server is back, whatever the caller's own retry
// policy says.
// Thread-safety: stateless.
#ifndef JWTAUTH_INTERCEPTORS_RECONNECTING_CHANNEL_H_
#define JWTAUTH_INTERCEPTORS_RECONNECTING_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace jwtauth::interceptors {

// ReconnectingChannel connects to `target` with reconnect backoff starting at
// `initial_backoff` and never above `max_backoff` (each clamped to 1 ms..1 h).
std::shared_ptr<grpc::Channel> ReconnectingChannel(
    const std::string& target,
    std::shared_ptr<grpc::ChannelCredentials> credentials,
    absl::Duration initial_backoff, absl::Duration max_backoff);

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_RECONNECTING_CHANNEL_H_
