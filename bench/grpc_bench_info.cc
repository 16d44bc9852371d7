#include "bench/grpc_bench_info.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace jwtauth::bench {
namespace {

constexpr char kPidKey[] = "pid";
constexpr char kIterationsKey[] = "pbkdf2_iterations";
constexpr char kWorkersKey[] = "hash_workers";
constexpr char kDeadlockKey[] = "mutex_deadlock_detection";
constexpr char kUserKey[] = "username";
constexpr char kPasswordKey[] = "password";
constexpr char kPortPrefix[] = "port.";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status WritePrivateFile(const std::string& path,
                              const std::string& bytes) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", path);
  if (::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return Errno("cannot chmod", path);
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Errno("cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Errno("cannot close", path);
  return absl::OkStatus();
}

absl::Status WriteBenchServerInfo(const std::string& path,
                                  const BenchServerInfo& info) {
  std::string text = absl::StrCat(
      kPidKey, " ", info.pid, "\n", kIterationsKey, " ", info.pbkdf2_iterations,
      "\n", kWorkersKey, " ", info.hash_workers, "\n", kDeadlockKey, " ",
      info.mutex_deadlock_detection ? 1 : 0, "\n", kUserKey, " ", info.username,
      "\n", kPasswordKey, " ", info.password, "\n");
  for (const auto& [name, port] : info.ports) {
    absl::StrAppend(&text, kPortPrefix, name, " ", port, "\n");
  }
  const std::string tmp = path + ".tmp";
  if (absl::Status s = WritePrivateFile(tmp, text); !s.ok()) return s;
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Errno("cannot rename to", path);
  return absl::OkStatus();
}

absl::StatusOr<BenchServerInfo> ReadBenchServerInfo(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Errno("cannot read", path);
  BenchServerInfo info;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> parts =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    auto bad = [&] {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_no, ": malformed line"));
    };
    if (parts.size() != 2 || parts[1].empty()) return bad();
    const std::string& key = parts[0];
    const std::string& value = parts[1];
    if (key == kPidKey) {
      if (!absl::SimpleAtoi(value, &info.pid)) return bad();
    } else if (key == kIterationsKey) {
      if (!absl::SimpleAtoi(value, &info.pbkdf2_iterations)) return bad();
    } else if (key == kWorkersKey) {
      if (!absl::SimpleAtoi(value, &info.hash_workers)) return bad();
    } else if (key == kDeadlockKey) {
      if (value != "0" && value != "1") return bad();
      info.mutex_deadlock_detection = value == "1";
    } else if (key == kUserKey) {
      info.username = value;
    } else if (key == kPasswordKey) {
      info.password = value;
    } else if (absl::string_view name = key;
               absl::ConsumePrefix(&name, kPortPrefix)) {
      int port = 0;
      if (!absl::SimpleAtoi(value, &port) || port <= 0 || port > 65535)
        return bad();
      info.ports[std::string(name)] = port;
    } else {
      return bad();
    }
  }
  if (info.pid <= 0 || info.username.empty() || info.password.empty() ||
      info.pbkdf2_iterations <= 0 || info.ports.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": incomplete bench_server info"));
  }
  return info;
}

}  // namespace jwtauth::bench
