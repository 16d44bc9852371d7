// key_directory.h: signing keys kept in a directory, with rotation.
//
// Layout of a key directory (created mode 0700):
//   keys.json     the manifest (mode 0600), written by this module only:
//                 {"keys":[{"kid":"Zm9vYmFyYmF6cXV4","alg":"ES256",
//                           "state":"active","created":1767225600},
//                          {"kid":"...","alg":"ES256","state":"verify",
//                           "created":...,"verify_until":1767830400},
//                          {"kid":"...","alg":"ES256","state":"retired",
//                           "created":...,"verify_until":...,
//                           "retired":...}]}
//                 Times are Unix seconds. "state" is "active" (signs and
//                 verifies; exactly one), "verify" (verifies tokens until
//                 "verify_until", which it must have) or "retired" (its
//                 file is gone). Unknown members are ignored.
//   <kid>.pem     PKCS#8 PEM private key (mode 0600) for RS*, PS* (RSA-2048),
//                 ES256/384/512 (P-256/384/521) and EdDSA (Ed25519);
//   <kid>.secret  raw random bytes (mode 0600) for HS256/384/512 (32/48/64).
//   keys.lock     flock(2) target: writers hold it exclusively, readers
//                 shared, across threads and processes.
// A kid is 16 base64url characters from 12 random bytes (never derived from
// key material, never starting with '-', which a command line would take for a
// flag); kids in a manifest are unique and only [A-Za-z0-9_-].
//
// Writes replace keys.json atomically (keys.json.tmp, fsync, rename, fsync
// of the directory). A new key file is durable before the manifest names it;
// a retired key's file is deleted after the manifest no longer uses it.
// Time is always passed in, never read here.
//
//   KeyDirectory dir("data/keys");
//   dir.Generate(jwt::Algorithm::kES256, absl::Now());             // once
//   dir.Rotate(absl::Now(), refresh_window);                       // later
//   absl::StatusOr<jwt::KeySet> keys = dir.Load(absl::Now());      // server
//
// Errors name the file at fault and never contain key material: a malformed
// manifest is INVALID_ARGUMENT, a missing one NOT_FOUND, a key file readable
// by group/others or not matching its algorithm INVALID_ARGUMENT.
// Thread-safety: thread-safe; operations on one directory are serialised by
// the lock file, also between processes.
#ifndef JWTAUTH_SERVER_KEY_DIRECTORY_H_
#define JWTAUTH_SERVER_KEY_DIRECTORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "jwt/algorithm.h"
#include "jwt/key_set.h"

namespace jwtauth::server {

enum class KeyState { kActive, kVerify, kRetired };

// KeyStateName returns the manifest spelling: "active", "verify", "retired".
absl::string_view KeyStateName(KeyState state);

// KeyEntry is one key's manifest entry (never its material).
struct KeyEntry {
  std::string kid;
  jwt::Algorithm algorithm = jwt::Algorithm::kES256;
  KeyState state = KeyState::kActive;
  absl::Time created;
  std::optional<absl::Time> verify_until;  // verify (and retired) keys
  std::optional<absl::Time> retired;       // retired keys
};

class KeyDirectory {
 public:
  explicit KeyDirectory(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // Generate creates the directory (0700, with missing parents) and its first
  // active key of `alg`. ALREADY_EXISTS when keys.json exists.
  absl::StatusOr<KeyEntry> Generate(jwt::Algorithm alg, absl::Time now) const;

  // Rotate makes a new active key (of `alg`, or else of the current active
  // key's algorithm); the previous active key becomes "verify" until
  // now + verify_for. Pass the longest time a token it signed may still be
  // accepted: the refresh window (refresh_expiration_delta) when refresh is
  // on, else the expiration delta (plus leeway). Returns the new entry.
  absl::StatusOr<KeyEntry> Rotate(
      absl::Time now, absl::Duration verify_for,
      std::optional<jwt::Algorithm> alg = std::nullopt) const;

  // Retire marks verify key `kid` retired and deletes its file; tokens it
  // signed stop verifying at the next Load. NOT_FOUND for an unknown kid;
  // FAILED_PRECONDITION for the active key (rotate first) or a key already
  // retired. Returns the updated entry.
  absl::StatusOr<KeyEntry> Retire(absl::string_view kid, absl::Time now) const;

  // List returns the manifest's entries in creation order.
  absl::StatusOr<std::vector<KeyEntry>> List() const;

  // Load returns the keys the server signs and verifies with at `now`: the
  // active key first (current()), then the verify keys whose verify_until is
  // after `now`, newest first. Expired verify keys and retired keys are left
  // out. Every loaded file must exist, be mode 0600 (no group/other access)
  // and hold a key of its entry's algorithm.
  absl::StatusOr<jwt::KeySet> Load(absl::Time now) const;

 private:
  std::string path_;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_KEY_DIRECTORY_H_
