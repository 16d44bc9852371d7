#include "client/password_input.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace jwtauth::client {
namespace {

bool ReadLine(std::string& out) {
  out.clear();
  if (!std::getline(std::cin, out)) return false;
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return true;
}

absl::StatusOr<std::string> Prompt(absl::string_view prompt) {
  std::fprintf(stderr, "%s", std::string(prompt).c_str());
  std::fflush(stderr);
  termios old{};
  const bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool ok = ReadLine(line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::fprintf(stderr, "\n");
  }
  if (!ok) return absl::InvalidArgumentError("no password given");
  return line;
}

}  // namespace

absl::StatusOr<std::string> ReadPassword(absl::string_view prompt,
                                         bool confirm) {
  absl::StatusOr<std::string> password;
  if (::isatty(STDIN_FILENO)) {
    password = Prompt(prompt);
    if (password.ok() && confirm) {
      absl::StatusOr<std::string> again = Prompt("Password (again): ");
      if (!again.ok()) return again.status();
      if (*again != *password)
        return absl::InvalidArgumentError("passwords do not match");
    }
  } else {
    std::string line;
    if (!ReadLine(line))
      return absl::InvalidArgumentError("no password on standard input");
    password = line;
  }
  if (password.ok() && password->empty()) {
    return absl::InvalidArgumentError("the password must not be empty");
  }
  return password;
}

}  // namespace jwtauth::client
