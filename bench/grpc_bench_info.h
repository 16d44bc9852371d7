// grpc_bench_info.h: what bench_server tells grpc_bench, through two places
// on disk the run script passes to both programs.
//
//   - The info file (--info_file): "key value" lines, written once every
//     port is serving (atomically, by rename): the server's pid, one port per
//     scenario endpoint, the PBKDF2 iteration count, the number of hashing
//     threads, its Mutex deadlock-detection mode, and the benchmark user's
//     name and password.
//   - The key dir (--key_dir, mode 0700): the HS256 secret (raw bytes) and
//     the ES256 private key (PKCS#8 PEM), both mode 0600, so the load
//     generator signs its tokens with the server's keys.
//
//   absl::StatusOr<BenchServerInfo> info = ReadBenchServerInfo(path);
//   int port = info->ports.at(kPortFloor);
//
// Thread-safety: plain functions and a plain struct; thread-compatible.
#ifndef JWTAUTH_BENCH_GRPC_BENCH_INFO_H_
#define JWTAUTH_BENCH_GRPC_BENCH_INFO_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace jwtauth::bench {

// Endpoint names (keys of BenchServerInfo::ports).
inline constexpr char kPortFloor[] = "public_echo";
inline constexpr char kPortHs256CacheOn[] = "profile_hs256_cache_on";
inline constexpr char kPortHs256CacheOff[] = "profile_hs256_cache_off";
inline constexpr char kPortEs256CacheOn[] = "profile_es256_cache_on";
inline constexpr char kPortEs256CacheOff[] = "profile_es256_cache_off";
inline constexpr char kPortAuth[] = "auth";
// The same auth service on a PostgreSQL store (only when bench_server has
// --postgres_url): ObtainToken and VerifyToken with each backend, one run.
inline constexpr char kPortAuthPostgres[] = "auth_postgres";
// Not a target row: HS256, cache on, but the check runs in the Echo handler
// (ServerAuth::CallerOf) on plaintext credentials without the auth metadata
// processor, to separate the check's own cost from the processor path's.
inline constexpr char kPortHs256InHandler[] =
    "profile_hs256_cache_on_in_handler";

// Not a target row: PublicEcho.Echo whose handler also does the one
// user-store read VerifyToken needs per call (FindByUsername on the same
// SQLite store): the ceiling a per-call store read puts on VerifyToken.
inline constexpr char kPortEchoStoreRead[] = "public_echo_store_read";

// Files in the key dir.
inline constexpr char kHs256SecretFile[] = "hs256.secret";
inline constexpr char kEs256KeyFile[] = "es256.pem";

struct BenchServerInfo {
  int64_t pid = 0;
  std::map<std::string, int> ports;
  int64_t pbkdf2_iterations = 0;
  int hash_workers = 0;
  // Whether the server left abseil's Mutex deadlock detection on.
  bool mutex_deadlock_detection = true;
  std::string username;
  std::string password;
};

// WriteBenchServerInfo writes `info` to `path` (mode 0600) through a
// temporary file and a rename, so a reader never sees half a file.
[[nodiscard]] absl::Status WriteBenchServerInfo(const std::string& path,
                                                const BenchServerInfo& info);

// ReadBenchServerInfo parses a file written by WriteBenchServerInfo;
// INVALID_ARGUMENT (naming the file and line) when it is malformed.
absl::StatusOr<BenchServerInfo> ReadBenchServerInfo(const std::string& path);

// WritePrivateFile writes `bytes` to `path`, created or truncated with mode
// 0600 whatever the umask.
[[nodiscard]] absl::Status WritePrivateFile(const std::string& path,
                                            const std::string& bytes);

}  // namespace jwtauth::bench

#endif  // JWTAUTH_BENCH_GRPC_BENCH_INFO_H_
