// jwtauth-server: serves jwtauth.v1.AuthService (plus grpc.health.v1 and
// server reflection) on an embedded SQLite user store. Every
// djangorestframework-jwt setting is a flag with the seed's default; a
// --flagfile works too. SIGTERM/SIGINT stop accepting, let in-flight calls
// finish within --shutdown_grace, and exit 0.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/serving_tuning.h"
#include "jwt/json.h"
#include "jwt/jwk_export.h"
#include "server/auth_log.h"
#include "server/auth_metrics.h"
#include "server/auth_service.h"
#include "server/http_listener.h"
#include "server/human_duration.h"
#include "server/key_directory.h"
#include "server/key_files.h"
#include "server/user_store_factory.h"

using jwtauth::server::HumanDuration;

ABSL_FLAG(std::string, algorithm, "HS256",
          "JWT_ALGORITHM: the one algorithm tokens are signed with");
ABSL_FLAG(std::string, secret_key_file, "",
          "JWT_SECRET_KEY from a file (HS*); mode 0600");
ABSL_FLAG(std::string, secret_key_env, "",
          "JWT_SECRET_KEY from this environment variable (HS*), e.g. "
          "JWTAUTH_SECRET_KEY");
ABSL_FLAG(std::string, private_key_file, "",
          "JWT_PRIVATE_KEY: PEM private key (RS/PS/ES/EdDSA)");
ABSL_FLAG(std::string, public_key_file, "",
          "JWT_PUBLIC_KEY: PEM public key; must match the private key");
ABSL_FLAG(std::string, key_dir, "",
          "A key directory made by `jwtauth keys generate` (several keys with "
          "kid: the active one signs, the others verify until their tokens "
          "expire). Re-read on SIGHUP and when its keys.json changes. Replaces "
          "--algorithm and the key file flags");
ABSL_FLAG(std::string, http_listen, "",
          "Serve /.well-known/jwks.json and /metrics over HTTP on host:port "
          "(loopback unless --insecure_allow_plaintext_non_loopback); empty = "
          "off");
ABSL_FLAG(HumanDuration, jwks_max_age, HumanDuration{absl::Minutes(5)},
          "Cache-Control max-age of /.well-known/jwks.json");
ABSL_FLAG(bool, verify, true,
          "JWT_VERIFY: check token signatures (false is dangerous)");
ABSL_FLAG(bool, verify_expiration, true,
          "JWT_VERIFY_EXPIRATION: check exp (false is dangerous)");
ABSL_FLAG(HumanDuration, leeway, HumanDuration{},
          "JWT_LEEWAY: clock skew allowed on exp/nbf");
ABSL_FLAG(HumanDuration, expiration_delta, HumanDuration{absl::Seconds(300)},
          "JWT_EXPIRATION_DELTA: token lifetime");
ABSL_FLAG(bool, allow_refresh, false,
          "JWT_ALLOW_REFRESH: issue refreshable tokens (orig_iat)");
ABSL_FLAG(HumanDuration, refresh_expiration_delta,
          HumanDuration{absl::Hours(24 * 7)},
          "JWT_REFRESH_EXPIRATION_DELTA: how long a refresh chain may last");
ABSL_FLAG(bool, allow_expired_refresh, false,
          "Refresh expired tokens that are still inside their refresh window");
ABSL_FLAG(std::string, audience, "",
          "JWT_AUDIENCE: written as aud and required on decode");
ABSL_FLAG(std::string, issuer, "",
          "JWT_ISSUER: written as iss and required on decode");
ABSL_FLAG(std::string, auth_header_prefix, "JWT",
          "JWT_AUTH_HEADER_PREFIX: used by protected services' validation");
ABSL_FLAG(std::string, extra_claims, "{}",
          "Static claims added to every token (a JSON object)");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve on (host:port; port 0 = any)");
ABSL_FLAG(std::string, port_file, "",
          "Write the bound port here once serving (for tests/scripts)");
ABSL_FLAG(std::string, data_dir, "data",
          "Folder for the database and generated secret (0700)");
ABSL_FLAG(std::string, database, "",
          "User store: a SQLite file (default <data_dir>/jwtauth.sqlite3) or a "
          "postgresql://user@host:port/db URL (password via PGPASSWORD or "
          "~/.pgpass)");
ABSL_FLAG(bool, migrate_on_start, true,
          "Apply pending schema migrations at start (else run `jwtauth-admin "
          "migrate` first)");
