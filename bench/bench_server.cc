// bench_server: the server side of bench/grpc_bench, one build serving every
// scenario on 127.0.0.1, each on its own port (its own grpc::Server):
//
//   public_echo               PublicEcho.Echo, no authentication (the floor)
//   profile_hs256_cache_on    Profile behind ServerAuth, HS256 LocalValidator,
//   cache on profile_hs256_cache_off   ... cache off (capacity 0: every call
//   verifies) profile_es256_cache_on    ... ES256 (verifies with the public
//   half only), cache on profile_es256_cache_off   ... ES256, cache off
//   profile_hs256_cache_on_in_handler
//                             HS256, cache on, checked by the Echo handler
//                             itself (no auth metadata processor): not a target
//                             row; it separates the check's cost from the
//                             processor path's
//   auth                      jwtauth.v1.AuthService (HS256, allow_refresh on)
//   on a
//                             fresh SQLite file holding one user
//   auth_postgres             the same service on the PostgreSQL database
//                             --postgres_url names (only with that flag), its
//                             store calls on an io pool as in jwtauth-server
//
// Every service uses gRPC's callback API; password hashing runs on a
// WorkerPool of --hash_workers threads, as in jwtauth-server. At start it
// generates fresh keys into --key_dir (mode 0600 files in a 0700 folder) so
// the load generator can sign its own tokens, creates the user, and writes
// --info_file (pid, ports, user; see grpc_bench_info.h) once everything
// serves. SIGTERM or SIGINT stops it; --stats_file then receives each
// protected port's token-cache counters. Auth decisions are logged on stderr,
// one line each, exactly as jwtauth-server does: redirect it.
//
//   bench_server --key_dir=/tmp/k --info_file=/tmp/k/info 2>/tmp/k/server.log &
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/grpc_bench_info.h"
#include "bench/mutex_contention.h"
#include "common/serving_tuning.h"
#include "common/worker_pool.h"
#include "interceptors/server_auth.h"
#include "interceptors/token_validator.h"
#include "jwt/base64url.h"
#include "jwt/key_loader.h"
#include "jwt/key_set.h"
#include "jwt/verifier.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "server/auth_log.h"
#include "server/auth_service.h"
#include "server/password_hasher.h"
#include "server/sqlite_user_store.h"
#include "server/token_service.h"
#include "server/user_store_factory.h"

ABSL_FLAG(std::string, key_dir, "",
          "Folder for the generated keys and the SQLite file (required)");
ABSL_FLAG(std::string, info_file, "",
          "Write pid, ports and user here once serving (required)");
ABSL_FLAG(std::string, stats_file, "",
          "On shutdown, write token-cache counters here");
ABSL_FLAG(int64_t, pbkdf2_iterations, jwtauth::server::kDefaultPbkdf2Iterations,
          "PBKDF2 iterations of the benchmark user's password hash");
ABSL_FLAG(int, hash_workers, 0,
          "Password-hashing threads (0 = number of cores)");
ABSL_FLAG(int, hash_nice, 19,
          "Niceness of the hashing threads, as jwtauth-server's --hash_nice");
ABSL_FLAG(int, token_lifetime_s, 3600,
          "JWT_EXPIRATION_DELTA of the auth service, seconds");
ABSL_FLAG(std::string, mutex_contention_file, "",
          "Profiling aid: record the stacks of contended absl::Mutex releases "
          "(gRPC's mutexes "
          "included) and write the top ones here on shutdown");
ABSL_FLAG(int64_t, malloc_trim_threshold,
          static_cast<int64_t>(jwtauth::common::kDefaultTrimThresholdBytes),
          "glibc M_TRIM_THRESHOLD in bytes, as jwtauth-server sets it "
          "(common/serving_tuning.h); "
          "0 leaves glibc's default (heap handed back to the kernel and "
          "faulted in again)");
ABSL_FLAG(
    std::string, postgres_url, "",
    "If set, also serve the auth service on this PostgreSQL database (port "
    "\"auth_postgres\"); the benchmark user is created there, replacing one of "
    "that name");
