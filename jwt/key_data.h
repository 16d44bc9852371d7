// key_data.h: the shared, immutable state behind a Key (internal to jwt/).
// Thread-safety: immutable after construction; the OpenSSL objects are only
// read (EVP_MAC_CTX templates are duplicated per operation).
#ifndef JWTAUTH_JWT_KEY_DATA_H_
#define JWTAUTH_JWT_KEY_DATA_H_

#include <array>
#include <atomic>
#include <string>

#include "jwt/algorithm.h"
#include "jwt/openssl_util.h"

namespace jwtauth::jwt::internal {

struct KeyData {
  KeyData() = default;
  KeyData(const KeyData&) = delete;
  KeyData& operator=(const KeyData&) = delete;
  ~KeyData();

  Algorithm alg = Algorithm::kHS256;
  std::string kid;
  bool is_private = false;
  std::string secret;         // HMAC only; wiped on destruction
  EvpMacCtxPtr mac_template;  // HMAC only; keyed once, duplicated per use
  EvpPkeyPtr pkey;            // asymmetric only
  // HMAC only: idle keyed contexts, taken and given back by ComputeHmac so a
  // call re-initialises one instead of duplicating mac_template. Freed with
  // the key, so no key state outlives it.
  mutable std::array<std::atomic<EVP_MAC_CTX*>, 4> mac_pool{};
};

// FetchedDigest returns the pre-fetched EVP_MD for `alg` (nullptr for EdDSA).
// Fetched once per process, so no per-call algorithm lookup.
const EVP_MD* FetchedDigest(Algorithm alg);

}  // namespace jwtauth::jwt::internal

#endif  // JWTAUTH_JWT_KEY_DATA_H_