ABSL_FLAG(int, io_workers, 8,
          "Threads for user-store calls when the store is PostgreSQL");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM certificate chain: serve TLS");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM private key for --tls_cert_file (mode 0600)");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle: require and verify client certificates (mTLS)");
ABSL_FLAG(bool, insecure_allow_plaintext_non_loopback, false,
          "INSECURE: allow plaintext on a non-loopback address (tokens and "
          "passwords in clear)");
ABSL_FLAG(int64_t, pbkdf2_iterations, 1'000'000,
          "PBKDF2 iterations for new password hashes");
ABSL_FLAG(int, hash_workers, 0,
          "Threads for password hashing (0 = number of cores)");
ABSL_FLAG(int, hash_nice, 19,
          "Scheduling niceness of the hashing threads (0-19). Logins yield "
          "the CPU to VerifyToken/RefreshToken, so a login storm cannot stall "
          "them (bench/RESULTS.md, login storm); alone they still use every "
          "core. 0 = the same priority as the rest");
ABSL_FLAG(int, hash_queue, 1024,
          "Logins that may wait for a hashing thread before OVERLOADED");
ABSL_FLAG(int, throttle_user_failures, 5,
          "Failed logins per username within the window");
ABSL_FLAG(int, throttle_peer_failures, 20,
          "Failed logins per client address within the window");
ABSL_FLAG(HumanDuration, throttle_window, HumanDuration{absl::Minutes(5)},
          "Throttle window");
ABSL_FLAG(HumanDuration, revocation_poll,
          HumanDuration{absl::Milliseconds(500)},
          "How often WatchRevocations streams look for revocations made "
          "through other replicas (this server's own are sent at once)");
ABSL_FLAG(int64_t, max_revoked_tokens_per_user, 100,
          "RevokeToken keeps at most this many revoked tokens in force per "
          "user; revoking one more revokes all of the user's sessions. It "
          "bounds what one account can add to the revocation set every "
          "WatchRevocations client holds");
ABSL_FLAG(int64_t, max_watchers, 4096,
          "WatchRevocations streams served at once; more are refused with "
          "RESOURCE_EXHAUSTED (each holds a connection and its queue)");
ABSL_FLAG(HumanDuration, shutdown_grace, HumanDuration{absl::Seconds(10)},
          "On SIGTERM, how long in-flight calls may take");
ABSL_FLAG(HumanDuration, log_flush_interval,
          HumanDuration{absl::Milliseconds(100)},
          "Decision log lines are buffered and written this often (or per "
          "64 KiB), off the threads serving calls; 0 writes each line at "
          "once. A killed process loses at most this much of the log");

