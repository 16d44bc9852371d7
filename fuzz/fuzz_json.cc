// fuzz_json: the strict JSON parser, with a round-trip property: whatever
// parses must serialise to JSON that parses to an equal value.
#include <cstddef>
#include <cstdint>
#include <string>

#include "jwt/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<jwtauth::jwt::Json> v = jwtauth::jwt::ParseJson(text);
  if (!v.ok()) return 0;
  const std::string again = jwtauth::jwt::SerializeJson(*v);
  absl::StatusOr<jwtauth::jwt::Json> w = jwtauth::jwt::ParseJson(again);
  if (!w.ok() || !(*w == *v)) __builtin_trap();
  return 0;
}
