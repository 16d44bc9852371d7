// fuzz_password_hash: parsing and checking Django password hashes
// ("algorithm$iterations$salt$hash"). Inputs asking for more than 2,000
// PBKDF2 iterations are cut short to keep the fuzzer fast: the iteration
// count's parsing is still exercised; only the hashing work is bounded.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "server/password_hasher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::string encoded(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts = absl::StrSplit(encoded, '$');
  if (parts.size() > 1) {
    int64_t iterations = 0;
    if (absl::SimpleAtoi(parts[1], &iterations) && iterations > 2000) return 0;
  }
  jwtauth::server::PasswordHasher hasher(1000);
  (void)hasher.Check("correct horse", encoded);
  (void)hasher.MustUpdate(encoded);
  return 0;
}
