// fuzz_config: configuration parsing: human durations (--leeway,
// --expiration_delta, ...) and --extra_claims JSON validation as the server
// and TokenService apply it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "jwt/json.h"
#include "server/human_duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::Duration d;
  std::string error;
  if (jwtauth::server::ParseHumanDuration(text, &d, &error)) {
    if (d < absl::ZeroDuration() || d == absl::InfiniteDuration())
      __builtin_trap();
  }
  (void)jwtauth::jwt::ParseJson(text);
  return 0;
}
