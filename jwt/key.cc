#include "jwt/key.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <array>
#include <utility>

#include "absl/status/status.h"
#include "jwt/error.h"
#include "jwt/key_data.h"

namespace jwtauth::jwt {
namespace internal {

const KeyData& DataOf(const Key& key) { return *key.data_; }

KeyData::~KeyData() {
  for (auto& slot : mac_pool) EVP_MAC_CTX_free(slot.exchange(nullptr));
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
}

const EVP_MD* FetchedDigest(Algorithm alg) {
  static const std::array<EVP_MD*, 3> digests = [] {
    return std::array<EVP_MD*, 3>{EVP_MD_fetch(nullptr, "SHA256", nullptr),
                                  EVP_MD_fetch(nullptr, "SHA384", nullptr),
                                  EVP_MD_fetch(nullptr, "SHA512", nullptr)};
  }();
  switch (DigestSize(alg)) {
    case 32:
      return digests[0];
    case 48:
      return digests[1];
    default:
      return FamilyOf(alg) == KeyFamily::kEdDSA ? nullptr : digests[2];
  }
}

}  // namespace internal

namespace {

using internal::EcdsaSigPtr;
using internal::EvpMacCtxPtr;
using internal::EvpMdCtxPtr;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// ComputeHmac takes an idle keyed context from the key's pool (or duplicates
// the template when none is idle), re-initialises it with the same key
// (EVP_MAC_init with a NULL key), and gives it back afterwards.
bool ComputeHmac(const internal::KeyData& d, absl::string_view input,
                 unsigned char* out, size_t* out_len) {
  EvpMacCtxPtr ctx;
  for (auto& slot : d.mac_pool) {
    if (slot.load(std::memory_order_relaxed) != nullptr) {
      ctx.reset(slot.exchange(nullptr, std::memory_order_acquire));
      if (ctx != nullptr) break;
    }
  }
  if (ctx == nullptr) {
    ctx.reset(EVP_MAC_CTX_dup(d.mac_template.get()));
    if (ctx == nullptr) return false;
  } else if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1) {
    return false;
  }
  const bool ok = EVP_MAC_update(ctx.get(), Bytes(input), input.size()) == 1 &&
                  EVP_MAC_final(ctx.get(), out, out_len, EVP_MAX_MD_SIZE) == 1;
  if (ok) {
    for (auto& slot : d.mac_pool) {
      EVP_MAC_CTX* expected = nullptr;
      if (slot.compare_exchange_strong(expected, ctx.get(),
                                       std::memory_order_release,
                                       std::memory_order_relaxed)) {
        ctx.release();
        break;
      }
    }
  }
  return ok;
}

// ConfigurePss sets RSA-PSS padding with salt length = digest length (RFC 7518
// §3.5).
bool ConfigurePss(EVP_PKEY_CTX* pctx) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
}

// EcdsaRawToDer converts a JOSE R||S signature to DER, or "" when it is not
// exactly 2 * coordinate size bytes.
std::string EcdsaRawToDer(absl::string_view raw, size_t coord) {
  if (raw.size() != 2 * coord) return std::string();
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(raw), static_cast<int>(coord), nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw) + coord, static_cast<int>(coord), nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::string();
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::string();
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return std::string();
  return der;
}

std::string EcdsaDerToRaw(absl::string_view der, size_t coord) {
  const auto* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr) return std::string();
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out = internal::BignumToPadded(r, coord);
  std::string s_bytes = internal::BignumToPadded(s, coord);
  if (out.empty() || s_bytes.empty()) return std::string();
  out += s_bytes;
  return out;
}

}  // namespace

Key::Key(std::shared_ptr<const internal::KeyData> data)
    : data_(std::move(data)) {}

Algorithm Key::algorithm() const { return data_->alg; }
const std::string& Key::kid() const { return data_->kid; }
bool Key::can_sign() const { return data_->is_private; }

absl::StatusOr<std::string> Key::Sign(absl::string_view signing_input) const {
  const internal::KeyData& d = *data_;
  const KeyFamily family = FamilyOf(d.alg);
  if (family == KeyFamily::kHmac) {
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (!ComputeHmac(d, signing_input, tag, &len)) {
      return MakeJwtError(JwtError::kSigningFailed, "HMAC computation failed");
    }
    return std::string(reinterpret_cast<char*>(tag), len);
  }
  if (!d.is_private) {
    return absl::FailedPreconditionError("a public key cannot sign");
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), &pctx, internal::FetchedDigest(d.alg),
                         nullptr, d.pkey.get()) != 1 ||
      (family == KeyFamily::kRsaPss && !ConfigurePss(pctx))) {
    return MakeJwtError(JwtError::kSigningFailed,
                        "signature initialisation failed");
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(signing_input),
                     signing_input.size()) != 1) {
    return MakeJwtError(JwtError::kSigningFailed, "signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, Bytes(signing_input), signing_input.size()) != 1) {
    return MakeJwtError(JwtError::kSigningFailed, "signing failed");
  }
  sig.resize(len);
  if (family == KeyFamily::kEcdsa) {
    sig = EcdsaDerToRaw(sig, EcCoordinateSize(d.alg));
    if (sig.empty()) {
      return MakeJwtError(JwtError::kSigningFailed,
                          "ECDSA signature conversion failed");
    }
  }
  return sig;
}

bool Key::VerifySignature(absl::string_view signing_input,
                          absl::string_view signature) const {
  const internal::KeyData& d = *data_;
  const KeyFamily family = FamilyOf(d.alg);
  if (family == KeyFamily::kHmac) {
    // JOSE never truncates tags: the length must be the digest size exactly.
    if (signature.size() != DigestSize(d.alg)) return false;
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (!ComputeHmac(d, signing_input, tag, &len) || len != signature.size()) {
      return false;
    }
    return CRYPTO_memcmp(tag, signature.data(), len) == 0;
  }
  std::string der;
  absl::string_view sig = signature;
  if (family == KeyFamily::kEcdsa) {
    der = EcdsaRawToDer(signature, EcCoordinateSize(d.alg));
    if (der.empty()) return false;
    sig = der;
  } else if (family == KeyFamily::kEdDSA) {
    if (signature.size() != 64) return false;
  } else if (signature.size() !=
             static_cast<size_t>(EVP_PKEY_get_size(d.pkey.get()))) {
    return false;  // RSA: exactly the modulus size
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), &pctx, internal::FetchedDigest(d.alg),
                           nullptr, d.pkey.get()) != 1 ||
      (family == KeyFamily::kRsaPss && !ConfigurePss(pctx))) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), Bytes(sig), sig.size(),
                          Bytes(signing_input), signing_input.size()) == 1;
}

bool Key::SameKeyMaterial(const Key& other) const {
  const internal::KeyData& a = *data_;
  const internal::KeyData& b = *other.data_;
  if (a.alg != b.alg) return false;
  if (FamilyOf(a.alg) == KeyFamily::kHmac) {
    return a.secret.size() == b.secret.size() &&
           CRYPTO_memcmp(a.secret.data(), b.secret.data(), a.secret.size()) ==
               0;
  }
  return EVP_PKEY_eq(a.pkey.get(), b.pkey.get()) == 1;
}

}  // namespace jwtauth::jwt
