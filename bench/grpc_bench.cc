// grpc_bench: a closed-loop load generator for bench_server, measuring every
// jwtauth RPC against the gRPC floor (an unauthenticated empty Echo) in one
// run against one server process.
//
// Each scenario opens --connections channels (one TCP connection each: a
// local subchannel pool per channel) and keeps --in_flight unary calls
// outstanding on each, issued through gRPC's asynchronous CompletionQueue API
// (GenericStub, the request serialised once) by --client_threads threads.
// After a warm-up it measures: calls completing inside the window count, OK
// ones towards requests/s and the latency percentiles, the others as errors
// (by status code). The fast scenarios run in --rounds interleaved rounds
// (--duration split between them; the first round warms up for --warmup,
// later ones for --rewarmup; each round starts one row later), so a burst of
// unrelated work on a shared machine spreads over all rows instead of skewing
// one; a row's ratio to the floor is the median over the rounds of its rate
// divided by the floor's rate in the same round; with --bracket (default) the
// floor runs before and after every row of a round, and the row's rate is
// divided by the mean of those two neighbours. It also samples CPU time of
// the server (/proc/<pid>/stat), of itself (getrusage) and of the whole
// machine (/proc/stat) at the window's edges, giving CPU per call on each
// side and how much of the machine something else used. ObtainToken runs
// last, once, with fewer calls in flight; the "password-hash limit" it is
// compared with is cores / (time of one PBKDF2 check at the server's
// iteration count, measured here, with the server idle, in this run).
//
// Before any load, each endpoint is checked with typed stubs: the floor
// echoes; each protected port refuses a call without a token, echoes with
// one and names the user in WhoAmI; the auth service issues, verifies and
// refreshes a token.
//
// Output: a Markdown table (and notes) on stdout, progress on stderr, and
// --json_out. Targets are reported, never asserted.
//
//   grpc_bench --info_file=/tmp/k/info --key_dir=/tmp/k --json_out=results.json
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/grpc_bench_info.h"
#include "bench/grpc_bench_studies.h"
#include "bench/grpc_load.h"
#include "jwt/json.h"
#include "jwt/key_loader.h"
#include "jwt/raw_jwt.h"
#include "jwt/signer.h"
#include "jwtauth/examples/v1/profile.grpc.pb.h"
#include "jwtauth/v1/auth.grpc.pb.h"
#include "server/password_hasher.h"

ABSL_FLAG(std::string, info_file, "", "bench_server's --info_file (required)");
ABSL_FLAG(std::string, key_dir, "", "bench_server's --key_dir (required)");
ABSL_FLAG(std::string, json_out, "", "Write the results as JSON here");
ABSL_FLAG(std::string, scenarios, "all",
          "Comma-separated scenario names to run (see --list_scenarios); "
          "\"all\" stands for "
          "every scenario not marked \"only when named\"");
ABSL_FLAG(bool, list_scenarios, false, "Print the scenario names and exit");
ABSL_FLAG(int, connections, 4, "Channels (TCP connections) per scenario");
ABSL_FLAG(int, in_flight, 32, "Calls outstanding per connection");
ABSL_FLAG(int, client_threads, 2, "Completion-queue threads driving the calls");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(5),
          "Warm-up per scenario (not measured)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "Measurement per scenario, in total over the rounds");
ABSL_FLAG(int, obtain_connections, 2, "ObtainToken: connections");
ABSL_FLAG(int, obtain_in_flight, 2,
          "ObtainToken: calls outstanding per connection");
ABSL_FLAG(absl::Duration, obtain_warmup, absl::Seconds(3),
          "ObtainToken: warm-up");
ABSL_FLAG(absl::Duration, obtain_duration, absl::Seconds(15),
          "ObtainToken: measurement window");
ABSL_FLAG(int, hash_samples, 3,
          "Single PBKDF2 checks timed for the password-hash limit");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(10),
          "Deadline of every call");
ABSL_FLAG(int, rounds, 5,
          "Interleaved rounds of the fast scenarios; each measures --duration "
          "/ rounds");
ABSL_FLAG(absl::Duration, rewarmup, absl::Seconds(1),
          "Warm-up of each scenario in rounds after the first (new "
          "connections, warm server)");
ABSL_FLAG(bool, bracket, true,
          "In each round, measure the floor before and after every other row "
          "and take the row's ratio to the mean of those two: on a shared "
          "machine whose speed drifts over seconds, adjacent windows compare "
          "better than the floor's one window per round");
ABSL_FLAG(bool, floor_repeat, false,
          "Also measure the floor as a separate row after the others (the "
          "ratio uses the mean)");
ABSL_FLAG(std::string, message, "jwtauth benchmark", "Echo request message");
ABSL_FLAG(int, tokens, 1,
          "Distinct tokens the Profile rows send (round-robin over call "
          "slots); 1 = every call "
          "the same token");
ABSL_FLAG(int64_t, memory_calls, 0,
          "If > 0: after the table, call VerifyToken this many times over "
          "--memory_tokens distinct tokens and report the server's RSS");
ABSL_FLAG(int, memory_tokens, 100000, "Distinct tokens of the memory study");
ABSL_FLAG(bool, storm, false,
          "After the table: VerifyToken p99 alone and during a login storm");
ABSL_FLAG(int, storm_verify_connections, 2,
          "Login-storm study: VerifyToken connections");
ABSL_FLAG(int, storm_verify_in_flight, 4,
          "Login-storm study: VerifyToken calls in flight each");
ABSL_FLAG(int, storm_obtain_connections, 4,
          "Login-storm study: ObtainToken connections");
ABSL_FLAG(int, storm_obtain_in_flight, 4,
          "Login-storm study: ObtainToken calls in flight each");
ABSL_FLAG(int, storm_rounds, 3,
          "Login-storm study: rounds of alone → storm → control");
ABSL_FLAG(absl::Duration, storm_duration, absl::Seconds(6),
          "Login-storm study: VerifyToken measurement (after a 3 s warm-up), "
          "each phase");
ABSL_FLAG(bool, mutex_deadlock_detection, false,
          "Keep abseil's Mutex deadlock detection on in this load generator "
          "(Debian's abseil "
          "has it on; it costs gRPC's every lock, so it is off by default here "
          "to leave more "
          "CPU to the server under test)");

