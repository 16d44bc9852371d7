#include "jwt/algorithm.h"

#include <array>

namespace jwtauth::jwt {
namespace {

struct AlgorithmInfo {
  Algorithm alg;
  absl::string_view name;
  KeyFamily family;
  const char* digest;
  size_t digest_size;
};

constexpr std::array<AlgorithmInfo, 13> kAlgorithms = {{
    {Algorithm::kHS256, "HS256", KeyFamily::kHmac, "SHA256", 32},
    {Algorithm::kHS384, "HS384", KeyFamily::kHmac, "SHA384", 48},
    {Algorithm::kHS512, "HS512", KeyFamily::kHmac, "SHA512", 64},
    {Algorithm::kRS256, "RS256", KeyFamily::kRsa, "SHA256", 32},
    {Algorithm::kRS384, "RS384", KeyFamily::kRsa, "SHA384", 48},
    {Algorithm::kRS512, "RS512", KeyFamily::kRsa, "SHA512", 64},
    {Algorithm::kPS256, "PS256", KeyFamily::kRsaPss, "SHA256", 32},
    {Algorithm::kPS384, "PS384", KeyFamily::kRsaPss, "SHA384", 48},
    {Algorithm::kPS512, "PS512", KeyFamily::kRsaPss, "SHA512", 64},
    {Algorithm::kES256, "ES256", KeyFamily::kEcdsa, "SHA256", 32},
    {Algorithm::kES384, "ES384", KeyFamily::kEcdsa, "SHA384", 48},
    {Algorithm::kES512, "ES512", KeyFamily::kEcdsa, "SHA512", 64},
    {Algorithm::kEdDSA, "EdDSA", KeyFamily::kEdDSA, "", 64},
}};

const AlgorithmInfo& Info(Algorithm alg) {
  return kAlgorithms[static_cast<size_t>(alg)];
}

}  // namespace

absl::string_view AlgorithmName(Algorithm alg) { return Info(alg).name; }

std::optional<Algorithm> ParseAlgorithm(absl::string_view name) {
  for (const auto& info : kAlgorithms) {
    if (info.name == name) return info.alg;
  }
  return std::nullopt;
}

KeyFamily FamilyOf(Algorithm alg) { return Info(alg).family; }
const char* DigestName(Algorithm alg) { return Info(alg).digest; }
size_t DigestSize(Algorithm alg) { return Info(alg).digest_size; }

const char* EcCurveName(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES256:
      return "prime256v1";
    case Algorithm::kES384:
      return "secp384r1";
    case Algorithm::kES512:
      return "secp521r1";
    default:
      return "";
  }
}

size_t EcCoordinateSize(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES256:
      return 32;
    case Algorithm::kES384:
      return 48;
    case Algorithm::kES512:
      return 66;
    default:
      return 0;
  }
}

}  // namespace jwtauth::jwt
