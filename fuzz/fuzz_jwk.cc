// fuzz_jwk: JWK and JWK Set parsing and the key checks behind them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "jwt/key_loader.h"
#include "jwt/key_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384)
    return 0;  // RSA checks on huge moduli only slow the fuzzer down
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<jwtauth::jwt::Key> key = jwtauth::jwt::KeyFromJwk(text);
  if (key.ok()) {
    absl::StatusOr<std::string> sig = key->Sign("header.payload");
    if (sig.ok() && !key->VerifySignature("header.payload", *sig))
      __builtin_trap();
  }
  (void)jwtauth::jwt::KeyFromJwk(text, jwtauth::jwt::Algorithm::kES256);
  (void)jwtauth::jwt::KeySet::FromJwks(text);
  return 0;
}
