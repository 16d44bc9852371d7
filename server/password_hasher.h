// password_hasher.h: Django-compatible password hashes.
//
// Encoded form: "<algorithm>$<iterations>$<salt>$<base64 hash>" with
// algorithm pbkdf2_sha256 (PBKDF2-HMAC-SHA256, 32-byte hash, standard base64
// with padding) or pbkdf2_sha1 (20-byte hash), exactly as Django writes them.
// The iteration count is read from each stored hash, so old hashes keep
// working. Hashes starting with "!" are Django's unusable passwords: they
// never match. New hashes use pbkdf2_sha256 at the configured count (Django
// 5.2's 1,000,000 by default) and a 22-character random alphanumeric salt.
//
//   PasswordHasher hasher(1'000'000);
//   std::string encoded = *hasher.Hash("s3cret");
//   bool ok = hasher.Check("s3cret", encoded);  // constant-time comparison
//
// Thread-safety: thread-safe. Every call costs one full PBKDF2 run: call
// from a worker pool, never from a gRPC callback thread.
#ifndef JWTAUTH_SERVER_PASSWORD_HASHER_H_
#define JWTAUTH_SERVER_PASSWORD_HASHER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace jwtauth::server {

inline constexpr int64_t kDefaultPbkdf2Iterations = 1'000'000;  // Django 5.2
// Stored hashes with more iterations than this are refused (a DoS guard).
inline constexpr int64_t kMaxPbkdf2Iterations = 100'000'000;

class PasswordHasher {
 public:
  explicit PasswordHasher(int64_t iterations = kDefaultPbkdf2Iterations)
      : iterations_(iterations) {}

  int64_t iterations() const { return iterations_; }

  // Hash returns a new pbkdf2_sha256 encoded hash of `password` with a fresh
  // salt.
  absl::StatusOr<std::string> Hash(absl::string_view password) const;

  // Check returns true when `password` matches `encoded`. Malformed or
  // unusable hashes, unknown algorithms and iteration counts outside
  // 1..kMaxPbkdf2Iterations return false. Every failing call costs at least
  // one PBKDF2 run at this hasher's iteration count (Django's
  // harden_runtime), so timing does not reveal what kind of hash a user has.
  bool Check(absl::string_view password, absl::string_view encoded) const;

  // HashDummy spends the same time as checking a password against a hash at
  // this hasher's iteration count, for unknown usernames (no timing oracle).
  void HashDummy(absl::string_view password) const;

  // MustUpdate is true when `encoded` uses another algorithm or fewer
  // iterations than configured (Django's must_update).
  bool MustUpdate(absl::string_view encoded) const;

 private:
  int64_t iterations_;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_PASSWORD_HASHER_H_
