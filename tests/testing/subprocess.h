// subprocess.h: runs one of jwtauth's programs for a test: arguments, extra
// environment, text on standard input, output captured to files.
//
//   Subprocess p({JWTAUTH_SERVER_BIN, "--listen=127.0.0.1:0"});
//   p.Start();  ...  p.Signal(SIGTERM);  int code = p.Wait();
//
// Thread-safety: thread-compatible.
#ifndef JWTAUTH_TESTS_TESTING_SUBPROCESS_H_
#define JWTAUTH_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace jwtauth::testing {

class Subprocess {
 public:
  explicit Subprocess(std::vector<std::string> argv,
                      std::vector<std::string> env = {},
                      std::string stdin_text = "");
  ~Subprocess();

  // Start launches the program; false if it could not be started.
  bool Start();
  // Wait waits for exit and returns the exit code (128 + signal if killed).
  int Wait();
  // WaitFor waits at most `timeout`; returns -1 (and leaves the child) on
  // timeout.
  int WaitFor(absl::Duration timeout);
  void Signal(int sig);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  std::string Stdout() const;
  std::string Stderr() const;

  // Run starts, waits (up to 120 s, then kills) and returns the exit code.
  int Run();

 private:
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::string stdin_text_;
  std::string out_path_, err_path_, in_path_;
  pid_t pid_ = -1;
  int status_ = -1;
};

// WaitForFile waits until `path` exists and is non-empty (up to `timeout`)
// and returns its contents, or "" on timeout.
std::string WaitForFile(const std::string& path, absl::Duration timeout);

}  // namespace jwtauth::testing

#endif  // JWTAUTH_TESTS_TESTING_SUBPROCESS_H_
