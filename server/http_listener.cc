#include "server/http_listener.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace jwtauth::server {
namespace {

constexpr absl::string_view kJwksPath = "/.well-known/jwks.json";
constexpr absl::string_view kMetricsPath = "/metrics";
constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// BoundedTaskQueue: `threads` workers and at most `max_queued` waiting
// connections; when full, enqueue() runs the task on the caller (httplib's
// accepting thread), which stops accepting meanwhile. shutdown() lets the
// workers finish what is queued (httplib's tasks return at once after
// stop()), then joins them.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t threads, size_t max_queued)
      : max_queued_(max_queued) {
    for (size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { Work(); });
    }
  }
  ~BoundedTaskQueue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!stopping_ && jobs_.size() < max_queued_) {
        jobs_.push_back(std::move(fn));
        cv_.notify_one();
        return;
      }
    }
    fn();
  }

  void shutdown() override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      cv_.notify_all();
    }
    for (std::thread& t : workers_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, nothing left
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> workers_;
};

std::pair<time_t, time_t> SecondsAndMicros(absl::Duration d) {
  const int64_t micros = absl::ToInt64Microseconds(d);
  return {static_cast<time_t>(micros / 1000000),
          static_cast<time_t>(micros % 1000000)};
}

void SetText(httplib::Response& res, int status, const char* text) {
  res.status = status;
  res.set_content(text, "text/plain; charset=utf-8");
}

}  // namespace

bool IsLoopbackHost(absl::string_view host) {
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]"))
    return false;
  const std::string h(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

std::string StrongEtag(absl::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(body.data(), body.size(), digest, &len, EVP_sha256(),
                 nullptr) != 1 ||
      len < 16) {
    return "";  // no ETag rather than a wrong one
  }
  return absl::StrCat(
      "\"",
      absl::BytesToHexString(absl::string_view(
          reinterpret_cast<const char*>(digest), 16)),  // first 128 bits
      "\"");
}

bool IfNoneMatchHits(absl::string_view if_none_match, absl::string_view etag) {
  if (etag.empty()) return false;
  for (absl::string_view tag : absl::StrSplit(if_none_match, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    if (tag == "*") return true;
    absl::ConsumePrefix(&tag, "W/");  // weak comparison (RFC 9110 13.1.2)
    if (tag == etag) return true;
  }
  return false;
}

struct HttpListener::Impl {
  HttpListenerOptions options;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::once_flag stop_once;

  void Serve(const httplib::Request& req, httplib::Response& res) const {
    // No route reads a body. A request that carries one is answered without
    // reading it and the connection is closed, so the body is never parsed
    // as a further request; a declared size over the limit, or a chunked
    // body (no size), is 413.
    if (req.has_header("Content-Length") ||
        req.has_header("Transfer-Encoding")) {
      res.set_header("Connection", "close");
      size_t length = 0;
      if (req.has_header("Transfer-Encoding") ||
          !absl::SimpleAtoi(req.get_header_value("Content-Length"), &length) ||
          length > options.max_body_bytes) {
        SetText(res, 413, "Payload Too Large\n");
        return;
      }
    }
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      SetText(res, 405, "Method Not Allowed\n");
      return;
    }
    if (req.path == kJwksPath && options.jwks) {
      const std::string body = options.jwks();
      const std::string etag = StrongEtag(body);
      res.set_header("Cache-Control",
                     absl::StrCat("public, max-age=",
                                  absl::ToInt64Seconds(options.jwks_max_age)));
      if (!etag.empty()) res.set_header("ETag", etag);
      if (req.has_header("If-None-Match") &&
          IfNoneMatchHits(req.get_header_value("If-None-Match"), etag)) {
        res.status = 304;
        return;
      }
      res.status = 200;
      res.set_content(body, "application/json");
      return;
    }
    if (req.path == kMetricsPath && options.metrics) {
      res.status = 200;
      res.set_content(options.metrics(), kMetricsContentType);
      return;
    }
    SetText(res, 404, "Not Found\n");
  }
};

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(
    HttpListenerOptions options) {
  if (!options.allow_non_loopback && !IsLoopbackHost(options.host)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing plain HTTP on non-loopback address \"", options.host,
        "\": bind a loopback address, or allow non-loopback if a trusted "
        "proxy terminates TLS"));
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP port ", options.port, " is outside 0..65535"));
  }
  if (options.threads == 0) {
    return absl::InvalidArgumentError("HTTP listener needs at least 1 thread");
  }
  if (options.read_timeout <= absl::ZeroDuration() ||
      options.write_timeout <= absl::ZeroDuration() ||
      options.keep_alive_timeout <= absl::ZeroDuration() ||
      options.jwks_max_age < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "HTTP listener timeouts must be positive and max-age not negative");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const HttpListenerOptions& o = impl->options;
  httplib::Server& server = impl->server;

  const size_t threads = o.threads;
  const size_t max_queued = o.max_queued;
  server.new_task_queue = [threads, max_queued] {
    return new BoundedTaskQueue(threads, max_queued);
  };
  const auto [read_s, read_us] = SecondsAndMicros(o.read_timeout);
  const auto [write_s, write_us] = SecondsAndMicros(o.write_timeout);
  server.set_read_timeout(read_s, read_us);
  server.set_write_timeout(write_s, write_us);
  // httplib's keep-alive wait has whole-second granularity.
  server.set_keep_alive_timeout(static_cast<time_t>(
      std::max<int64_t>(1, absl::ToInt64Seconds(o.keep_alive_timeout))));
  server.set_keep_alive_max_count(100);
  server.set_payload_max_length(o.max_body_bytes);
  server.set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEPORT, which would let a second listener
  // (another process of this user) bind the same port and take a share of
  // its connections; a port in use must be an error instead.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  Impl* raw = impl.get();
  // Every request is answered here, before httplib's own routing (which
  // would read a body first and answer 404 for unknown methods). No route is
  // registered with httplib: its routes are std::regex, and libstdc++'s
  // regex_match recurses per character, so a catch-all pattern overflows the
  // stack on a long path (about 9000 characters suffice).
  server.set_pre_routing_handler(
      [raw](const httplib::Request& req, httplib::Response& res) {
        raw->Serve(req, res);
        return httplib::Server::HandlerResponse::Handled;
      });
  // httplib's default puts the exception's text in a response header.
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.headers.clear();
        SetText(res, 500, "Internal Server Error\n");
      });

  int port = o.port;
  if (port == 0) {
    port = server.bind_to_any_port(o.host);
  } else if (!server.bind_to_port(o.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", o.host, ":", o.port,
                     " (address in use, or not an address of this machine)"));
  }
  impl->thread = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->listen_returned = true;
  });
  // Until httplib marks itself running, its stop() would be a no-op.
  while (!raw->server.is_running() && !raw->listen_returned) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (raw->listen_returned) {
    impl->thread.join();
    return absl::UnavailableError(
        absl::StrCat("HTTP listener on ", o.host, ":", port, " failed"));
  }
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(impl), port));
}

HttpListener::HttpListener(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

HttpListener::~HttpListener() { Stop(); }

void HttpListener::Stop() {
  std::call_once(impl_->stop_once, [this] {
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
  });
}

}  // namespace jwtauth::server
