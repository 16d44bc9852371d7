// HttpListener: /.well-known/jwks.json (cache headers, ETag, 304),
// /metrics, 404/405/413, concurrent clients, prompt Stop() with clients
// connected, and the loopback rule; fetched with cpp-httplib's client.
#include "server/http_listener.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kJwks[] = R"({"keys":[{"kty":"oct","kid":"k1"}]})";
constexpr char kMetrics[] = "# HELP up Up.\n# TYPE up gauge\nup 1\n";

// A JWK Set a test can change while the listener serves it.
class JwksSource {
 public:
  std::string Get() {
    common::MutexLock lock(&mu_);
    return jwks_;
  }
  void Set(std::string jwks) {
    common::MutexLock lock(&mu_);
    jwks_ = std::move(jwks);
  }

 private:
  common::Mutex mu_;
  std::string jwks_ ABSL_GUARDED_BY(mu_) = kJwks;
};

class HttpListenerTest : public ::testing::Test {
 protected:
  HttpListenerOptions Options() {
    HttpListenerOptions o;
    o.jwks = [this] { return jwks_.Get(); };
    o.metrics = [] { return std::string(kMetrics); };
    return o;
  }
  void StartListener(HttpListenerOptions o) {
    absl::StatusOr<std::unique_ptr<HttpListener>> l =
        HttpListener::Start(std::move(o));
    ASSERT_THAT(l, IsOk());
    listener_ = *std::move(l);
    ASSERT_GT(listener_->port(), 0);
  }
  void SetUp() override { StartListener(Options()); }
  std::unique_ptr<httplib::Client> Client() {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", listener_->port());
    c->set_connection_timeout(5);
    c->set_read_timeout(5);
    return c;
  }

  JwksSource jwks_;
  std::unique_ptr<HttpListener> listener_;
};