namespace {

namespace ev1 = jwtauth::examples::v1;
namespace av1 = jwtauth::v1;
namespace jwt = jwtauth::jwt;
namespace bench = jwtauth::bench;
using bench::Cores;
using bench::CpuSnapshot;
using bench::LoadResult;
using bench::LoadSpec;
using bench::NewChannel;
using bench::NowNs;
using bench::PercentileUs;
using bench::Progress;
using bench::RunLoad;

// ---------------------------------------------------------------- checks

grpc::ClientContext* WithDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return &ctx;
}

std::string Describe(const grpc::Status& s) {
  return absl::StrCat("status ", static_cast<int>(s.error_code()), " \"",
                      s.error_message(), "\"");
}

absl::Status CheckFloor(int port, const std::string& message) {
  auto stub = ev1::PublicEcho::NewStub(NewChannel(port, -1));
  grpc::ClientContext ctx;
  ev1::EchoRequest req;
  req.set_message(message);
  ev1::EchoResponse resp;
  grpc::Status s = stub->Echo(WithDeadline(ctx), req, &resp);
  if (!s.ok() || resp.message() != message) {
    return absl::InternalError(absl::StrCat("floor Echo: ", Describe(s)));
  }
  return absl::OkStatus();
}

absl::Status CheckProtected(int port, const std::string& authorization,
                            const std::string& user,
                            const std::string& message) {
  auto stub = ev1::Profile::NewStub(NewChannel(port, -1));
  ev1::EchoRequest req;
  req.set_message(message);
  {
    grpc::ClientContext ctx;
    ev1::EchoResponse resp;
    grpc::Status s = stub->Echo(WithDeadline(ctx), req, &resp);
    if (s.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
      return absl::InternalError(absl::StrCat(
          "port ", port, ": Echo without a token gave ", Describe(s)));
    }
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", authorization);
    ev1::EchoResponse resp;
    grpc::Status s = stub->Echo(WithDeadline(ctx), req, &resp);
    if (!s.ok() || resp.message() != message) {
      return absl::InternalError(absl::StrCat(
          "port ", port, ": Echo with a token gave ", Describe(s)));
    }
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", authorization);
  ev1::WhoAmIResponse who;
  grpc::Status s = stub->WhoAmI(WithDeadline(ctx), ev1::WhoAmIRequest(), &who);
  if (!s.ok() || who.username() != user) {
    return absl::InternalError(absl::StrCat("port ", port, ": WhoAmI gave ",
                                            Describe(s), " user \"",
                                            who.username(), "\""));
  }
  return absl::OkStatus();
}

// CheckAuth logs in once, verifies and refreshes; returns the issued token.
absl::StatusOr<std::string> CheckAuth(int port,
                                      const bench::BenchServerInfo& info) {
  auto stub = av1::AuthService::NewStub(NewChannel(port, -1));
  av1::TokenResponse issued;
  {
    grpc::ClientContext ctx;
    av1::ObtainTokenRequest req;
    req.set_username(info.username);
    req.set_password(info.password);
    grpc::Status s = stub->ObtainToken(WithDeadline(ctx), req, &issued);
    if (!s.ok() || issued.token().empty()) {
      return absl::InternalError(absl::StrCat("ObtainToken: ", Describe(s)));
    }
  }
  {
    grpc::ClientContext ctx;
    av1::VerifyTokenRequest req;
    req.set_token(issued.token());
    av1::VerifyTokenResponse resp;
    grpc::Status s = stub->VerifyToken(WithDeadline(ctx), req, &resp);
    if (!s.ok() || resp.user().username() != info.username) {
      return absl::InternalError(absl::StrCat("VerifyToken: ", Describe(s)));
    }
  }
  grpc::ClientContext ctx;
  av1::RefreshTokenRequest req;
  req.set_token(issued.token());
  av1::TokenResponse refreshed;
  grpc::Status s = stub->RefreshToken(WithDeadline(ctx), req, &refreshed);
  if (!s.ok() || refreshed.token().empty()) {
    return absl::InternalError(absl::StrCat("RefreshToken: ", Describe(s)));
  }
  return issued.token();
}

// ---------------------------------------------------------------- tokens

// SignTokens returns `n` distinct drf-jwt style tokens (they differ in jti).
absl::StatusOr<std::vector<std::string>> SignTokens(const jwt::Key& key,
                                                    const std::string& username,
                                                    int n) {
  absl::StatusOr<jwt::JwtSigner> signer = jwt::JwtSigner::Create(key);
  if (!signer.ok()) return signer.status();
  const absl::Time now = absl::Now();
  std::vector<std::string> tokens;
  for (int i = 0; i < n; ++i) {
    jwt::RawJwt raw;
    raw.SetInt("user_id", 1)
        .SetString("username", username)
        .SetNumericDate("exp", now + absl::Hours(2))
        .SetString("email", "bench@example.com")
        .SetNumericDate("orig_iat", now)
        .SetString("jti", absl::StrCat("bench-", i));
    absl::StatusOr<std::string> token = signer->Sign(raw);
    if (!token.ok()) return token.status();
    tokens.push_back(*std::move(token));
  }
  return tokens;
}

std::vector<std::string> AuthorizationValues(
    const std::vector<std::string>& tokens) {
  std::vector<std::string> values;
  for (const std::string& t : tokens) values.push_back("JWT " + t);
  return values;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// ---------------------------------------------------------------- hashing

struct HashLimit {
  int cores = 0;
  int64_t iterations = 0;
  std::vector<double> single_s;  // each timed check, alone
  double single_median_s = 0;
  double limit_per_s = 0;  // cores / single_median_s
  double parallel_wall_s =
      0;  // kParallelChecksPerCore checks on each core at once
  double parallel_limit_per_s = 0;  // checks / parallel_wall_s
};

constexpr int kParallelChecksPerCore = 2;

HashLimit MeasureHashLimit(int64_t iterations, int samples, int cores) {
  HashLimit h;
  h.cores = cores;
  h.iterations = iterations;
  const jwtauth::server::PasswordHasher hasher(iterations);
  const std::string encoded = hasher.Hash("bench password").value_or("");
  for (int i = 0; i < std::max(1, samples); ++i) {
    const int64_t t0 = NowNs();
    const bool ok = hasher.Check("bench password", encoded);
    const double s = static_cast<double>(NowNs() - t0) * 1e-9;
    if (!ok) Progress("warning: the timed password check failed");
    h.single_s.push_back(s);
  }
  std::vector<double> sorted = h.single_s;
  std::sort(sorted.begin(), sorted.end());
  h.single_median_s = sorted[sorted.size() / 2];
  h.limit_per_s = static_cast<double>(cores) / h.single_median_s;
  // The same checks on every core at once: what the cores deliver together.
  std::vector<std::thread> threads;
  const int64_t t0 = NowNs();
  for (int i = 0; i < cores; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kParallelChecksPerCore; ++j) {
        (void)hasher.Check("bench password", encoded);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  h.parallel_wall_s = static_cast<double>(NowNs() - t0) * 1e-9;
  h.parallel_limit_per_s =
      static_cast<double>(cores * kParallelChecksPerCore) / h.parallel_wall_s;
  return h;
}

// ---------------------------------------------------------------- scenarios

enum class TargetKind { kNone, kFloor, kHashLimit };

struct Scenario {
  std::string name;   // --scenarios key
  std::string label;  // table row
  std::string port_key;
  std::string method;
  std::string request;
  bool obtain = false;
  bool is_floor = false;
  TargetKind target = TargetKind::kNone;
  double target_ratio = 0;
  bool opt_in = false;  // not part of "all"; run only when named
  // Runs only when the server serves port_key (PostgreSQL rows); "all"
  // skips it otherwise, naming it is an error.
  bool optional_port = false;
};

struct Row {
  const Scenario* scenario = nullptr;
  LoadSpec spec;
  LoadResult result;
  double rps = 0;
  std::vector<double> round_rps;  // one per round
  std::vector<double>
      round_ratio;  // round_rps / the floor's rate in the same round
  std::vector<double> bracket_ratio;  // --bracket: to the floors around it
  double totals_ratio = 0;            // rps / floor rps
  double ratio =
      0;  // to the floor (median of round_ratio), or to the hash limit
  std::string verdict;  // "yes", "**NO**", "n/a"
  std::string target_text;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Fmt(double v, int decimals) {
  return absl::StrFormat("%.*f", decimals, v);
}

std::string ErrorText(const LoadResult& r) {
  if (r.errors == 0 && r.warmup_errors == 0) return "0";
  std::vector<std::string> parts;
  for (const auto& [code, n] : r.error_codes)
    parts.push_back(absl::StrCat(n, "×code ", code));
  std::string text = absl::StrCat(r.errors);
  if (!parts.empty())
    absl::StrAppend(&text, " (", absl::StrJoin(parts, ", "), ")");
  if (r.warmup_errors > 0)
    absl::StrAppend(&text, " +", r.warmup_errors, " in warm-up");
  return text;
}

jwt::Json Number(double v) { return jwt::Json::Double(v); }

int Run() {
  const std::string info_path = absl::GetFlag(FLAGS_info_file);
  const std::string key_dir = absl::GetFlag(FLAGS_key_dir);
  const std::string message = absl::GetFlag(FLAGS_message);

  std::vector<Scenario> all;
  {
    ev1::EchoRequest echo;
    echo.set_message(message);
    const std::string echo_bytes = echo.SerializeAsString();
    const std::string pe = "/jwtauth.examples.v1.PublicEcho/Echo";
    const std::string pr = "/jwtauth.examples.v1.Profile/Echo";
    all.push_back({"floor", "PublicEcho.Echo, no auth (floor)",
                   bench::kPortFloor, pe, echo_bytes, false, true,
                   TargetKind::kNone, 0});
    // The floor's Echo carrying the protected rows' `authorization` header,
    // which nothing checks: what transporting a token costs in gRPC (HPACK
    // sends unknown metadata as a literal on every call), apart from checking
    // it.
    all.push_back(
        {"floor_auth_header",
         "PublicEcho.Echo + the HS256 authorization header, unchecked",
         bench::kPortFloor, pe, echo_bytes, false, false, TargetKind::kNone,
         0});
    all.push_back({"hs256_cache_on", "Profile.Echo, HS256, cache on",
                   bench::kPortHs256CacheOn, pr, echo_bytes, false, false,
                   TargetKind::kFloor, 0.95});
    all.push_back({"hs256_cache_off", "Profile.Echo, HS256, cache off",
                   bench::kPortHs256CacheOff, pr, echo_bytes, false, false,
                   TargetKind::kFloor, 0.85});
    all.push_back({"es256_cache_on", "Profile.Echo, ES256, cache on",
                   bench::kPortEs256CacheOn, pr, echo_bytes, false, false,
                   TargetKind::kNone, 0});
    all.push_back({"es256_cache_off", "Profile.Echo, ES256, cache off",
                   bench::kPortEs256CacheOff, pr, echo_bytes, false, false,
                   TargetKind::kNone, 0});
    all.push_back(
        {"floor_store_read",
         "PublicEcho.Echo + one user-store read (VerifyToken's ceiling)",
         bench::kPortEchoStoreRead, pe, echo_bytes, false, false,
         TargetKind::kNone, 0});
    all.push_back({"verify", "AuthService.VerifyToken (HS256)",
                   bench::kPortAuth, "/jwtauth.v1.AuthService/VerifyToken", "",
                   false, false, TargetKind::kFloor, 0.90});
    all.push_back({"refresh", "AuthService.RefreshToken (HS256)",
                   bench::kPortAuth, "/jwtauth.v1.AuthService/RefreshToken", "",
                   false, false, TargetKind::kNone, 0});
    all.push_back({"floor_repeat", "PublicEcho.Echo, no auth (floor, again)",
                   bench::kPortFloor, pe, echo_bytes, false, true,
                   TargetKind::kNone, 0});
    all.push_back({"obtain", "AuthService.ObtainToken (PBKDF2)",
                   bench::kPortAuth, "/jwtauth.v1.AuthService/ObtainToken", "",
                   true, false, TargetKind::kHashLimit, 0.90});
    all.push_back(
        {"verify_pg", "AuthService.VerifyToken (HS256), PostgreSQL store",
         bench::kPortAuthPostgres, "/jwtauth.v1.AuthService/VerifyToken", "",
         false, false, TargetKind::kNone, 0, false, true});
    all.push_back(
        {"obtain_pg", "AuthService.ObtainToken (PBKDF2), PostgreSQL store",
         bench::kPortAuthPostgres, "/jwtauth.v1.AuthService/ObtainToken", "",
         true, false, TargetKind::kHashLimit, 0.90, false, true});
    all.push_back(
        {"hs256_in_handler",
         "Profile.Echo, HS256, cache on, checked in the handler (no processor)",
         bench::kPortHs256InHandler, pr, echo_bytes, false, false,
         TargetKind::kNone, 0, true});
  }
  if (absl::GetFlag(FLAGS_list_scenarios)) {
    for (const Scenario& s : all) {
      std::printf("%s\t%s%s\n", s.name.c_str(), s.label.c_str(),
                  s.opt_in ? " [only when named]" : "");
    }
    return 0;
  }
  if (info_path.empty() || key_dir.empty()) {
    Progress("--info_file and --key_dir are required");
    return 2;
  }
  absl::StatusOr<bench::BenchServerInfo> info =
      bench::ReadBenchServerInfo(info_path);
  if (!info.ok()) {
    Progress(std::string(info.status().message()));
    return 2;
  }
  std::vector<const Scenario*> selected;
  {
    const std::string wanted = absl::GetFlag(FLAGS_scenarios);
    std::vector<std::string> names =
        absl::StrSplit(wanted, ',', absl::SkipEmpty());
    for (const Scenario& s : all) {
      const bool all_named =
          std::find(names.begin(), names.end(), "all") != names.end();
      const bool named =
          std::find(names.begin(), names.end(), s.name) != names.end();
      if (s.optional_port && info->ports.count(s.port_key) == 0) {
        if (named) {
          Progress(absl::StrCat(s.name, " needs bench_server's ", s.port_key,
                                " port (bench_server --postgres_url)"));
          return 2;
        }
        continue;
      }
      if ((all_named && !s.opt_in) || named) {
        if (s.name == "floor_repeat" && !absl::GetFlag(FLAGS_floor_repeat))
          continue;
        selected.push_back(&s);
      }
    }
    if (selected.empty()) {
      Progress("--scenarios selects nothing (see --list_scenarios)");
      return 2;
    }
  }

  // Tokens, signed with the server's keys.
  absl::StatusOr<std::string> secret =
      ReadFile(key_dir + "/" + bench::kHs256SecretFile);
  absl::StatusOr<std::string> pem =
      ReadFile(key_dir + "/" + bench::kEs256KeyFile);
  if (!secret.ok() || !pem.ok()) {
    Progress(absl::StrCat("--key_dir ", key_dir, ": key files missing"));
    return 2;
  }
  absl::StatusOr<jwt::Key> hs =
      jwt::HmacKeyFromSecret(jwt::Algorithm::kHS256, *secret);
  absl::StatusOr<jwt::Key> es = jwt::KeyFromPem(jwt::Algorithm::kES256, *pem);
  if (!hs.ok() || !es.ok()) {
    Progress("cannot load the server's keys");
    return 2;
  }
  const int token_count = absl::GetFlag(FLAGS_tokens);
  if (token_count < 1) {
    Progress("--tokens must be at least 1");
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> hs_tokens =
      SignTokens(*hs, info->username, token_count);
  absl::StatusOr<std::vector<std::string>> es_tokens =
      SignTokens(*es, info->username, token_count);
  if (!hs_tokens.ok() || !es_tokens.ok()) {
    Progress("cannot sign the tokens");
    return 2;
  }

  // Checks first: every endpoint does what its row claims.
  auto port_of = [&](const std::string& key) {
    auto it = info->ports.find(key);
    return it == info->ports.end() ? 0 : it->second;
  };
  for (const char* key :
       {bench::kPortFloor, bench::kPortHs256CacheOn, bench::kPortHs256CacheOff,
        bench::kPortEs256CacheOn, bench::kPortEs256CacheOff, bench::kPortAuth,
        bench::kPortHs256InHandler, bench::kPortEchoStoreRead}) {
    if (port_of(key) == 0) {
      Progress(absl::StrCat(info_path, ": no port for ", key));
      return 2;
    }
  }
  Progress("checking every endpoint (one login: one password hash)");
  absl::Status check = CheckFloor(port_of(bench::kPortFloor), message);
  if (check.ok())
    check = CheckFloor(port_of(bench::kPortEchoStoreRead), message);
  for (const auto& [key, token] :
       {std::pair<const char*, const std::string*>{bench::kPortHs256CacheOn,
                                                   &hs_tokens->front()},
        {bench::kPortHs256CacheOff, &hs_tokens->front()},
        {bench::kPortEs256CacheOn, &es_tokens->front()},
        {bench::kPortEs256CacheOff, &es_tokens->front()},
        {bench::kPortHs256InHandler, &hs_tokens->front()}}) {
    if (check.ok())
      check = CheckProtected(port_of(key), "JWT " + *token, info->username,
                             message);
  }
  absl::StatusOr<std::string> auth_token =
      check.ok() ? CheckAuth(port_of(bench::kPortAuth), *info) : check;
  if (!auth_token.ok()) {
    Progress(
        absl::StrCat("endpoint check failed: ", auth_token.status().message()));
    return 1;
  }
  const bool has_pg = info->ports.count(bench::kPortAuthPostgres) > 0;
  absl::StatusOr<std::string> pg_token =
      has_pg ? CheckAuth(port_of(bench::kPortAuthPostgres), *info)
             : std::string();
  if (!pg_token.ok()) {
    Progress(absl::StrCat("endpoint check failed (PostgreSQL): ",
                          pg_token.status().message()));
    return 1;
  }

  // Requests and tokens per scenario.
  // name -> (request, authorization values)
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> wire;
  {
    av1::VerifyTokenRequest v;
    v.set_token(*auth_token);
    av1::RefreshTokenRequest r;
    r.set_token(*auth_token);
    av1::ObtainTokenRequest o;
    o.set_username(info->username);
    o.set_password(info->password);
    wire["verify"] = {v.SerializeAsString(), {}};
    wire["refresh"] = {r.SerializeAsString(), {}};
    wire["obtain"] = {o.SerializeAsString(), {}};
    wire["obtain_pg"] = {o.SerializeAsString(), {}};
    av1::VerifyTokenRequest vp;
    vp.set_token(*pg_token);
    wire["verify_pg"] = {vp.SerializeAsString(), {}};
    wire["floor_auth_header"] = {"", AuthorizationValues(*hs_tokens)};
    wire["hs256_cache_on"] = {"", AuthorizationValues(*hs_tokens)};
    wire["hs256_cache_off"] = {"", AuthorizationValues(*hs_tokens)};
    wire["es256_cache_on"] = {"", AuthorizationValues(*es_tokens)};
    wire["es256_cache_off"] = {"", AuthorizationValues(*es_tokens)};
    wire["hs256_in_handler"] = {"", AuthorizationValues(*hs_tokens)};
  }

  const int cores = Cores();
  std::optional<HashLimit> hash_limit;
  // Fast scenarios run in --rounds interleaved rounds (each measuring
  // --duration / rounds), so a burst of other work on the machine spreads over
  // several rows instead of skewing one; ObtainToken runs once, last.
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  std::vector<Row> rows;
  for (const Scenario* s : selected) {
    Row row;
    row.scenario = s;
    LoadSpec& spec = row.spec;
    spec.port = port_of(s->port_key);
    spec.method = s->method;
    spec.requests = {s->request};
    if (auto it = wire.find(s->name); it != wire.end()) {
      if (!it->second.first.empty()) spec.requests = {it->second.first};
      spec.authorizations = it->second.second;
    }
    spec.threads = absl::GetFlag(FLAGS_client_threads);
    spec.call_timeout = absl::GetFlag(FLAGS_call_timeout);
    if (s->obtain) {
      spec.connections = absl::GetFlag(FLAGS_obtain_connections);
      spec.in_flight = absl::GetFlag(FLAGS_obtain_in_flight);
      spec.warmup = absl::GetFlag(FLAGS_obtain_warmup);
      spec.duration = absl::GetFlag(FLAGS_obtain_duration);
    } else {
      spec.connections = absl::GetFlag(FLAGS_connections);
      spec.in_flight = absl::GetFlag(FLAGS_in_flight);
      spec.warmup = absl::GetFlag(FLAGS_warmup);
      spec.duration = absl::GetFlag(FLAGS_duration);
    }
    if (spec.connections < 1 || spec.in_flight < 1 ||
        spec.duration <= absl::ZeroDuration() ||
        spec.warmup < absl::ZeroDuration()) {
      Progress("connections, in_flight and duration must be positive");
      return 2;
    }
    rows.push_back(std::move(row));
  }
  auto measure = [&](Row& row, absl::Duration warmup, absl::Duration duration,
                     const std::string& what) -> bool {
    LoadSpec spec = row.spec;
    spec.warmup = warmup;
    spec.duration = duration;
    Progress(absl::StrCat(what, row.scenario->name, ": ", spec.connections,
                          " connections x ", spec.in_flight, " in flight, ",
                          absl::FormatDuration(warmup), " warm-up + ",
                          absl::FormatDuration(duration), " measured"));
    absl::StatusOr<LoadResult> result = RunLoad(spec, info->pid);
    if (!result.ok()) {
      Progress(std::string(result.status().message()));
      return false;
    }
    const double rps = static_cast<double>(result->ok) / result->window_s;
    row.round_rps.push_back(rps);
    Progress(absl::StrCat("  ", Fmt(rps, rps < 100 ? 2 : 0), " req/s, ",
                          result->errors, " errors"));
    row.result.Merge(*std::move(result));
    return true;
  };
  std::vector<Row*> fast;
  Row* bracket_floor = nullptr;  // the floor row that brackets the others
  for (Row& row : rows) {
    if (row.scenario->obtain) continue;
    if (absl::GetFlag(FLAGS_bracket) && bracket_floor == nullptr &&
        row.scenario->is_floor) {
      bracket_floor = &row;
      continue;
    }
    fast.push_back(&row);
  }
  if (bracket_floor != nullptr && !fast.empty()) {
    // Round r: floor, row, floor, row, ..., floor (rows rotated per round).
    for (int round = 0; round < rounds; ++round) {
      const std::string what =
          absl::StrCat("round ", round + 1, "/", rounds, ": ");
      auto warmup_of = [&](const Row& row) {
        return round == 0 && &row != bracket_floor
                   ? row.spec.warmup
                   : std::min(row.spec.warmup, absl::GetFlag(FLAGS_rewarmup));
      };
      const absl::Duration window = bracket_floor->spec.duration / rounds;
      if (!measure(*bracket_floor,
                   round == 0 ? bracket_floor->spec.warmup
                              : warmup_of(*bracket_floor),
                   window, what)) {
        return 1;
      }
      double before = bracket_floor->round_rps.back();
      for (size_t k = 0; k < fast.size(); ++k) {
        Row& row = *fast[(k + static_cast<size_t>(round)) % fast.size()];
        if (!measure(row, warmup_of(row), row.spec.duration / rounds, what) ||
            !measure(*bracket_floor, warmup_of(*bracket_floor), window, what)) {
          return 1;
        }
        const double after = bracket_floor->round_rps.back();
        if (before + after > 0)
          row.bracket_ratio.push_back(row.round_rps.back() * 2 /
                                      (before + after));
        before = after;
      }
    }
    fast.clear();  // measured
  }
  for (int round = 0; round < rounds && !fast.empty(); ++round) {
    // Each round starts one row later, so no row always follows the same one.
    for (size_t k = 0; k < fast.size(); ++k) {
      Row& row = *fast[(k + static_cast<size_t>(round)) % fast.size()];
      const absl::Duration warmup =
          round == 0 ? row.spec.warmup
                     : std::min(row.spec.warmup, absl::GetFlag(FLAGS_rewarmup));
      if (!measure(row, warmup, row.spec.duration / rounds,
                   absl::StrCat("round ", round + 1, "/", rounds, ": "))) {
        return 1;
      }
    }
  }
  for (Row& row : rows) {
    if (!row.scenario->obtain) continue;
    if (!hash_limit.has_value()) {
      Progress(absl::StrCat("timing ", absl::GetFlag(FLAGS_hash_samples),
                            " password checks alone, then ",
                            kParallelChecksPerCore, " on each of ", cores,
                            " cores at once (", info->pbkdf2_iterations,
                            " PBKDF2 iterations)"));
      hash_limit = MeasureHashLimit(info->pbkdf2_iterations,
                                    absl::GetFlag(FLAGS_hash_samples), cores);
    }
    if (!measure(row, row.spec.warmup, row.spec.duration, "")) return 1;
  }
  for (Row& row : rows) {
    std::sort(row.result.latencies_ns.begin(), row.result.latencies_ns.end());
    row.rps = static_cast<double>(row.result.ok) / row.result.window_s;
  }

  // The floor: the mean of its runs.
  double floor_sum = 0;
  int floor_runs = 0;
  for (const Row& r : rows) {
    if (r.scenario->is_floor) {
      floor_sum += r.rps;
      ++floor_runs;
    }
  }
  const double floor_rps = floor_runs > 0 ? floor_sum / floor_runs : 0;
  // The floor's rate in each round (the mean of its rows), and each row's
  // rate relative to it in the same round: pairing by round cancels most of
  // what other work on a shared machine does to the rates.
  std::vector<double> floor_round(static_cast<size_t>(rounds), 0.0);
  for (const Row& r : rows) {
    if (!r.scenario->is_floor) continue;
    for (size_t i = 0; i < r.round_rps.size() && i < floor_round.size(); ++i) {
      floor_round[i] += r.round_rps[i] / floor_runs;
    }
  }
  for (Row& r : rows) {
    r.totals_ratio = floor_rps > 0 ? r.rps / floor_rps : 0;
    if (!r.bracket_ratio.empty() || r.scenario->is_floor) {
      r.round_ratio = r.bracket_ratio;
      if (r.round_ratio.empty()) r.round_ratio = {1.0};  // the floor itself
      continue;
    }
    for (size_t i = 0; i < r.round_rps.size() && i < floor_round.size(); ++i) {
      if (floor_round[i] > 0)
        r.round_ratio.push_back(r.round_rps[i] / floor_round[i]);
    }
  }
  int met = 0;
  int missed = 0;
  std::vector<std::string> missed_names;
  for (Row& r : rows) {
    const Scenario& s = *r.scenario;
    if (s.target == TargetKind::kHashLimit && hash_limit.has_value()) {
      r.ratio = r.rps / hash_limit->limit_per_s;
      r.target_text =
          absl::StrCat("≥ ", Fmt(100 * s.target_ratio, 0), "% of hash limit");
    } else {
      r.ratio = r.round_ratio.empty() ? r.totals_ratio : Median(r.round_ratio);
      r.target_text =
          s.target == TargetKind::kFloor
              ? absl::StrCat("≥ ", Fmt(100 * s.target_ratio, 0), "% of floor")
              : "—";
    }
    const bool has_target =
        s.target == TargetKind::kFloor
            ? floor_runs > 0
            : s.target == TargetKind::kHashLimit && hash_limit;
    if (!has_target) {
      r.verdict = "n/a";
    } else if (r.ratio >= s.target_ratio && r.result.errors == 0) {
      r.verdict = "yes";
      ++met;
    } else {
      r.verdict = "**NO**";
      ++missed;
      missed_names.push_back(s.name);
    }
  }

  // Markdown.
  std::string md;
  absl::StrAppend(
      &md,
      "| Scenario | req/s | vs floor | rounds: vs floor min–max | p50 µs | p90 "
      "µs | p99 µs "
      "| p99.9 µs | errors | server CPU µs/call | client CPU µs/call "
      "| other load (cores) | target | met |\n",
      "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|\n");
  for (const Row& r : rows) {
    const LoadResult& x = r.result;
    const double calls =
        static_cast<double>(std::max<int64_t>(1, x.ok + x.errors));
    const double server_cpu = x.server_cpu_s;
    const double client_cpu = x.client_cpu_s;
    const double other =
        std::max(0.0, x.machine_busy_s - server_cpu - client_cpu) / x.window_s;
    std::string vs_floor = "—";
    std::string spread = "—";
    if (r.scenario->target == TargetKind::kHashLimit &&
        hash_limit.has_value()) {
      vs_floor = absl::StrCat(Fmt(100 * r.ratio, 1), "% of hash limit");
    } else if (floor_rps > 0) {
      vs_floor = absl::StrCat(Fmt(100 * r.ratio, 1), "%");
      if (r.round_ratio.size() > 1) {
        const auto [lo, hi] =
            std::minmax_element(r.round_ratio.begin(), r.round_ratio.end());
        spread = absl::StrCat(Fmt(100 * *lo, 0), "–", Fmt(100 * *hi, 0), "%");
      }
    }
    const int decimals = r.rps < 100 ? 2 : 0;
    absl::StrAppend(&md, "| ", r.scenario->label, " | ", Fmt(r.rps, decimals),
                    " | ", vs_floor, " | ", spread, " | ",
                    Fmt(PercentileUs(x.latencies_ns, 0.50), 0), " | ",
                    Fmt(PercentileUs(x.latencies_ns, 0.90), 0), " | ",
                    Fmt(PercentileUs(x.latencies_ns, 0.99), 0), " | ",
                    Fmt(PercentileUs(x.latencies_ns, 0.999), 0), " | ",
                    ErrorText(x), " | ", Fmt(1e6 * server_cpu / calls, 1),
                    " | ", Fmt(1e6 * client_cpu / calls, 1), " | ",
                    Fmt(other, 2), " | ", r.target_text, " | ", r.verdict,
                    " |\n");
  }
  absl::StrAppend(&md, "\n");
  if (floor_runs > 0) {
    absl::StrAppend(
        &md, "- Floor: ", Fmt(floor_rps, 0), " req/s (PublicEcho.Echo",
        floor_runs > 1 ? absl::StrCat(", the mean of its ", floor_runs, " rows")
                       : "",
        "). \"vs floor\" is the median over the rounds of the row's req/s "
        "divided by ",
        bracket_floor != nullptr
            ? "the mean of the floor's two windows just before and after it "
              "in the same round (the floor runs between every two rows)"
            : "the floor's in the same round",
        " (the JSON also has the ratio of the totals).\n");
  }
  double obtain_rps = 0;
  for (const Row& r : rows) {
    if (r.scenario->name == "obtain") obtain_rps = r.rps;
  }
  if (hash_limit.has_value()) {
    absl::StrAppend(
        &md, "- Password-hash limit: ", hash_limit->cores, " cores / ",
        Fmt(1e3 * hash_limit->single_median_s, 1),
        " ms per PBKDF2-SHA256 check (", hash_limit->iterations,
        " iterations, median of ", hash_limit->single_s.size(),
        " timed alone in grpc_bench) = ", Fmt(hash_limit->limit_per_s, 2),
        " logins/s (the target's reference). For comparison, all ",
        hash_limit->cores, " cores hashing at once (", kParallelChecksPerCore,
        " checks each) took ", Fmt(1e3 * hash_limit->parallel_wall_s, 0),
        " ms = ", Fmt(hash_limit->parallel_limit_per_s, 2),
        " checks/s; ObtainToken reached ",
        obtain_rps > 0
            ? Fmt(100 * obtain_rps / hash_limit->parallel_limit_per_s, 1)
            : "—",
        "% of that.\n");
  }
  const Row* first = rows.empty() ? nullptr : &rows.front();
  if (first != nullptr) {
    const LoadSpec& fs = first->spec;
    absl::StrAppend(
        &md,
        "- Load: closed loop over gRPC's CompletionQueue API (GenericStub), ",
        fs.connections, " connections × ", fs.in_flight, " calls in flight on ",
        std::min(fs.threads, fs.connections), " client threads; per row ",
        absl::FormatDuration(fs.warmup), " warm-up then ",
        absl::FormatDuration(fs.duration), " measured, split over ", rounds,
        " interleaved round(s) (later rounds re-warm ",
        absl::FormatDuration(
            std::min(fs.warmup, absl::GetFlag(FLAGS_rewarmup))),
        " on their new connections)",
        hash_limit.has_value()
            ? absl::StrCat(
                  "; ObtainToken ", absl::GetFlag(FLAGS_obtain_connections),
                  " × ", absl::GetFlag(FLAGS_obtain_in_flight), ", ",
                  absl::FormatDuration(absl::GetFlag(FLAGS_obtain_warmup)),
                  " + ",
                  absl::FormatDuration(absl::GetFlag(FLAGS_obtain_duration)),
                  " (server: ", info->hash_workers, " hashing threads)")
            : "",
        ". The Profile rows send ",
        token_count == 1
            ? "one token on every call"
            : absl::StrCat(token_count,
                           " distinct tokens round-robin over the call slots"),
        " (drf-jwt payload, 2 h exp); VerifyToken and RefreshToken send the "
        "token ObtainToken "
        "issued at start. Latency is per call, client side; errors are calls "
        "ending non-OK. "
        "abseil Mutex "
        "deadlock detection (on in Debian's abseil): server ",
        info->mutex_deadlock_detection ? "on" : "off", ", load generator ",
        absl::GetFlag(FLAGS_mutex_deadlock_detection) ? "on" : "off", ".\n");
  }
  absl::StrAppend(&md,
                  "- bench_server and grpc_bench are separate processes "
                  "sharing this machine's ",
                  cores,
                  " cores: req/s is what both sides together reach, so a "
                  "server-side cost shows diluted "
                  "in the ratio; \"server CPU µs/call\" is the server's own "
                  "CPU time per call "
                  "(/proc/<pid>/stat, 10 ms ticks), \"other load\" the cores "
                  "used by anything else "
                  "during the window.\n");
  absl::StrAppend(
      &md, "\nTargets met: ", met, " of ", met + missed,
      missed_names.empty()
          ? "."
          : absl::StrCat("; missed: ", absl::StrJoin(missed_names, ", "), "."),
      "\n");
  // The studies, after the table's rows.
  std::optional<bench::MemoryStudy> memory;
  if (const int64_t calls = absl::GetFlag(FLAGS_memory_calls); calls > 0) {
    const int n = std::max(1, absl::GetFlag(FLAGS_memory_tokens));
    Progress(absl::StrCat("memory study: signing ", n, " tokens, then ", calls,
                          " VerifyToken calls"));
    absl::StatusOr<std::vector<std::string>> tokens =
        SignTokens(*hs, info->username, n);
    if (!tokens.ok()) {
      Progress("cannot sign the memory study's tokens");
      return 1;
    }
    LoadSpec spec;
    spec.port = port_of(bench::kPortAuth);
    spec.method = "/jwtauth.v1.AuthService/VerifyToken";
    for (const std::string& t : *tokens) {
      av1::VerifyTokenRequest v;
      v.set_token(t);
      spec.requests.push_back(v.SerializeAsString());
    }
    spec.connections = absl::GetFlag(FLAGS_connections);
    spec.in_flight = absl::GetFlag(FLAGS_in_flight);
    spec.threads = absl::GetFlag(FLAGS_client_threads);
    spec.call_timeout = absl::GetFlag(FLAGS_call_timeout);
    spec.max_calls = calls;
    absl::StatusOr<bench::MemoryStudy> m =
        bench::RunMemoryStudy(spec, info->pid);
    if (!m.ok()) {
      Progress(std::string(m.status().message()));
      return 1;
    }
    memory = *std::move(m);
    absl::StrAppend(&md, bench::MemoryMarkdown(*memory));
  }
  std::optional<bench::StormStudy> storm;
  if (absl::GetFlag(FLAGS_storm)) {
    LoadSpec verify;
    verify.port = port_of(bench::kPortAuth);
    verify.method = "/jwtauth.v1.AuthService/VerifyToken";
    verify.requests = {wire["verify"].first};
    verify.connections = absl::GetFlag(FLAGS_storm_verify_connections);
    verify.in_flight = absl::GetFlag(FLAGS_storm_verify_in_flight);
    verify.threads = 1;
    verify.warmup = absl::Seconds(3);
    verify.duration = absl::GetFlag(FLAGS_storm_duration);
    verify.call_timeout = absl::GetFlag(FLAGS_call_timeout);
    LoadSpec obtain = verify;
    obtain.method = "/jwtauth.v1.AuthService/ObtainToken";
    obtain.requests = {wire["obtain"].first};
    obtain.connections = absl::GetFlag(FLAGS_storm_obtain_connections);
    obtain.in_flight = absl::GetFlag(FLAGS_storm_obtain_in_flight);
    obtain.call_timeout = absl::Seconds(60);
    Progress(
        "login-storm study: VerifyToken alone, during an ObtainToken storm, "
        "and next to idle-priority spinners");
    absl::StatusOr<bench::StormStudy> st = bench::RunStormStudy(
        verify, obtain, info->pid, absl::GetFlag(FLAGS_storm_rounds));
    if (!st.ok()) {
      Progress(std::string(st.status().message()));
      return 1;
    }
    storm = *std::move(st);
    absl::StrAppend(&md, bench::StormMarkdown(*storm, verify, obtain));
  }
  std::fputs(md.c_str(), stdout);
  std::fflush(stdout);

  // JSON.
  if (const std::string out = absl::GetFlag(FLAGS_json_out); !out.empty()) {
    jwt::Json doc = jwt::Json::Object();
    jwt::Json config = jwt::Json::Object();
    config.Set("cores", jwt::Json::Int(cores));
    config.Set("client_threads",
               jwt::Json::Int(absl::GetFlag(FLAGS_client_threads)));
    config.Set("rounds", jwt::Json::Int(rounds));
    config.Set("profile_tokens", jwt::Json::Int(token_count));
    config.Set("message", jwt::Json::String(message));
    config.Set("pbkdf2_iterations", jwt::Json::Int(info->pbkdf2_iterations));
    config.Set("server_hash_workers", jwt::Json::Int(info->hash_workers));
    config.Set("server_mutex_deadlock_detection",
               jwt::Json::Bool(info->mutex_deadlock_detection));
    config.Set("client_mutex_deadlock_detection",
               jwt::Json::Bool(absl::GetFlag(FLAGS_mutex_deadlock_detection)));
    doc.Set("config", config);
    doc.Set("floor_rps", Number(floor_rps));
    if (hash_limit.has_value()) {
      jwt::Json h = jwt::Json::Object();
      h.Set("cores", jwt::Json::Int(hash_limit->cores));
      h.Set("iterations", jwt::Json::Int(hash_limit->iterations));
      jwt::Json samples = jwt::Json::Array();
      for (double v : hash_limit->single_s) samples.Append(Number(v));
      h.Set("single_check_s", samples);
      h.Set("single_check_median_s", Number(hash_limit->single_median_s));
      h.Set("limit_per_s", Number(hash_limit->limit_per_s));
      h.Set("parallel_wall_s", Number(hash_limit->parallel_wall_s));
      h.Set("parallel_limit_per_s", Number(hash_limit->parallel_limit_per_s));
      doc.Set("password_hash_limit", h);
    }
    jwt::Json list = jwt::Json::Array();
    for (const Row& r : rows) {
      const LoadResult& x = r.result;
      jwt::Json o = jwt::Json::Object();
      o.Set("scenario", jwt::Json::String(r.scenario->name));
      o.Set("label", jwt::Json::String(r.scenario->label));
      o.Set("method", jwt::Json::String(r.spec.method));
      o.Set("connections", jwt::Json::Int(r.spec.connections));
      o.Set("in_flight_per_connection", jwt::Json::Int(r.spec.in_flight));
      o.Set("warmup_s", Number(absl::ToDoubleSeconds(r.spec.warmup)));
      o.Set("duration_s", Number(absl::ToDoubleSeconds(r.spec.duration)));
      o.Set("ok", jwt::Json::Int(x.ok));
      o.Set("errors", jwt::Json::Int(x.errors));
      o.Set("warmup_calls", jwt::Json::Int(x.warmup_calls));
      o.Set("warmup_errors", jwt::Json::Int(x.warmup_errors));
      jwt::Json codes = jwt::Json::Object();
      for (const auto& [code, n] : x.error_codes)
        codes.Set(absl::StrCat(code), jwt::Json::Int(n));
      o.Set("error_codes", codes);
      if (!x.first_error.empty())
        o.Set("first_error", jwt::Json::String(x.first_error));
      o.Set("rps", Number(r.rps));
      jwt::Json per_round = jwt::Json::Array();
      for (double v : r.round_rps) per_round.Append(Number(v));
      o.Set("round_rps", per_round);
      jwt::Json per_round_ratio = jwt::Json::Array();
      for (double v : r.round_ratio) per_round_ratio.Append(Number(v));
      o.Set("round_ratio_to_floor", per_round_ratio);
      o.Set("ratio_to_floor_totals", Number(r.totals_ratio));
      if (r.scenario->target != TargetKind::kHashLimit) {
        o.Set("ratio_to_floor", Number(r.ratio));
      }
      if (r.scenario->target == TargetKind::kHashLimit) {
        o.Set("ratio_to_hash_limit", Number(r.ratio));
      }
      jwt::Json lat = jwt::Json::Object();
      for (const auto& [name, p] : {std::pair<const char*, double>{"p50", 0.5},
                                    {"p90", 0.9},
                                    {"p99", 0.99},
                                    {"p99.9", 0.999}}) {
        lat.Set(name, Number(PercentileUs(x.latencies_ns, p)));
      }
      o.Set("latency_us", lat);
      jwt::Json cpu = jwt::Json::Object();
      cpu.Set("server_s", Number(x.server_cpu_s));
      cpu.Set("client_s", Number(x.client_cpu_s));
      cpu.Set("machine_busy_s", Number(x.machine_busy_s));
      cpu.Set("machine_total_s", Number(x.machine_total_s));
      o.Set("cpu", cpu);
      o.Set("target", jwt::Json::String(r.target_text));
      o.Set("met", jwt::Json::String(r.verdict == "**NO**" ? "no" : r.verdict));
      list.Append(o);
    }
    doc.Set("rows", list);
    if (memory.has_value()) doc.Set("memory_study", bench::MemoryJson(*memory));
    if (storm.has_value())
      doc.Set("login_storm_study", bench::StormJson(*storm));
    std::ofstream f(out);
    f << jwt::SerializeJson(doc) << "\n";
    if (!f) {
      Progress(absl::StrCat("cannot write ", out));
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "grpc_bench --info_file=FILE --key_dir=DIR [--json_out=FILE] "
      "[--scenarios=a,b]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    Progress(absl::StrCat("unexpected argument \"", args[1], "\""));
    return 2;
  }
  if (!absl::GetFlag(FLAGS_mutex_deadlock_detection)) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  return Run();
}
