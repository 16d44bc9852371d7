#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/time/clock.h"

extern char** environ;

namespace jwtauth::testing {
namespace {

std::string TempPath(const char* what) {
  std::string tmpl = std::string("/tmp/jwtauth-proc-") + what + "-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd >= 0) ::close(fd);
  return tmpl;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv,
                       std::vector<std::string> env, std::string stdin_text)
    : argv_(std::move(argv)),
      env_(std::move(env)),
      stdin_text_(std::move(stdin_text)) {
  out_path_ = TempPath("out");
  err_path_ = TempPath("err");
  in_path_ = TempPath("in");
}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
  ::unlink(out_path_.c_str());
  ::unlink(err_path_.c_str());
  ::unlink(in_path_.c_str());
}

bool Subprocess::Start() {
  std::ofstream(in_path_) << stdin_text_;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path_.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(),
                                   O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(),
                                   O_WRONLY | O_TRUNC, 0);
  std::vector<char*> args;
  for (std::string& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  for (const std::string& e : env_) env_store.push_back(e);
  std::vector<char*> envp;
  for (std::string& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  // The child must not inherit a blocked SIGTERM from the test runner.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  const int rc =
      posix_spawn(&pid_, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) pid_ = -1;
  return rc == 0;
}

int Subprocess::Wait() {
  if (pid_ <= 0) return status_;
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0) {
  }
  pid_ = -1;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return status_;
}

int Subprocess::WaitFor(absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (pid_ > 0) {
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (absl::Now() > end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

void Subprocess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::string Subprocess::Stdout() const { return Slurp(out_path_); }
std::string Subprocess::Stderr() const { return Slurp(err_path_); }

int Subprocess::Run() {
  if (!Start()) return -1;
  int code = WaitFor(absl::Seconds(120));
  if (code == -1) {
    Signal(SIGKILL);
    code = Wait();
  }
  return code;
}

std::string WaitForFile(const std::string& path, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    std::string s = Slurp(path);
    if (!s.empty()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

}  // namespace jwtauth::testing
