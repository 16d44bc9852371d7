// Sustained load (issue 7): jwtauth-server (SQLite, as the README starts it)
// and a protected Profile service (ServerAuth, local HS256 validation with
// the server's secret) under a bounded mixed load from several connections:
// ObtainToken, VerifyToken, RefreshToken and protected Echo/WhoAmI calls, for
// JWTAUTH_SOAK_SECONDS (default 60; set it to hours to soak for longer).
// Every call must succeed; the server's open file descriptors must not grow
// and, outside sanitizer builds (whose allocator quarantines freed memory),
// its RSS must stay within 10 % of what it was after the warm-up fifth.
#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "gtest/gtest.h"
#include "interceptors/server_auth.h"
#include "interceptors/token_validator.h"
#include "jwt/key_loader.h"
#include "jwt/key_set.h"
#include "jwt/verifier.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "jwtauth/v1/auth.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

#if defined(__SANITIZE_ADDRESS__)
#define JWTAUTH_SOAK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define JWTAUTH_SOAK_SANITIZED 1
#endif
#endif
#ifndef JWTAUTH_SOAK_SANITIZED
#define JWTAUTH_SOAK_SANITIZED 0
#endif

namespace jwtauth::server {
namespace {

namespace v1 = ::jwtauth::v1;
namespace ev1 = ::jwtauth::examples::v1;
namespace ic = ::jwtauth::interceptors;
using ::jwtauth::testing::Subprocess;
using ::jwtauth::testing::TempDir;
using ::jwtauth::testing::WaitForFile;

constexpr int kUsers = 4;

int64_t RssKib(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v(line);
    if (!absl::ConsumePrefix(&v, "VmRSS:")) continue;
    std::vector<absl::string_view> f =
        absl::StrSplit(v, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int64_t kib = 0;
    if (!f.empty() && absl::SimpleAtoi(f[0], &kib)) return kib;
  }
  return -1;
}

int OpenFds(pid_t pid) {
  DIR* d = ::opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Profile: Echo and WhoAmI behind ServerAuth (as examples/profile_server).
class Profile final : public ev1::Profile::CallbackService {
 public:
  explicit Profile(std::shared_ptr<ic::ServerAuth> auth)
      : auth_(std::move(auth)) {}
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const ev1::EchoRequest* req,
                                 ev1::EchoResponse* resp) override {
    resp->set_message(req->message());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx,
                                   const ev1::WhoAmIRequest*,
                                   ev1::WhoAmIResponse* resp) override {
    auto* r = ctx->DefaultReactor();
    absl::StatusOr<std::shared_ptr<const ic::Caller>> caller =
        auth_->CallerOf(*ctx);
    if (!caller.ok()) {
      r->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no caller"));
      return r;
    }
    resp->set_username((*caller)->username);
    r->Finish(grpc::Status::OK);
    return r;
  }

 private:
  std::shared_ptr<ic::ServerAuth> auth_;
};

TEST(Soak, MixedLoadFromSeveralConnectionsNoErrorsNoGrowth) {
  int64_t seconds = 60;
  if (const char* env = std::getenv("JWTAUTH_SOAK_SECONDS"); env != nullptr) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &seconds) && seconds > 0) << env;
  }
  TempDir dir;
  for (int u = 0; u < kUsers; ++u) {
    Subprocess admin(
        {JWTAUTH_ADMIN_BIN, absl::StrCat("--data_dir=", dir.path()),
         "--pbkdf2_iterations=1000", "users", "add", absl::StrCat("user", u)},
        {}, absl::StrCat("password-", u, "\n"));
    ASSERT_EQ(admin.Run(), 0) << admin.Stderr();
  }
  Subprocess server({JWTAUTH_SERVER_BIN, "--listen=127.0.0.1:0",
                     absl::StrCat("--data_dir=", dir.path()),
                     absl::StrCat("--port_file=", dir.File("port")),
                     "--allow_refresh=true", "--pbkdf2_iterations=1000"});
  ASSERT_TRUE(server.Start());
  const std::string port = WaitForFile(dir.File("port"), absl::Seconds(30));
  ASSERT_FALSE(port.empty()) << server.Stderr();
  const std::string auth_target =
      absl::StrCat("127.0.0.1:", absl::StripAsciiWhitespace(port));

  // The protected service verifies with the server's own secret.
  absl::StatusOr<jwt::Key> key = jwt::HmacKeyFromSecret(
      jwt::Algorithm::kHS256, ReadAll(dir.File("secret.key")));
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<jwt::Verifier> verifier = jwt::Verifier::Create(
      *jwt::KeySet::Create({*key}), jwt::ValidatorOptions{});
  ASSERT_TRUE(verifier.ok());
  ic::ServerAuthOptions options;
  options.validator =
      ic::LocalValidator(*std::move(verifier), ic::TokenCacheOptions{});
  options.set_default = false;
  absl::StatusOr<std::shared_ptr<ic::ServerAuth>> auth =
      ic::ServerAuth::Create(options);
  ASSERT_TRUE(auth.ok());
  Profile profile(*auth);
  grpc::ServerBuilder builder;
  int profile_port = 0;
  builder.AddListeningPort("127.0.0.1:0", (*auth)->InsecureCredentials(),
                           &profile_port);
  builder.RegisterService(&profile);
  std::unique_ptr<grpc::Server> profile_server = builder.BuildAndStart();
  ASSERT_NE(profile_server, nullptr);

  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  const absl::Time warm = start + absl::Seconds(seconds) / 5;
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> errors{0};
  common::Mutex mu;
  std::string first_error;
  auto fail = [&](absl::string_view what, const grpc::Status& s) {
    ++errors;
    common::MutexLock lock(&mu);
    if (first_error.empty()) {
      first_error =
          absl::StrCat(what, ": ", s.error_code(), " ", s.error_message());
    }
  };
  auto deadline = [](grpc::ClientContext& ctx) {
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
  };

  std::vector<std::thread> clients;
  for (int c = 0; c < kUsers; ++c) {
    clients.emplace_back([&, c] {
      grpc::ChannelArguments args;
      args.SetInt("jwtauth.test.connection", c);  // connections of their own
      auto auth_stub = v1::AuthService::NewStub(grpc::CreateCustomChannel(
          auth_target, grpc::InsecureChannelCredentials(), args));
      auto profile_stub = ev1::Profile::NewStub(
          grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", profile_port),
                                    grpc::InsecureChannelCredentials(), args));
      const std::string user = absl::StrCat("user", c);
      while (absl::Now() < end) {
        grpc::ClientContext octx;
        deadline(octx);
        v1::ObtainTokenRequest oreq;
        oreq.set_username(user);
        oreq.set_password(absl::StrCat("password-", c));
        v1::TokenResponse issued;
        grpc::Status s = auth_stub->ObtainToken(&octx, oreq, &issued);
        ++calls;
        if (!s.ok()) {
          fail("ObtainToken", s);
          continue;
        }
        std::string token = issued.token();
        // Several verifies, a refresh and protected calls per login.
        for (int i = 0; i < 20 && absl::Now() < end; ++i) {
          grpc::ClientContext vctx;
          deadline(vctx);
          v1::VerifyTokenRequest vreq;
          vreq.set_token(token);
          v1::VerifyTokenResponse vresp;
          s = auth_stub->VerifyToken(&vctx, vreq, &vresp);
          ++calls;
          if (!s.ok()) fail("VerifyToken", s);

          grpc::ClientContext ectx;
          deadline(ectx);
          ectx.AddMetadata("authorization", "JWT " + token);
          ev1::EchoRequest ereq;
          ereq.set_message("soak");
          ev1::EchoResponse eresp;
          s = profile_stub->Echo(&ectx, ereq, &eresp);
          ++calls;
          if (!s.ok()) fail("Profile.Echo", s);

          if (i % 10 == 9) {
            grpc::ClientContext wctx;
            deadline(wctx);
            wctx.AddMetadata("authorization", "JWT " + token);
            ev1::WhoAmIResponse who;
            s = profile_stub->WhoAmI(&wctx, ev1::WhoAmIRequest(), &who);
            ++calls;
            if (!s.ok() || who.username() != user) fail("Profile.WhoAmI", s);

            grpc::ClientContext rctx;
            deadline(rctx);
            v1::RefreshTokenRequest rreq;
            rreq.set_token(token);
            v1::TokenResponse refreshed;
            s = auth_stub->RefreshToken(&rctx, rreq, &refreshed);
            ++calls;
            if (!s.ok()) {
              fail("RefreshToken", s);
            } else {
              token = refreshed.token();
            }
          }
        }
      }
    });
  }

  // Sample the server after the warm-up fifth and at the end.
  while (absl::Now() < warm) absl::SleepFor(absl::Milliseconds(200));
  const int64_t rss_warm = RssKib(server.pid());
  const int fds_warm = OpenFds(server.pid());
  for (std::thread& t : clients) t.join();
  const int64_t rss_end = RssKib(server.pid());
  const int fds_end = OpenFds(server.pid());
  profile_server->Shutdown(std::chrono::system_clock::now() +
                           std::chrono::seconds(5));
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitFor(absl::Seconds(30)), 0);

  std::printf(
      "soak: %lld s, %lld calls (%.0f/s), %lld errors; server RSS %lld KiB "
      "after warm-up, "
      "%lld KiB at the end (%+.1f%%); open fds %d -> %d\n",
      static_cast<long long>(seconds), static_cast<long long>(calls.load()),
      static_cast<double>(calls.load()) / static_cast<double>(seconds),
      static_cast<long long>(errors.load()), static_cast<long long>(rss_warm),
      static_cast<long long>(rss_end),
      rss_warm > 0 ? 100.0 * static_cast<double>(rss_end - rss_warm) /
                         static_cast<double>(rss_warm)
                   : 0.0,
      fds_warm, fds_end);
  EXPECT_GT(calls.load(), 0);
  EXPECT_EQ(errors.load(), 0) << first_error;
  ASSERT_GT(fds_warm, 0);
  EXPECT_LE(fds_end, fds_warm + 2) << "file descriptors grew";
  ASSERT_GT(rss_warm, 0);
  if (!JWTAUTH_SOAK_SANITIZED) {
    EXPECT_LE(static_cast<double>(rss_end),
              1.10 * static_cast<double>(rss_warm))
        << "server RSS grew";
  }
}

}  // namespace
}  // namespace jwtauth::server
