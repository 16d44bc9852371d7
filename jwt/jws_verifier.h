// jws_verifier.h: verifies compact JWS (RFC 7515 §7.1) signatures; the layer
// under the JWT verifier, also usable for non-JWT payloads.
//
// Order of checks (RFC 8725): size; exactly three segments, header and
// signature non-empty (RFC 7515 allows an empty payload); strict
// base64url; then the signature over the exact bytes received, with the key
// and algorithm fixed by the KeySet; only then is the JSON header read and
// checked (alg must equal the key's, no crit, no b64). With one key the
// header is not parsed before the signature check at all; with several, the
// header is parsed (strictly, within the size bound) only to read "kid".
// Embedded keys (jwk, jku, x5u, x5c) are ignored, never fetched or trusted.
//
//   absl::StatusOr<JwsVerifier> v = JwsVerifier::Create(keys);
//   absl::StatusOr<VerifiedJws> jws = v->Verify(compact);
//
// Thread-safety: thread-safe.
#ifndef JWTAUTH_JWT_JWS_VERIFIER_H_
#define JWTAUTH_JWT_JWS_VERIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "jwt/json.h"
#include "jwt/key_set.h"

namespace jwtauth::jwt {

inline constexpr size_t kDefaultMaxTokenSize = 8 * 1024;

// VerifiedJws is a JWS whose signature verified. Only JwsVerifier makes one.
class VerifiedJws {
 public:
  const Json& header() const { return *header_; }
  // shared_header shares ownership of the header (no copy).
  const std::shared_ptr<const Json>& shared_header() const { return header_; }
  const std::string& payload() const { return payload_; }
  // key is the key that verified the signature.
  const Key& key() const { return key_; }

 private:
  friend class JwsVerifier;
  VerifiedJws(std::shared_ptr<const Json> header, std::string payload, Key key)
      : header_(std::move(header)),
        payload_(std::move(payload)),
        key_(std::move(key)) {}
  std::shared_ptr<const Json> header_;
  std::string payload_;
  Key key_;
};

class JwsVerifier {
 public:
  static absl::StatusOr<JwsVerifier> Create(
      KeySet keys, size_t max_size = kDefaultMaxTokenSize);

  absl::StatusOr<VerifiedJws> Verify(absl::string_view compact) const;

  // VerifyUnsafeSkipSignature does every check of Verify except the
  // signature. It exists only for the seed's JWT_VERIFY=false setting.
  absl::StatusOr<VerifiedJws> VerifyUnsafeSkipSignature(
      absl::string_view compact) const;

  const KeySet& keys() const { return keys_; }

 private:
  JwsVerifier(KeySet keys, size_t max_size);
  absl::StatusOr<VerifiedJws> DoVerify(absl::string_view compact,
                                       bool check_signature) const;

  KeySet keys_;
  size_t max_size_;
  // For each key, the base64url of the header jwtauth writes, and its parse,
  // so jwtauth's own tokens skip header JSON parsing.
  std::vector<std::string> canonical_encoded_;
  std::vector<std::shared_ptr<const Json>> canonical_parsed_;
};

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_JWS_VERIFIER_H_