ABSL_FLAG(int, revoked_tokens, 0,
          "Revocations stored before serving (random jtis of the benchmark "
          "user, valid for a day), so VerifyToken runs its revocation check "
          "against a populated table");
ABSL_FLAG(int64_t, log_flush_interval_ms, 100,
          "As jwtauth-server's --log_flush_interval: decision log lines are "
          "buffered and written this often; 0 writes each line at once");
ABSL_FLAG(int, io_workers, 8,
          "Store threads of the PostgreSQL-backed auth service");
ABSL_FLAG(
    bool, mutex_deadlock_detection, false,
    "true leaves abseil's Mutex deadlock detection on as Debian's abseil ships "
    "it (built "
    "without NDEBUG); jwtauth-server turns it off (common/serving_tuning.h)");

namespace {

namespace v1 = jwtauth::examples::v1;
namespace ic = jwtauth::interceptors;
namespace jwt = jwtauth::jwt;
namespace server = jwtauth::server;
namespace bench = jwtauth::bench;

constexpr char kUsername[] = "bench";

int Fail(absl::string_view message) {
  std::fprintf(stderr, "bench_server: %s\n", std::string(message).c_str());
  return 2;
}

// PublicEchoService: the floor, an empty unary Echo with no check at all.
class PublicEchoService final : public v1::PublicEcho::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const v1::EchoRequest* req,
                                 v1::EchoResponse* resp) override {
    resp->set_message(req->message());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// StoreReadEchoService: the floor's Echo plus one user lookup, as VerifyToken
// does it (no token, no response fields from the row).
class StoreReadEchoService final : public v1::PublicEcho::CallbackService {
 public:
  explicit StoreReadEchoService(server::UserStore* store) : store_(store) {}

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const v1::EchoRequest* req,
                                 v1::EchoResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::StatusOr<std::optional<server::User>> user =
        store_->FindByUsername(kUsername);
    if (!user.ok() || !user->has_value() || !(*user)->is_active) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "lookup failed"));
      return reactor;
    }
    resp->set_message(req->message());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  server::UserStore* const store_;
};

// ProfileService: the same Echo (like examples/profile_server.cc, it does not
// read the caller) behind its port's ServerAuth; WhoAmI reads the caller so
// the load generator can check that the token was really verified.
class ProfileService final : public v1::Profile::CallbackService {
 public:
  // check_in_handler: Echo checks the token itself (for a port without the
  // auth metadata processor).
  ProfileService(std::shared_ptr<ic::ServerAuth> auth, bool check_in_handler)
      : auth_(std::move(auth)), check_in_handler_(check_in_handler) {}

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const v1::EchoRequest* req,
                                 v1::EchoResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (check_in_handler_) {
      absl::StatusOr<std::shared_ptr<const ic::Caller>> caller =
          auth_->CallerOf(*ctx);
      if (!caller.ok()) {
        reactor->Finish(
            grpc::Status(static_cast<grpc::StatusCode>(caller.status().code()),
                         std::string(caller.status().message())));
        return reactor;
      }
    }
    resp->set_message(req->message());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx,
                                   const v1::WhoAmIRequest*,
                                   v1::WhoAmIResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::StatusOr<std::shared_ptr<const ic::Caller>> caller =
        auth_->CallerOf(*ctx);
    if (!caller.ok()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   std::string(caller.status().message())));
      return reactor;
    }
    resp->set_username((*caller)->username);
    resp->set_user_id((*caller)->user_id.value_or(0));
    resp->set_claims_json(jwt::SerializeJson((*caller)->claims));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  std::shared_ptr<ic::ServerAuth> auth_;
  const bool check_in_handler_;
};

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};

