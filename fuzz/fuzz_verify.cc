// fuzz_verify: JWT verification with each key type. The first byte picks the
// verifier (HS256, RS256, PS256, ES256, EdDSA, a two-key set with kids); the
// rest is the token. Keys are made once. Any crash, leak or sanitizer report
// is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "jwt/error.h"
#include "jwt/key_loader.h"
#include "jwt/verifier.h"

namespace {

using namespace jwtauth::jwt;  // NOLINT: a fuzz target.

std::vector<Verifier>& Verifiers() {
  static std::vector<Verifier>* v = [] {
    auto* out = new std::vector<Verifier>();
    std::vector<std::vector<Key>> sets = {
        {*HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'k'))},
        {*PublicKeyOf(*GenerateKey(Algorithm::kRS256))},
        {*PublicKeyOf(*GenerateKey(Algorithm::kPS256))},
        {*PublicKeyOf(*GenerateKey(Algorithm::kES256))},
        {*PublicKeyOf(*GenerateKey(Algorithm::kEdDSA))},
        {*HmacKeyFromSecret(Algorithm::kHS256, std::string(32, 'a'), "a"),
         *HmacKeyFromSecret(Algorithm::kHS384, std::string(48, 'b'), "b")},
    };
    ValidatorOptions options;
    options.leeway = absl::Seconds(30);
    options.audience = "svc";
    for (auto& keys : sets)
      out->push_back(*Verifier::Create(*KeySet::Create(keys), options));
    return out;
  }();
  return *v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<Verifier>& verifiers = Verifiers();
  const Verifier& v = verifiers[data[0] % verifiers.size()];
  const std::string token(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<VerifiedJwt> jwt =
      v.VerifyAt(token, absl::FromUnixSeconds(1'700'000'000));
  if (jwt.ok()) {
    // Only a correctly signed token can get here; touch the accessors.
    (void)jwt->GetString("username");
    (void)jwt->expiration();
  } else {
    (void)GetJwtError(jwt.status());
  }
  return 0;
}
