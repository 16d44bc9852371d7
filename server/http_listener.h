// http_listener.h: a small HTTP/1.1 listener (Debian's cpp-httplib) serving
// the JWK Set and the Prometheus metrics, beside the gRPC port.
//
//   GET /.well-known/jwks.json  body from options.jwks();
//                               Content-Type: application/json,
//                               Cache-Control: public, max-age=N,
//                               ETag: "<hex of the body's SHA-256, 128 bits>";
//                               If-None-Match with that tag -> 304
//   GET /metrics                body from options.metrics();
//                               Content-Type: text/plain; version=0.0.4;
//                               charset=utf-8
//   HEAD of either              the same headers, no body
//   any other path              404;  a route whose callback is empty: 404
//   any other method            405 (Allow: GET, HEAD)
//
// The routes are callbacks, so the listener knows nothing of keys or
// metrics. It binds host:port (port 0 picks a free port, see port()); like
// jwtauth-server's plaintext rule, a non-loopback host is refused unless
// options.allow_non_loopback is set; the port is bound exclusively (no
// SO_REUSEPORT), so a port in use is an error. Requests are small: no route
// reads a body; one declaring more than max_body_bytes, or chunked, is 413,
// and any request with a body is answered unread and its connection closed
// (so a body is never parsed as a request); each header line is at most
// 8 KiB (Debian's library is compiled with that limit). They are served by a
// bounded pool: `threads` workers
// and at most `max_queued` waiting connections; past that the accepting
// thread serves the connection itself, so further clients wait in the
// kernel's backlog instead of in memory. Nothing is logged.
//
//   HttpListenerOptions options;
//   options.jwks = [&keys] { return keys.JwksJson(); };
//   options.metrics = [&metrics] { return metrics->Render(); };
//   std::unique_ptr<HttpListener> http = *HttpListener::Start(options);
//   ... http->port() ...
//   http->Stop();  // or destroy it
//
// Stop() closes the listening socket and returns once every connection is
// closed: at most about max(keep_alive_timeout, read_timeout) when a client
// holds an idle or half-sent request open (1 s and 2 s by default).
//
// Thread-safety: thread-safe. The callbacks run on the listener's worker
// threads, possibly concurrently, and must be thread-safe; they must outlive
// the listener (or its Stop()).
#ifndef JWTAUTH_SERVER_HTTP_LISTENER_H_
#define JWTAUTH_SERVER_HTTP_LISTENER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace jwtauth::server {

struct HttpListenerOptions {
  // Host to bind: an IP address or "localhost". Loopback (127.0.0.0/8, ::1,
  // localhost) unless allow_non_loopback.
  std::string host = "127.0.0.1";
  // Port; 0 picks a free one.
  int port = 0;
  // Allows a non-loopback host (plain HTTP: put it behind a trusted proxy).
  bool allow_non_loopback = false;

  // The current JWK Set JSON; empty function: /.well-known/jwks.json is 404.
  std::function<std::string()> jwks;
  // The current metrics text; empty function: /metrics is 404.
  std::function<std::string()> metrics;
  // Cache-Control max-age of the JWK Set.
  absl::Duration jwks_max_age = absl::Seconds(300);

  // Worker threads (at least 1) and connections waiting for one.
  size_t threads = 2;
  size_t max_queued = 16;
  // Per-connection limits.
  absl::Duration read_timeout = absl::Seconds(2);
  absl::Duration write_timeout = absl::Seconds(2);
  absl::Duration keep_alive_timeout = absl::Seconds(1);
  size_t max_body_bytes = 1024;
};

class HttpListener {
 public:
  // Start binds and starts serving; the socket accepts connections when it
  // returns. INVALID_ARGUMENT for a non-loopback host without
  // allow_non_loopback, a port outside 0..65535, zero threads or
  // non-positive timeouts; UNAVAILABLE when the address cannot be bound
  // (naming it).
  static absl::StatusOr<std::unique_ptr<HttpListener>> Start(
      HttpListenerOptions options);

  // The destructor stops.
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // port is the bound port (the chosen one when options.port was 0).
  int port() const { return port_; }

  // Stop stops accepting, closes the connections (see the header comment
  // for how long that may take) and joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  HttpListener(std::unique_ptr<Impl> impl, int port);

  std::unique_ptr<Impl> impl_;
  const int port_;
};

// IsLoopbackHost is true for "localhost", 127.0.0.0/8, ::1 and
// IPv4-mapped ::ffff:127.0.0.0/104 (optionally in brackets).
bool IsLoopbackHost(absl::string_view host);

// StrongEtag is the ETag the listener sends for `body`: a quoted hex
// prefix (128 bits) of its SHA-256.
std::string StrongEtag(absl::string_view body);

// IfNoneMatchHits is true when an If-None-Match header value matches `etag`
// (RFC 9110: "*", or any listed tag equal by weak comparison).
bool IfNoneMatchHits(absl::string_view if_none_match, absl::string_view etag);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_HTTP_LISTENER_H_