// NewEs256PrivatePem returns a fresh P-256 private key as PKCS#8 PEM.
absl::StatusOr<std::string> NewEs256PrivatePem() {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1) {
    return absl::InternalError("cannot set up P-256 key generation");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1)
    return absl::InternalError("P-256 keygen failed");
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(raw);
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1) {
    return absl::InternalError("cannot write the P-256 key as PEM");
  }
  std::string pem(BIO_ctrl_pending(bio.get()), '\0');
  if (BIO_read(bio.get(), pem.data(), static_cast<int>(pem.size())) !=
      static_cast<int>(pem.size())) {
    return absl::InternalError("cannot read the PEM back");
  }
  return pem;
}

// Keys: what the server verifies and signs with.
struct Keys {
  jwt::Key hs256;         // the secret: auth service and HS256 Profile ports
  jwt::Key es256_public;  // the ES256 Profile ports verify with the public half
};

absl::StatusOr<Keys> MakeKeys(const std::string& dir) {
  absl::StatusOr<std::string> secret = jwt::GenerateSecret(64);
  if (!secret.ok()) return secret.status();
  absl::StatusOr<jwt::Key> hs =
      jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, *secret);
  if (!hs.ok()) return hs.status();
  absl::StatusOr<std::string> pem = NewEs256PrivatePem();
  if (!pem.ok()) return pem.status();
  absl::StatusOr<jwt::Key> es = jwt::KeyFromPem(jwt::Algorithm::kES256, *pem);
  if (!es.ok()) return es.status();
  absl::StatusOr<jwt::Key> es_public = jwt::PublicKeyOf(*es);
  if (!es_public.ok()) return es_public.status();
  if (absl::Status s =
          bench::WritePrivateFile(dir + "/" + bench::kHs256SecretFile, *secret);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          bench::WritePrivateFile(dir + "/" + bench::kEs256KeyFile, *pem);
      !s.ok()) {
    return s;
  }
  return Keys{*std::move(hs), *std::move(es_public)};
}

// ProtectedPort: one Profile variant with its own ServerAuth and server.
struct ProtectedPort {
  std::string name;
  std::shared_ptr<ic::ServerAuth> auth;
  std::unique_ptr<ProfileService> service;
  std::unique_ptr<grpc::Server> server;
};

std::unique_ptr<grpc::Server> Listen(
    std::shared_ptr<grpc::ServerCredentials> creds, grpc::Service* service,
    int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", std::move(creds), port);
  builder.RegisterService(service);
  return builder.BuildAndStart();
}

absl::StatusOr<ProtectedPort> StartProtected(const std::string& name,
                                             const jwt::Key& key,
                                             size_t cache_capacity,
                                             bool check_in_handler, int* port) {
  absl::StatusOr<jwt::KeySet> keys = jwt::KeySet::Create({key});
  if (!keys.ok()) return keys.status();
  absl::StatusOr<jwt::Verifier> verifier =
      jwt::Verifier::Create(*keys, jwt::ValidatorOptions{});
  if (!verifier.ok()) return verifier.status();
  ic::TokenCacheOptions cache;
  cache.capacity = cache_capacity;
  ic::ServerAuthOptions options;
  options.validator = ic::LocalValidator(*std::move(verifier), cache);
  options.set_default = false;
  absl::StatusOr<std::shared_ptr<ic::ServerAuth>> auth =
      ic::ServerAuth::Create(options);
  if (!auth.ok()) return auth.status();
  ProtectedPort p{name, *auth,
                  std::make_unique<ProfileService>(*auth, check_in_handler),
                  nullptr};
  p.server = Listen(check_in_handler ? grpc::InsecureServerCredentials()
                                     : p.auth->InsecureCredentials(),
                    p.service.get(), port);
  if (p.server == nullptr || *port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for ", name));
  }
  return p;
}

absl::Status WriteStats(const std::string& path,
                        const std::vector<ProtectedPort>& ports) {
  std::string text;
  for (const ProtectedPort& p : ports) {
    const ic::TokenCacheStats s = p.auth->CacheStats();
    absl::StrAppend(&text, p.name, " cache_size=", s.size, " hits=", s.hits,
                    " misses=", s.misses, "\n");
  }
  return bench::WritePrivateFile(path, text);
}

