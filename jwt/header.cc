#include "jwt/header.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "jwt/error.h"

namespace jwtauth::jwt {

std::string CanonicalHeaderJson(const Key& key) {
  Json header = Json::Object();
  header.Set("alg", Json::String(std::string(AlgorithmName(key.algorithm()))));
  header.Set("typ", Json::String("JWT"));
  if (!key.kid().empty()) header.Set("kid", Json::String(key.kid()));
  return SerializeJson(header);
}

absl::Status CheckAlgHeader(const Json& header, const Key& key) {
  if (!header.is_object()) {
    return MakeJwtError(JwtError::kMalformed,
                        "JOSE header is not a JSON object");
  }
  const Json* alg = header.Find("alg");
  if (alg == nullptr) {
    return MakeJwtError(JwtError::kAlgorithmNotAllowed,
                        "JOSE header has no alg");
  }
  if (!alg->is_string()) {
    return MakeJwtError(JwtError::kAlgorithmNotAllowed,
                        "JOSE header alg is not a string");
  }
  if (absl::AsciiStrToLower(alg->string_value()) == "none") {
    return MakeJwtError(JwtError::kAlgorithmNotAllowed,
                        "alg none is never accepted");
  }
  if (alg->string_value() != AlgorithmName(key.algorithm())) {
    return MakeJwtError(JwtError::kAlgorithmNotAllowed,
                        absl::StrCat("alg is not the key's algorithm ",
                                     AlgorithmName(key.algorithm())));
  }
  return absl::OkStatus();
}

absl::Status CheckOtherHeaders(const Json& header) {
  if (header.Find("crit") != nullptr) {
    return MakeJwtError(
        JwtError::kUnsupportedHeader,
        "JOSE header crit names extensions that are not implemented");
  }
  if (header.Find("b64") != nullptr) {
    return MakeJwtError(JwtError::kUnsupportedHeader,
                        "JOSE header b64 (RFC 7797) is refused");
  }
  if (const Json* kid = header.Find("kid");
      kid != nullptr && !kid->is_string()) {
    return MakeJwtError(JwtError::kMalformed,
                        "JOSE header kid is not a string");
  }
  return absl::OkStatus();
}

}  // namespace jwtauth::jwt
