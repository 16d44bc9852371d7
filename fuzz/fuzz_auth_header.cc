// fuzz_auth_header: the `authorization` metadata parser (SPEC §5).
#include <cstddef>
#include <cstdint>
#include <string>

#include "interceptors/auth_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  for (const char* prefix : {"JWT", "Bearer"}) {
    jwtauth::interceptors::ParsedHeader p =
        jwtauth::interceptors::ParseAuthorization(value, prefix);
    if (p.outcome == jwtauth::interceptors::HeaderOutcome::kToken) {
      // The token is a view into the value and never empty.
      if (p.token.empty() || p.token.data() < value.data() ||
          p.token.data() + p.token.size() > value.data() + value.size()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
