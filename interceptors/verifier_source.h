// verifier_source.h: where LocalValidator gets the jwt::Verifier it checks
// tokens with: fixed keys (FixedVerifierSource) or keys fetched from the auth
// server (RemoteKeySet, remote_key_set.h).
//
//   std::shared_ptr<VerifierSource> source =
//       FixedVerifierSource(*jwt::Verifier::Create(keys, options));
//   auto validator = LocalValidator(source);
//
// Contract: Current() returns an immutable verifier (never null on success),
// or UNAVAILABLE while the source has no keys yet. When a token names a kid
// the current verifier has no key for, LocalValidator calls ForUnknownKid;
// the source may then look for newer keys (a source that fetches must rate
// limit this: kids come from unauthenticated input) and returns the verifier
// to retry with — the same one when nothing changed. generation() changes
// whenever the keys change (a key added or removed): LocalValidator serves a
// cached token only under the generation it was verified in, so a retired
// key stops accepting tokens as soon as the source drops it, not at their
// exp. It must change after Current() answers the new keys.
//
// Thread-safety: implementations are thread-safe.
#ifndef JWTAUTH_INTERCEPTORS_VERIFIER_SOURCE_H_
#define JWTAUTH_INTERCEPTORS_VERIFIER_SOURCE_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "jwt/verifier.h"

namespace jwtauth::interceptors {

class VerifierSource {
 public:
  virtual ~VerifierSource() = default;
  // Current returns the verifier to use now; UNAVAILABLE without keys.
  virtual absl::StatusOr<std::shared_ptr<const jwt::Verifier>> Current() = 0;
  // ForUnknownKid is called when a token names `kid` and the current verifier
  // has no key with it; may block (blocking()) to fetch newer keys.
  virtual absl::StatusOr<std::shared_ptr<const jwt::Verifier>> ForUnknownKid(
      absl::string_view kid) = 0;
  // blocking is true when Current or ForUnknownKid may wait on the network.
  virtual bool blocking() const = 0;
  // generation identifies the keys Current() answers (see above); cheap.
  virtual uint64_t generation() const = 0;
};

// FixedVerifierSource always answers `verifier`; never blocks.
std::shared_ptr<VerifierSource> FixedVerifierSource(jwt::Verifier verifier);

}  // namespace jwtauth::interceptors

#endif  // JWTAUTH_INTERCEPTORS_VERIFIER_SOURCE_H_
