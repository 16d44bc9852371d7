// password_input.h: reads a password from the terminal (echo off, asked
// twice when `confirm`) or, when standard input is not a terminal, from its
// first line. Passwords never come from command-line arguments.
// Thread-safety: uses the process's standard input; call from one thread.
#ifndef JWTAUTH_CLIENT_PASSWORD_INPUT_H_
#define JWTAUTH_CLIENT_PASSWORD_INPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace jwtauth::client {

absl::StatusOr<std::string> ReadPassword(absl::string_view prompt,
                                         bool confirm);

}  // namespace jwtauth::client

#endif  // JWTAUTH_CLIENT_PASSWORD_INPUT_H_