namespace {

namespace server = jwtauth::server;
namespace jwt = jwtauth::jwt;

int Fail(absl::string_view message) {
  jwtauth::server::FlushAuthLog();  // what was logged comes first
  std::fprintf(stderr, "jwtauth-server: %s\n", std::string(message).c_str());
  return 2;
}

bool IsLoopbackHost(absl::string_view listen) {
  return absl::StartsWith(listen, "127.") ||
         absl::StartsWith(listen, "localhost:") ||
         absl::StartsWith(listen, "[::1]:") ||
         absl::StartsWith(listen, "unix:");
}

absl::StatusOr<std::string> ReadPublicFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const std::string& listen) {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  const std::string ca = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together");
  }
  if (cert.empty()) {
    if (!ca.empty())
      return absl::InvalidArgumentError(
          "--tls_client_ca_file needs --tls_cert_file");
    if (!IsLoopbackHost(listen) &&
        !absl::GetFlag(FLAGS_insecure_allow_plaintext_non_loopback)) {
      return absl::InvalidArgumentError(
          absl::StrCat("refusing plaintext on non-loopback address ", listen,
                       ": configure --tls_cert_file/--tls_key_file, or pass "
                       "--insecure_allow_plaintext_non_loopback if a trusted "
                       "proxy terminates TLS"));
    }
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<std::string> cert_pem = ReadPublicFile(cert);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = server::ReadPrivateFile(key);
  if (!key_pem.ok()) return key_pem.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key_pem, *cert_pem});
  if (!ca.empty()) {
    absl::StatusOr<std::string> ca_pem = ReadPublicFile(ca);
    if (!ca_pem.ok()) return ca_pem.status();
    options.pem_root_certs = *ca_pem;
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

int Serve() {
  server::BufferAuthLog(absl::GetFlag(FLAGS_log_flush_interval).value);
  std::optional<jwt::Algorithm> alg =
      jwt::ParseAlgorithm(absl::GetFlag(FLAGS_algorithm));
  if (!alg.has_value()) {
    return Fail(absl::StrCat("--algorithm: unknown algorithm \"",
                             absl::GetFlag(FLAGS_algorithm),
                             "\" (HS256/384/512, RS256/384/512, PS256/384/512, "
                             "ES256/384/512, EdDSA)"));
  }
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(
        absl::StrCat("--data_dir ", data_dir, ": ", std::strerror(errno)));
  }
  server::KeyConfig key_config{*alg,
                               absl::GetFlag(FLAGS_secret_key_file),
                               absl::GetFlag(FLAGS_secret_key_env),
                               absl::GetFlag(FLAGS_private_key_file),
                               absl::GetFlag(FLAGS_public_key_file),
                               data_dir};
  bool generated = false;
  const std::string key_dir = absl::GetFlag(FLAGS_key_dir);
  absl::StatusOr<jwt::KeySet> keys =
      key_dir.empty() ? server::LoadServerKeys(key_config, &generated)
                      : server::KeyDirectory(key_dir).Load(absl::Now());
  if (!keys.ok()) {
    return Fail(absl::StrCat(key_dir.empty() ? "" : "--key_dir: ",
                             keys.status().message()));
  }
  if (!key_dir.empty() && (!key_config.secret_key_file.empty() ||
                           !key_config.secret_key_env.empty() ||
                           !key_config.private_key_file.empty() ||
                           !key_config.public_key_file.empty())) {
    return Fail("--key_dir replaces the key file flags: give one or the other");
  }
  if (generated) {
    server::LogLine(absl::StrCat(
        "generated a new random ", absl::GetFlag(FLAGS_algorithm),
        " secret in ", data_dir, "/secret.key (mode 0600); keep it safe"));
  }

  server::TokenSettings settings;
  settings.verify = absl::GetFlag(FLAGS_verify);
  settings.verify_expiration = absl::GetFlag(FLAGS_verify_expiration);
  settings.leeway = absl::GetFlag(FLAGS_leeway).value;
  settings.expiration_delta = absl::GetFlag(FLAGS_expiration_delta).value;
  settings.allow_refresh = absl::GetFlag(FLAGS_allow_refresh);
  settings.refresh_expiration_delta =
      absl::GetFlag(FLAGS_refresh_expiration_delta).value;
  settings.allow_expired_refresh = absl::GetFlag(FLAGS_allow_expired_refresh);
  const int64_t max_revoked = absl::GetFlag(FLAGS_max_revoked_tokens_per_user);
  if (max_revoked < 1)
    return Fail("--max_revoked_tokens_per_user must be at least 1");
  settings.max_revoked_tokens_per_user = static_cast<size_t>(max_revoked);
  if (!absl::GetFlag(FLAGS_audience).empty())
    settings.audience = absl::GetFlag(FLAGS_audience);
  if (!absl::GetFlag(FLAGS_issuer).empty())
    settings.issuer = absl::GetFlag(FLAGS_issuer);
  absl::StatusOr<jwt::Json> extra =
      jwt::ParseJson(absl::GetFlag(FLAGS_extra_claims));
  if (!extra.ok() || !extra->is_object())
    return Fail("--extra_claims: not a JSON object");
  settings.extra_claims = *extra;
  if (!settings.verify) {
    server::LogLine(
        "WARNING: --verify=false: token signatures are NOT checked; anyone can "
        "forge tokens");
  }
  if (!settings.verify_expiration) {
    server::LogLine(
        "WARNING: --verify_expiration=false: expired tokens are accepted "
        "forever");
  }

  std::string db_path = absl::GetFlag(FLAGS_database);
  if (db_path.empty()) db_path = data_dir + "/jwtauth.sqlite3";
  server::StoreOpenOptions store_options;
  store_options.create_or_migrate = absl::GetFlag(FLAGS_migrate_on_start);
  store_options.require_current_schema = true;  // when not migrating
  absl::StatusOr<std::unique_ptr<server::UserStore>> store =
      server::OpenUserStore(db_path, store_options);
  if (!store.ok()) {
    return Fail(absl::StrCat("--database ", server::RedactDatabase(db_path),
                             ": ", store.status().message()));
  }

  server::ThrottleOptions throttle;
  throttle.max_failures_per_username =
      absl::GetFlag(FLAGS_throttle_user_failures);
  throttle.max_failures_per_peer = absl::GetFlag(FLAGS_throttle_peer_failures);
  throttle.window = absl::GetFlag(FLAGS_throttle_window).value;
  const int64_t iterations = absl::GetFlag(FLAGS_pbkdf2_iterations);
  absl::StatusOr<std::unique_ptr<server::TokenService>> tokens =
      server::TokenService::Create(settings, *keys, store->get(),
                                   server::PasswordHasher(iterations), throttle,
                                   jwt::SystemClock());
  if (!tokens.ok()) return Fail(tokens.status().message());

  int workers = absl::GetFlag(FLAGS_hash_workers);
  if (workers <= 0)
    workers =
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int queue = absl::GetFlag(FLAGS_hash_queue);
  if (queue <= 0) return Fail("--hash_queue must be positive");
  const int nice = absl::GetFlag(FLAGS_hash_nice);
  if (nice < 0 || nice > 19) return Fail("--hash_nice must be 0 to 19");
  auto pool = std::make_unique<jwtauth::common::WorkerPool>(
      static_cast<size_t>(workers), static_cast<size_t>(queue), nice);
  // A networked store's calls may wait (network, locks, restarts): keep them
  // off gRPC's callback threads.
  std::unique_ptr<jwtauth::common::WorkerPool> io_pool;
  if (server::IsRemoteStore(db_path)) {
    io_pool = std::make_unique<jwtauth::common::WorkerPool>(
        static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_io_workers))),
        4096);
  }
  // Low-priority hashing threads hand each reply to a normal-priority thread,
  // so they never hold gRPC's locks while preempted.
  std::unique_ptr<jwtauth::common::WorkerPool> finish_pool;
  if (nice > 0) {
    finish_pool = std::make_unique<jwtauth::common::WorkerPool>(1, 4096);
  }
  server::AuthServiceImpl service(tokens->get(), pool.get(), io_pool.get(),
                                  finish_pool.get());
  // The public JWK Set, rebuilt when the keys change.
  auto make_jwks = [](const jwt::KeySet& set) {
    absl::StatusOr<jwt::Json> jwks = jwt::PublicJwks(set);
    return std::make_shared<const std::string>(
        jwks.ok() ? jwt::SerializeJson(*jwks) : std::string("{\"keys\":[]}"));
  };
  std::shared_ptr<const std::string> jwks = make_jwks(*keys);
  auto current_jwks = [&jwks] { return *std::atomic_load(&jwks); };
  service.set_jwks_source(current_jwks);
  const absl::Duration revocation_poll =
      absl::GetFlag(FLAGS_revocation_poll).value;
  if (revocation_poll < absl::Milliseconds(10))
    return Fail("--revocation_poll must be at least 10ms");
  server::RevocationFeedOptions feed_options;
  feed_options.poll_interval = revocation_poll;
  const int64_t max_watchers = absl::GetFlag(FLAGS_max_watchers);
  if (max_watchers < 1) return Fail("--max_watchers must be at least 1");
  feed_options.max_watchers = static_cast<size_t>(max_watchers);
  server::RevocationFeed feed(store->get(), jwt::SystemClock(), feed_options);
  feed.Start();
  service.set_revocation_feed(&feed);
  server::AuthMetricsCallbacks gauges;
  gauges.revocation_set_size = [&feed] {
    return static_cast<double>(feed.revoked_tokens() +
                               feed.users_with_generation());
  };
  absl::StatusOr<std::unique_ptr<server::AuthMetrics>> metrics =
      server::AuthMetrics::Create(gauges);
  if (!metrics.ok()) return Fail(metrics.status().message());
  service.set_metrics(metrics->get());

  const std::string listen = absl::GetFlag(FLAGS_listen);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      Credentials(listen);
  if (!creds.ok()) return Fail(creds.status().message());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, *creds, &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || port == 0) {
    return Fail(absl::StrCat("--listen ", listen, ": cannot listen there"));
  }
  server::LogLine(absl::StrCat(
      "jwtauth-server serving jwtauth.v1.AuthService on ", listen, " (port ",
      port, "), ", jwt::AlgorithmName(keys->current().algorithm()),
      key_dir.empty() ? "" : absl::StrCat(" (key directory ", key_dir, ")"),
      ", database ", server::RedactDatabase(db_path), ", ", workers,
      " hashing threads"));
  std::unique_ptr<server::HttpListener> http;
  if (const std::string http_listen = absl::GetFlag(FLAGS_http_listen);
      !http_listen.empty()) {
    server::HttpListenerOptions http_options;
    const size_t colon = http_listen.rfind(':');
    int http_port = -1;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(http_listen.substr(colon + 1), &http_port)) {
      return Fail("--http_listen: expected host:port");
    }
    http_options.host = http_listen.substr(0, colon);
    if (absl::StartsWith(http_options.host, "[") &&
        absl::EndsWith(http_options.host, "]")) {
      http_options.host =
          http_options.host.substr(1, http_options.host.size() - 2);
    }
    http_options.port = http_port;
    http_options.allow_non_loopback =
        absl::GetFlag(FLAGS_insecure_allow_plaintext_non_loopback);
    http_options.jwks = current_jwks;
    server::AuthMetrics* m = metrics->get();
    http_options.metrics = [m] { return m->Render(); };
    http_options.jwks_max_age = absl::GetFlag(FLAGS_jwks_max_age).value;
    absl::StatusOr<std::unique_ptr<server::HttpListener>> started =
        server::HttpListener::Start(http_options);
    if (!started.ok())
      return Fail(absl::StrCat("--http_listen: ", started.status().message()));
    http = *std::move(started);
    server::LogLine(
        absl::StrCat("HTTP: /.well-known/jwks.json and /metrics on ",
                     http_options.host, " port ", http->port()));
    const std::string http_port_file = absl::GetFlag(FLAGS_port_file);
    if (!http_port_file.empty()) {
      std::ofstream(http_port_file + ".http.tmp") << http->port() << "\n";
      std::rename((http_port_file + ".http.tmp").c_str(),
                  (http_port_file + ".http").c_str());
    }
  }
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << port << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }

  // Wait for SIGTERM/SIGINT (blocked in every thread, see main); SIGHUP, a
  // change of keys.json, or a verify-only key reaching its end reloads the
  // key directory. A bad directory keeps the keys in use (and says why).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  auto manifest_mtime = [&key_dir]() -> int64_t {
    struct stat st;
    if (key_dir.empty() || ::stat((key_dir + "/keys.json").c_str(), &st) != 0) {
      return 0;
    }
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
           st.st_mtim.tv_nsec;
  };
  int64_t loaded_mtime = manifest_mtime();
  absl::Time next_periodic = absl::Now() + absl::Minutes(1);
  int sig = 0;
  for (;;) {
    const struct timespec tick = {1, 0};
    sig = sigtimedwait(&set, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (key_dir.empty()) {
      if (sig == SIGHUP)
        server::LogLine("SIGHUP: nothing to reload (no --key_dir)");
      continue;
    }
    const int64_t mtime = manifest_mtime();
    const bool due = absl::Now() >= next_periodic;
    if (sig != SIGHUP && mtime == loaded_mtime && !due) continue;
    next_periodic = absl::Now() + absl::Minutes(1);
    loaded_mtime = mtime;
    absl::StatusOr<jwt::KeySet> reloaded =
        server::KeyDirectory(key_dir).Load(absl::Now());
    absl::Status applied = reloaded.status();
    if (applied.ok()) applied = (*tokens)->SetKeys(*reloaded);
    if (!applied.ok()) {
      server::LogLine(absl::StrCat(
          "key reload failed, keeping the keys in use: ", applied.message()));
      continue;
    }
    std::atomic_store(&jwks, make_jwks(*reloaded));
    if (sig == SIGHUP || !due) {
      server::LogLine(absl::StrCat("keys reloaded from ", key_dir, ": ",
                                   reloaded->keys().size(), " key(s), kid ",
                                   reloaded->current().kid(), " signs"));
    }
  }
  server::LogLine(absl::StrCat("received ",
                               sig == SIGTERM ? "SIGTERM" : "SIGINT",
                               ": draining in-flight calls"));
  feed.Stop();  // watch streams never end by themselves
  if (http != nullptr) http->Stop();
  grpc_server->Shutdown(
      std::chrono::system_clock::now() +
      absl::ToChronoSeconds(absl::GetFlag(FLAGS_shutdown_grace).value));
  grpc_server->Wait();
  pool.reset();
  finish_pool.reset();
  io_pool.reset();
  server::LogLine("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // No absl::Mutex deadlock detection, heap kept between calls: see
  // common/serving_tuning.h (measured in bench/RESULTS.md).
  jwtauth::common::TuneForServing();
  ::umask(077);  // the database holds password hashes; secrets are ours alone
  absl::SetProgramUsageMessage(
      "jwtauth-server [--flag=value ...] | --flagfile=FILE");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1)
    return Fail(absl::StrCat("unexpected argument \"", args[1], "\""));
  return Serve();
}
