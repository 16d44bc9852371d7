#include "jwt/jws_verifier.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "jwt/base64url.h"
#include "jwt/error.h"
#include "jwt/header.h"

namespace jwtauth::jwt {
namespace {

struct Segments {
  absl::string_view header, payload, signature, signing_input;
};

absl::Status Malformed(absl::string_view why) {
  return MakeJwtError(JwtError::kMalformed, why);
}

absl::StatusOr<Segments> Split(absl::string_view compact) {
  const size_t first = compact.find('.');
  if (first == absl::string_view::npos)
    return Malformed("token is not three dot-separated segments");
  const size_t second = compact.find('.', first + 1);
  if (second == absl::string_view::npos ||
      compact.find('.', second + 1) != absl::string_view::npos) {
    return Malformed("token is not three dot-separated segments");
  }
  Segments s;
  s.header = compact.substr(0, first);
  s.payload = compact.substr(first + 1, second - first - 1);
  s.signature = compact.substr(second + 1);
  s.signing_input = compact.substr(0, second);
  // RFC 7515 allows an empty payload (the JWT layer then refuses it: "" is
  // not a JSON object); header and signature may never be empty.
  if (s.header.empty() || s.signature.empty()) {
    return Malformed("token has an empty header or signature");
  }
  return s;
}

absl::StatusOr<std::shared_ptr<const Json>> ParseHeader(
    const std::string& bytes) {
  absl::StatusOr<Json> header = ParseJson(bytes);
  if (!header.ok()) return header.status();
  if (!header->is_object())
    return Malformed("JOSE header is not a JSON object");
  return std::make_shared<const Json>(*std::move(header));
}

}  // namespace

JwsVerifier::JwsVerifier(KeySet keys, size_t max_size)
    : keys_(std::move(keys)), max_size_(max_size) {
  for (const Key& key : keys_.keys()) {
    const std::string json = CanonicalHeaderJson(key);
    canonical_encoded_.push_back(Base64UrlEncode(json));
    canonical_parsed_.push_back(std::make_shared<const Json>(*ParseJson(json)));
  }
}

absl::StatusOr<JwsVerifier> JwsVerifier::Create(KeySet keys, size_t max_size) {
  if (max_size == 0 || max_size > (1u << 20)) {
    return MakeJwtError(JwtError::kInvalidOption,
                        "maximum token size must be 1 byte to 1 MiB");
  }
  return JwsVerifier(std::move(keys), max_size);
}

absl::StatusOr<VerifiedJws> JwsVerifier::Verify(
    absl::string_view compact) const {
  return DoVerify(compact, true);
}

absl::StatusOr<VerifiedJws> JwsVerifier::VerifyUnsafeSkipSignature(
    absl::string_view compact) const {
  return DoVerify(compact, false);
}

absl::StatusOr<VerifiedJws> JwsVerifier::DoVerify(absl::string_view compact,
                                                  bool check_signature) const {
  if (compact.size() > max_size_) {
    return MakeJwtError(
        JwtError::kTooLarge,
        absl::StrCat("token of ", compact.size(),
                     " bytes is over the limit of ", max_size_));
  }
  absl::StatusOr<Segments> seg = Split(compact);
  if (!seg.ok()) return seg.status();
  // All three segments must be canonical base64url before anything else.
  const std::vector<Key>& keys = keys_.keys();
  // jwtauth's own header with a single key: known canonical, no need to decode.
  const bool canonical_single =
      keys.size() == 1 && seg->header == canonical_encoded_[0];
  std::string header_bytes, payload, signature;
  if (!canonical_single && !Base64UrlDecode(seg->header, header_bytes)) {
    return Malformed("header is not strict base64url");
  }
  if (!Base64UrlDecode(seg->payload, payload)) {
    return Malformed("payload is not strict base64url");
  }
  if (!Base64UrlDecode(seg->signature, signature)) {
    return Malformed("signature is not strict base64url");
  }

  size_t index = 0;
  std::shared_ptr<const Json> header;
  if (keys.size() == 1) {
    if (check_signature &&
        !keys[0].VerifySignature(seg->signing_input, signature)) {
      // Already rejected; read the header only to name the failure precisely.
      absl::StatusOr<std::shared_ptr<const Json>> h =
          canonical_single ? canonical_parsed_[0] : ParseHeader(header_bytes);
      if (!h.ok()) return h.status();
      absl::Status alg = CheckAlgHeader(**h, keys[0]);
      if (!alg.ok()) return alg;
      return MakeJwtError(JwtError::kBadSignature, "signature does not verify");
    }
  } else {
    absl::StatusOr<std::shared_ptr<const Json>> h = ParseHeader(header_bytes);
    if (!h.ok()) return h.status();
    header = *std::move(h);
    absl::Status other = CheckOtherHeaders(*header);
    if (!other.ok()) return other;
    const Json* kid = header->Find("kid");
    const Json* alg = header->Find("alg");
    bool alg_known = false;
    bool verified = false;
    for (size_t i = 0; i < keys.size() && !verified; ++i) {
      if (kid != nullptr && keys[i].kid() != kid->string_value()) continue;
      if (kid == nullptr &&
          (alg == nullptr || !alg->is_string() ||
           alg->string_value() != AlgorithmName(keys[i].algorithm()))) {
        continue;
      }
      absl::Status alg_ok = CheckAlgHeader(*header, keys[i]);
      if (!alg_ok.ok())
        return alg_ok;  // the kid named a key of another algorithm
      alg_known = true;
      if (!check_signature ||
          keys[i].VerifySignature(seg->signing_input, signature)) {
        verified = true;
        index = i;
      }
    }
    if (!alg_known) {
      if (kid != nullptr) {
        return MakeJwtError(JwtError::kKeyNotFound,
                            "no key has the token's kid");
      }
      absl::Status alg_ok = CheckAlgHeader(*header, keys[0]);
      return alg_ok.ok()
                 ? MakeJwtError(JwtError::kKeyNotFound, "no key for the token")
                 : alg_ok;
    }
    if (!verified)
      return MakeJwtError(JwtError::kBadSignature, "signature does not verify");
  }

  const Key& key = keys[index];
  if (header == nullptr) {
    if (seg->header == canonical_encoded_[index]) {
      header = canonical_parsed_[index];
    } else {
      absl::StatusOr<std::shared_ptr<const Json>> h = ParseHeader(header_bytes);
      if (!h.ok()) return h.status();
      header = *std::move(h);
    }
    absl::Status other = CheckOtherHeaders(*header);
    if (!other.ok()) return other;
    if (const Json* kid = header->Find("kid");
        kid != nullptr && !key.kid().empty() &&
        kid->string_value() != key.kid()) {
      return MakeJwtError(JwtError::kKeyNotFound, "no key has the token's kid");
    }
  }
  absl::Status alg = CheckAlgHeader(*header, key);
  if (!alg.ok()) return alg;
  return VerifiedJws(std::move(header), std::move(payload), key);
}

}  // namespace jwtauth::jwt