// CreateBenchUser creates the benchmark user in `store` with `hash`,
// replacing a user of that name left by an earlier run.
absl::Status CreateBenchUser(server::UserStore* store,
                             const std::string& hash) {
  absl::StatusOr<std::optional<server::User>> old =
      store->FindByUsername(kUsername);
  if (!old.ok()) return old.status();
  if (old->has_value()) {
    if (absl::Status s = store->DeleteUser((*old)->id); !s.ok()) return s;
  }
  server::NewUser user;
  user.username = kUsername;
  user.email = "bench@example.com";
  user.password_hash = hash;
  return store->CreateUser(user).status();
}

// PostgresAuth: the auth service on a PostgreSQL store, with the io pool
// jwtauth-server gives a remote store.
struct PostgresAuth {
  std::unique_ptr<server::UserStore> store;
  std::unique_ptr<server::TokenService> tokens;
  std::unique_ptr<jwtauth::common::WorkerPool> io_pool;
  std::unique_ptr<server::AuthServiceImpl> service;
  std::unique_ptr<grpc::Server> server;
};

int Serve() {
  const std::string key_dir = absl::GetFlag(FLAGS_key_dir);
  const std::string info_file = absl::GetFlag(FLAGS_info_file);
  if (key_dir.empty() || info_file.empty())
    return Fail("--key_dir and --info_file are required");
  if (::mkdir(key_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(
        absl::StrCat("--key_dir ", key_dir, ": ", std::strerror(errno)));
  }
  if (::chmod(key_dir.c_str(), 0700) != 0) {
    return Fail(
        absl::StrCat("--key_dir ", key_dir, ": ", std::strerror(errno)));
  }
  const int64_t iterations = absl::GetFlag(FLAGS_pbkdf2_iterations);
  if (iterations < 1 || iterations > server::kMaxPbkdf2Iterations) {
    return Fail("--pbkdf2_iterations out of range");
  }
  int workers = absl::GetFlag(FLAGS_hash_workers);
  if (workers <= 0)
    workers =
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  absl::StatusOr<Keys> keys = MakeKeys(key_dir);
  if (!keys.ok()) return Fail(absl::StrCat("keys: ", keys.status().message()));

  // The user store: a fresh SQLite file with one active user.
  const std::string db = key_dir + "/users.sqlite3";
  for (const char* suffix : {"", "-wal", "-shm"})
    ::unlink((db + suffix).c_str());
  absl::StatusOr<std::unique_ptr<server::SqliteUserStore>> store =
      server::SqliteUserStore::Open(db);
  if (!store.ok())
    return Fail(absl::StrCat("database: ", store.status().message()));
  absl::StatusOr<std::string> password_bytes = jwt::GenerateSecret(18);
  if (!password_bytes.ok()) return Fail("cannot generate a password");
  const std::string password = jwt::Base64UrlEncode(*password_bytes);
  server::PasswordHasher hasher(iterations);
  absl::StatusOr<std::string> hash = hasher.Hash(password);
  if (!hash.ok()) return Fail("cannot hash the password");
  if (absl::Status s = CreateBenchUser(store->get(), *hash); !s.ok()) {
    return Fail(absl::StrCat("cannot create the user: ", s.message()));
  }
  if (const int revoked = absl::GetFlag(FLAGS_revoked_tokens); revoked > 0) {
    absl::StatusOr<std::optional<server::User>> user =
        (*store)->FindByUsername(kUsername);
    if (!user.ok() || !user->has_value()) return Fail("benchmark user lost");
    // (No log-out-everywhere of the benchmark user: grpc_bench signs its own
    // tokens for the memory study, without a gen claim, i.e. generation 0.)
    const int64_t id = (**user).id;
    const absl::Time now = absl::Now();
    for (int i = 0; i < revoked; ++i) {
      absl::StatusOr<std::string> jti = jwt::GenerateSecret(16);
      if (!jti.ok()) return Fail("cannot generate a jti");
      // All the benchmark user's: no per-user cap for this preload.
      if (absl::Status s =
              (*store)
                  ->RevokeToken(jwt::Base64UrlEncode(*jti), id,
                                now + absl::Hours(24), now + absl::Hours(24),
                                now, server::kNoRevocationCap)
                  .status();
          !s.ok()) {
        return Fail(absl::StrCat("cannot store revocations: ", s.message()));
      }
    }
  }

  server::TokenSettings settings;
  settings.allow_refresh = true;
  settings.expiration_delta =
      absl::Seconds(absl::GetFlag(FLAGS_token_lifetime_s));
  absl::StatusOr<jwt::KeySet> auth_keys = jwt::KeySet::Create({keys->hs256});
  if (!auth_keys.ok()) return Fail(auth_keys.status().message());
  absl::StatusOr<std::unique_ptr<server::TokenService>> tokens =
      server::TokenService::Create(settings, *auth_keys, store->get(), hasher,
                                   server::ThrottleOptions{},
                                   jwt::SystemClock());
  if (!tokens.ok()) return Fail(tokens.status().message());
  auto pool = std::make_unique<jwtauth::common::WorkerPool>(
      static_cast<size_t>(workers), 1024, absl::GetFlag(FLAGS_hash_nice));
  // With low-priority hashing, replies leave from a normal-priority thread.
  std::unique_ptr<jwtauth::common::WorkerPool> finish_pool;
  if (absl::GetFlag(FLAGS_hash_nice) > 0) {
    finish_pool = std::make_unique<jwtauth::common::WorkerPool>(1, 4096);
  }
  server::AuthServiceImpl auth_service(tokens->get(), pool.get(), nullptr,
                                       finish_pool.get());

  bench::BenchServerInfo info;
  info.pid = ::getpid();
  info.pbkdf2_iterations = iterations;
  info.hash_workers = workers;
  info.mutex_deadlock_detection = absl::GetFlag(FLAGS_mutex_deadlock_detection);
  info.username = kUsername;
  info.password = password;

  PublicEchoService floor_service;
  int port = 0;
  std::unique_ptr<grpc::Server> floor_server =
      Listen(grpc::InsecureServerCredentials(), &floor_service, &port);
  if (floor_server == nullptr || port == 0)
    return Fail("cannot listen for the floor");
  info.ports[bench::kPortFloor] = port;

  StoreReadEchoService store_read_service(store->get());
  port = 0;
  std::unique_ptr<grpc::Server> store_read_server =
      Listen(grpc::InsecureServerCredentials(), &store_read_service, &port);
  if (store_read_server == nullptr || port == 0)
    return Fail("cannot listen for the store read");
  info.ports[bench::kPortEchoStoreRead] = port;

  std::vector<ProtectedPort> protected_ports;
  struct Variant {
    const char* name;
    const jwt::Key* key;
    size_t capacity;
    bool check_in_handler;
  };
  const size_t on = ic::TokenCacheOptions{}.capacity;
  for (const Variant& v :
       {Variant{bench::kPortHs256CacheOn, &keys->hs256, on, false},
        Variant{bench::kPortHs256CacheOff, &keys->hs256, 0, false},
        Variant{bench::kPortEs256CacheOn, &keys->es256_public, on, false},
        Variant{bench::kPortEs256CacheOff, &keys->es256_public, 0, false},
        Variant{bench::kPortHs256InHandler, &keys->hs256, on, true}}) {
    port = 0;
    absl::StatusOr<ProtectedPort> p =
        StartProtected(v.name, *v.key, v.capacity, v.check_in_handler, &port);
    if (!p.ok()) return Fail(p.status().message());
    info.ports[v.name] = port;
    protected_ports.push_back(*std::move(p));
  }

  port = 0;
  std::unique_ptr<grpc::Server> auth_server =
      Listen(grpc::InsecureServerCredentials(), &auth_service, &port);
  if (auth_server == nullptr || port == 0)
    return Fail("cannot listen for the auth service");
  info.ports[bench::kPortAuth] = port;

  PostgresAuth pg;
  if (const std::string url = absl::GetFlag(FLAGS_postgres_url); !url.empty()) {
    if (!server::IsRemoteStore(url))
      return Fail("--postgres_url: not a postgresql:// URL");
    absl::StatusOr<std::unique_ptr<server::UserStore>> pg_store =
        server::OpenUserStore(url);
    if (!pg_store.ok()) {
      return Fail(absl::StrCat("--postgres_url ", server::RedactDatabase(url),
                               ": ", pg_store.status().message()));
    }
    pg.store = *std::move(pg_store);
    if (absl::Status s = CreateBenchUser(pg.store.get(), *hash); !s.ok()) {
      return Fail(
          absl::StrCat("cannot create the user in PostgreSQL: ", s.message()));
    }
    absl::StatusOr<std::unique_ptr<server::TokenService>> pg_tokens =
        server::TokenService::Create(settings, *auth_keys, pg.store.get(),
                                     hasher, server::ThrottleOptions{},
                                     jwt::SystemClock());
    if (!pg_tokens.ok()) return Fail(pg_tokens.status().message());
    pg.tokens = *std::move(pg_tokens);
    pg.io_pool = std::make_unique<jwtauth::common::WorkerPool>(
        static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_io_workers))),
        4096);
    pg.service = std::make_unique<server::AuthServiceImpl>(
        pg.tokens.get(), pool.get(), pg.io_pool.get());
    port = 0;
    pg.server =
        Listen(grpc::InsecureServerCredentials(), pg.service.get(), &port);
    if (pg.server == nullptr || port == 0)
      return Fail("cannot listen for auth_postgres");
    info.ports[bench::kPortAuthPostgres] = port;
  }

  if (absl::Status s = bench::WriteBenchServerInfo(info_file, info); !s.ok()) {
    return Fail(s.message());
  }
  std::fprintf(
      stderr,
      "bench_server: serving %zu ports (pid %lld, %d hashing threads)\n",
      info.ports.size(), static_cast<long long>(info.pid), workers);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);

  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::seconds(5);
  floor_server->Shutdown(deadline);
  store_read_server->Shutdown(deadline);
  for (ProtectedPort& p : protected_ports) p.server->Shutdown(deadline);
  auth_server->Shutdown(deadline);
  if (pg.server != nullptr) pg.server->Shutdown(deadline);
  pg.io_pool.reset();
  pool.reset();  // finishes queued logins before the service goes away
  finish_pool.reset();
  if (const std::string stats = absl::GetFlag(FLAGS_stats_file);
      !stats.empty()) {
    if (absl::Status s = WriteStats(stats, protected_ports); !s.ok())
      return Fail(s.message());
  }
  if (const std::string file = absl::GetFlag(FLAGS_mutex_contention_file);
      !file.empty()) {
    if (absl::Status s =
            bench::WritePrivateFile(file, bench::MutexContentionReport(12));
        !s.ok()) {
      return Fail(s.message());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::umask(077);
  absl::SetProgramUsageMessage(
      "bench_server --key_dir=DIR --info_file=FILE [--stats_file=FILE]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1)
    return Fail(absl::StrCat("unexpected argument \"", args[1], "\""));
  const int64_t trim = absl::GetFlag(FLAGS_malloc_trim_threshold);
  if (trim < 0 || trim > INT32_MAX)
    return Fail("--malloc_trim_threshold out of range");
  if (!jwtauth::common::TuneForServing(static_cast<size_t>(trim))) {
    return Fail("--malloc_trim_threshold: mallopt refused it");
  }
  if (absl::GetFlag(FLAGS_mutex_deadlock_detection)) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kAbort);
  }
  if (!absl::GetFlag(FLAGS_mutex_contention_file).empty()) {
    bench::InstallMutexContentionTracer(argv[0]);
  }
  jwtauth::server::BufferAuthLog(
      absl::Milliseconds(absl::GetFlag(FLAGS_log_flush_interval_ms)));
  const int status = Serve();
  jwtauth::server::FlushAuthLog();
  return status;
}
