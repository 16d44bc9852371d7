// password_hasher.cc: Django's PBKDF2 password hashers over OpenSSL.
#include "server/password_hasher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace jwtauth::server {
namespace {

constexpr absl::string_view kSha256Name = "pbkdf2_sha256";
constexpr absl::string_view kSha1Name = "pbkdf2_sha1";
constexpr size_t kSaltLength =
    22;  // ~131 bits over [a-zA-Z0-9], as Django's salt()
constexpr absl::string_view kSaltAlphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
// Fixed salt for HashDummy: the cost, not the result, is what matters.
constexpr absl::string_view kDummySalt = "jwtauthDummySalt4Timing";

struct Algorithm {
  absl::string_view name;
  const EVP_MD* (*md)();
  size_t hash_size;  // bytes of derived key
};

const Algorithm* FindAlgorithm(absl::string_view name) {
  static const Algorithm kAlgorithms[] = {
      {kSha256Name, &EVP_sha256, 32},
      {kSha1Name, &EVP_sha1, 20},
  };
  for (const Algorithm& a : kAlgorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// Decoded is a parsed "<algorithm>$<iterations>$<salt>$<hash>"; views point
// into the encoded string.
struct Decoded {
  const Algorithm* algorithm = nullptr;
  int64_t iterations = 0;
  absl::string_view salt;
  absl::string_view hash;  // still base64
};

// ParseIterations accepts a canonical decimal in 1..kMaxPbkdf2Iterations:
// digits only, no sign, no leading zero, no whitespace.
bool ParseIterations(absl::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 9 || s[0] == '0')
    return false;  // kMax has 9 digits
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > kMaxPbkdf2Iterations) return false;
  out = v;
  return true;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

// Decode parses `encoded` strictly; false for anything Django would not write.
bool Decode(absl::string_view encoded, Decoded& out) {
  std::vector<absl::string_view> parts = absl::StrSplit(encoded, '$');
  if (parts.size() != 4) return false;
  out.algorithm = FindAlgorithm(parts[0]);
  if (out.algorithm == nullptr) return false;
  if (!ParseIterations(parts[1], out.iterations)) return false;
  if (parts[2].empty()) return false;
  out.salt = parts[2];
  // Standard padded base64 of hash_size bytes: 4 * ceil(n / 3) characters.
  const size_t b64_size = 4 * ((out.algorithm->hash_size + 2) / 3);
  if (parts[3].size() != b64_size) return false;
  for (char c : parts[3]) {
    if (!IsBase64Char(c)) return false;
  }
  out.hash = parts[3];
  return true;
}

// Pbkdf2 returns the base64 (standard, padded) derived key, or "" on failure.
std::string Pbkdf2(const Algorithm& alg, absl::string_view password,
                   absl::string_view salt, int64_t iterations) {
  if (password.size() > static_cast<size_t>(INT_MAX) ||
      salt.size() > static_cast<size_t>(INT_MAX) || iterations < 1 ||
      iterations > kMaxPbkdf2Iterations) {
    return std::string();
  }
  std::string dk(alg.hash_size, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()),
                        static_cast<int>(iterations), alg.md(),
                        static_cast<int>(dk.size()),
                        reinterpret_cast<unsigned char*>(dk.data())) != 1) {
    OPENSSL_cleanse(dk.data(), dk.size());
    return std::string();
  }
  std::string out = absl::Base64Escape(dk);
  OPENSSL_cleanse(dk.data(), dk.size());
  return out;
}

// RandomSalt returns kSaltLength characters of kSaltAlphabet, uniformly
// (bytes >= 248 are rejected so that `% 62` has no bias).
absl::StatusOr<std::string> RandomSalt() {
  constexpr unsigned kLimit = 256 - 256 % kSaltAlphabet.size();  // 248
  std::string salt;
  salt.reserve(kSaltLength);
  unsigned char buf[32];
  while (salt.size() < kSaltLength) {
    if (RAND_bytes(buf, sizeof buf) != 1) {
      return absl::InternalError(
          "password hasher: the random generator failed");
    }
    for (unsigned char b : buf) {
      if (b >= kLimit) continue;
      salt.push_back(kSaltAlphabet[b % kSaltAlphabet.size()]);
      if (salt.size() == kSaltLength) break;
    }
  }
  OPENSSL_cleanse(buf, sizeof buf);
  return salt;
}

}  // namespace

absl::StatusOr<std::string> PasswordHasher::Hash(
    absl::string_view password) const {
  if (iterations_ < 1 || iterations_ > kMaxPbkdf2Iterations) {
    return absl::InvalidArgumentError(
        absl::StrCat("password hasher: iteration count ", iterations_,
                     " outside 1..", kMaxPbkdf2Iterations));
  }
  if (password.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("password hasher: password too long");
  }
  absl::StatusOr<std::string> salt = RandomSalt();
  if (!salt.ok()) return salt.status();
  const Algorithm& alg = *FindAlgorithm(kSha256Name);
  std::string hash = Pbkdf2(alg, password, *salt, iterations_);
  if (hash.empty())
    return absl::InternalError("password hasher: PBKDF2 failed");
  return absl::StrCat(alg.name, "$", iterations_, "$", *salt, "$", hash);
}

bool PasswordHasher::Check(absl::string_view password,
                           absl::string_view encoded) const {
  Decoded d;
  if (!Decode(encoded, d)) {
    // Unusable ("!...") or foreign hashes still cost a full hash, so their
    // users cannot be told apart from others by timing.
    HashDummy(password);
    return false;
  }
  const std::string computed =
      Pbkdf2(*d.algorithm, password, d.salt, d.iterations);
  const bool match =
      computed.size() == d.hash.size() &&
      CRYPTO_memcmp(computed.data(), d.hash.data(), computed.size()) == 0;
  // Django's harden_runtime: a wrong password against a hash stored with
  // fewer iterations than configured costs the difference too, so a failure
  // takes at least as long as an unknown user's dummy hash. (As in Django,
  // a correct password is not slowed down.)
  if (!match && d.iterations < iterations_) {
    (void)Pbkdf2(*FindAlgorithm(kSha256Name), password, kDummySalt,
                 iterations_ - d.iterations);
  }
  return match;
}

void PasswordHasher::HashDummy(absl::string_view password) const {
  int64_t iterations = iterations_;
  if (iterations < 1) iterations = 1;
  if (iterations > kMaxPbkdf2Iterations) iterations = kMaxPbkdf2Iterations;
  (void)Pbkdf2(*FindAlgorithm(kSha256Name), password, kDummySalt, iterations);
}

bool PasswordHasher::MustUpdate(absl::string_view encoded) const {
  Decoded d;
  if (!Decode(encoded, d)) return true;
  return d.algorithm->name != kSha256Name || d.iterations < iterations_;
}

}  // namespace jwtauth::server