TEST_F(HttpListenerTest, JwksIsServedAsJsonWithCacheControlAndStrongEtag) {
  httplib::Result res = Client()->Get("/.well-known/jwks.json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, kJwks);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "public, max-age=300");
  EXPECT_THAT(res->get_header_value("ETag"), MatchesRegex("\"[0-9a-f]{32}\""));
  EXPECT_EQ(res->get_header_value("ETag"), StrongEtag(kJwks));
}

TEST_F(HttpListenerTest, MatchingIfNoneMatchAnswers304WithoutBody) {
  const std::string etag = StrongEtag(kJwks);
  for (const std::string& inm :
       {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    httplib::Result res =
        Client()->Get("/.well-known/jwks.json", {{"If-None-Match", inm}});
    ASSERT_TRUE(res) << inm;
    EXPECT_EQ(res->status, 304) << inm;
    EXPECT_EQ(res->body, "") << inm;
    EXPECT_EQ(res->get_header_value("ETag"), etag);
    EXPECT_EQ(res->get_header_value("Cache-Control"), "public, max-age=300");
  }
  httplib::Result other =
      Client()->Get("/.well-known/jwks.json", {{"If-None-Match", "\"stale\""}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body, kJwks);
}

TEST_F(HttpListenerTest, NewJwkSetGetsANewEtagAndTheOldTagNoLongerMatches) {
  const std::string old_etag = StrongEtag(kJwks);
  jwks_.Set(R"({"keys":[{"kty":"oct","kid":"k2"}]})");
  httplib::Result res =
      Client()->Get("/.well-known/jwks.json", {{"If-None-Match", old_etag}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("k2"));
  EXPECT_NE(res->get_header_value("ETag"), old_etag);
}

TEST_F(HttpListenerTest, MaxAgeIsConfigurable) {
  listener_.reset();
  HttpListenerOptions o = Options();
  o.jwks_max_age = absl::Minutes(1);
  StartListener(std::move(o));
  httplib::Result res = Client()->Get("/.well-known/jwks.json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Cache-Control"), "public, max-age=60");
}

TEST_F(HttpListenerTest, MetricsHaveTheTextExpositionContentType) {
  httplib::Result res = Client()->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, kMetrics);
  EXPECT_EQ(res->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(HttpListenerTest, HeadAnswersTheHeadersWithoutBody) {
  httplib::Result res = Client()->Head("/.well-known/jwks.json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
  EXPECT_EQ(res->get_header_value("ETag"), StrongEtag(kJwks));
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
}

TEST_F(HttpListenerTest, UnknownPathIs404) {
  for (const char* path : {"/", "/metrics/", "/.well-known/jwks", "/jwks.json",
                           "/.well-known/jwks.json/x"}) {
    httplib::Result res = Client()->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
  }
}

TEST_F(HttpListenerTest, VeryLongPathIsRefusedWithoutHarm) {
  for (size_t length : {size_t{8000}, size_t{20000}}) {
    httplib::Result res = Client()->Get("/" + std::string(length, 'a'));
    ASSERT_TRUE(res) << length;
    EXPECT_THAT(res->status, ::testing::AnyOf(404, 414)) << length;
  }
  EXPECT_EQ(Client()->Get("/metrics")->status, 200);  // still serving
}

TEST_F(HttpListenerTest, QueryStringDoesNotChangeTheRoute) {
  httplib::Result res = Client()->Get("/metrics?name[]=up");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpListenerTest, RouteWithoutCallbackIs404) {
  listener_.reset();
  HttpListenerOptions o = Options();
  o.metrics = nullptr;
  StartListener(std::move(o));
  httplib::Result res = Client()->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(Client()->Get("/.well-known/jwks.json")->status, 200);
}

TEST_F(HttpListenerTest, OtherMethodsAre405WithAllow) {
  std::unique_ptr<httplib::Client> c = Client();
  std::vector<httplib::Result> results;
  results.push_back(c->Post("/metrics", "x", "text/plain"));
  results.push_back(c->Put("/.well-known/jwks.json", "{}", "application/json"));
  results.push_back(c->Delete("/metrics"));
  results.push_back(c->Patch("/nowhere", "x", "text/plain"));
  results.push_back(c->Options("/metrics"));
  for (httplib::Result& res : results) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 405);
    EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
  }
}

TEST_F(HttpListenerTest, OversizedBodyIsRefused) {
  std::unique_ptr<httplib::Client> c = Client();
  httplib::Request req;
  req.method = "GET";
  req.path = "/metrics";
  req.body = std::string(64 * 1024, 'x');
  req.set_header("Content-Type", "text/plain");
  httplib::Result res = c->send(req);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 413);
}

// ReadAll reads from `fd` until the peer closes or `timeout` passes.
std::string ReadAll(int fd, absl::Duration timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(absl::ToInt64Seconds(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

int ConnectRaw(int port);

TEST_F(HttpListenerTest, RequestBodyIsNeverReadAsTheNextRequest) {
  const int fd = ConnectRaw(listener_->port());
  ASSERT_GE(fd, 0);
  const std::string inner = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string request = absl::StrCat(
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: ", inner.size(),
      "\r\n\r\n", inner);
  ASSERT_EQ(::write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  const std::string answer = ReadAll(fd, absl::Seconds(5));
  ::close(fd);
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 405"));
  EXPECT_THAT(answer, Not(HasSubstr("up 1")));  // the smuggled GET's answer
  EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << answer;
}

TEST_F(HttpListenerTest, ConcurrentFetchesAllSucceed) {
  constexpr int kThreads = 8;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<httplib::Client> c = Client();
      c->set_keep_alive(t % 2 == 0);
      for (int i = 0; i < kRequests; ++i) {
        httplib::Result res =
            c->Get(i % 2 == 0 ? "/metrics" : "/.well-known/jwks.json");
        if (res && res->status == 200 && !res->body.empty()) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

// ConnectRaw opens a TCP connection to 127.0.0.1:port, or returns -1.
int ConnectRaw(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(HttpListenerTest, StopWithClientsConnectedReturnsPromptly) {
  // A keep-alive client idle after a request, a connection that sent
  // nothing, and one that sent half a request.
  std::unique_ptr<httplib::Client> idle = Client();
  idle->set_keep_alive(true);
  ASSERT_EQ(idle->Get("/metrics")->status, 200);
  const int silent = ConnectRaw(listener_->port());
  ASSERT_GE(silent, 0);
  const int half = ConnectRaw(listener_->port());
  ASSERT_GE(half, 0);
  const char partial[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::write(half, partial, sizeof partial - 1),
            static_cast<ssize_t>(sizeof partial - 1));
  absl::SleepFor(absl::Milliseconds(100));  // all three being served

  const absl::Time start = absl::Now();
  listener_->Stop();
  const absl::Duration took = absl::Now() - start;
  // Bounded by the read timeout (2 s) of the half-sent request.
  EXPECT_LT(took, absl::Seconds(3)) << took;
  // Stopped: no new connection is accepted.
  EXPECT_EQ(ConnectRaw(listener_->port()), -1);
  listener_->Stop();  // idempotent
  ::close(silent);
  ::close(half);
}

TEST_F(HttpListenerTest, StopWithAnIdleKeepAliveClientIsPrompt) {
  std::unique_ptr<httplib::Client> idle = Client();
  idle->set_keep_alive(true);
  ASSERT_EQ(idle->Get("/.well-known/jwks.json")->status, 200);
  const absl::Time start = absl::Now();
  listener_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500));
}

TEST_F(HttpListenerTest, DestructorStopsAndFreesThePort) {
  const int port = listener_->port();
  listener_.reset();
  EXPECT_EQ(ConnectRaw(port), -1);
  HttpListenerOptions o = Options();
  o.port = port;
  StartListener(std::move(o));  // the same port binds again
  EXPECT_EQ(listener_->port(), port);
  EXPECT_EQ(Client()->Get("/metrics")->status, 200);
}

TEST_F(HttpListenerTest, PortInUseIsUnavailableNamingTheAddress) {
  HttpListenerOptions o = Options();
  o.port = listener_->port();
  absl::StatusOr<std::unique_ptr<HttpListener>> second =
      HttpListener::Start(std::move(o));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(),
              HasSubstr("127.0.0.1:" + std::to_string(listener_->port())));
}

TEST(HttpListener, NonLoopbackAddressIsRefusedUnlessAllowed) {
  for (const char* host :
       {"0.0.0.0", "::", "192.0.2.1", "example.com", "", "128.0.0.1"}) {
    HttpListenerOptions o;
    o.host = host;
    absl::StatusOr<std::unique_ptr<HttpListener>> l =
        HttpListener::Start(std::move(o));
    EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument) << host;
    EXPECT_THAT(l.status().message(), HasSubstr("non-loopback")) << host;
  }
  HttpListenerOptions allowed;
  allowed.host = "0.0.0.0";
  allowed.allow_non_loopback = true;
  allowed.metrics = [] { return std::string(kMetrics); };
  absl::StatusOr<std::unique_ptr<HttpListener>> l =
      HttpListener::Start(std::move(allowed));
  ASSERT_THAT(l, IsOk());
  httplib::Client c("127.0.0.1", (*l)->port());
  EXPECT_EQ(c.Get("/metrics")->status, 200);
}

TEST(HttpListener, InvalidOptionsAreRefused) {
  HttpListenerOptions port;
  port.port = 70000;
  EXPECT_EQ(HttpListener::Start(port).status().code(),
            absl::StatusCode::kInvalidArgument);
  HttpListenerOptions threads;
  threads.threads = 0;
  EXPECT_EQ(HttpListener::Start(threads).status().code(),
            absl::StatusCode::kInvalidArgument);
  HttpListenerOptions timeout;
  timeout.read_timeout = absl::ZeroDuration();
  EXPECT_EQ(HttpListener::Start(timeout).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpListener, IsLoopbackHostAcceptsOnlyLoopback) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST",
                           "::1", "[::1]", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host :
       {"0.0.0.0", "::", "10.0.0.1", "[::1", "::2", "::ffff:10.0.0.1",
        "localhost.example.com", "", "127.0.0.1:80"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(HttpListener, IfNoneMatchUsesWeakComparison) {
  const std::string etag = StrongEtag("body");
  EXPECT_TRUE(IfNoneMatchHits(etag, etag));
  EXPECT_TRUE(IfNoneMatchHits("W/" + etag, etag));
  EXPECT_TRUE(IfNoneMatchHits(" \"a\" ,W/" + etag + " ", etag));
  EXPECT_TRUE(IfNoneMatchHits("*", etag));
  EXPECT_FALSE(IfNoneMatchHits("", etag));
  EXPECT_FALSE(IfNoneMatchHits("\"a\", \"b\"", etag));
  // The tag without its quotes is not the tag.
  EXPECT_FALSE(IfNoneMatchHits(etag.substr(1, etag.size() - 2), etag));
  EXPECT_NE(StrongEtag("body"), StrongEtag("body2"));
}

}  // namespace
}  // namespace jwtauth::server
