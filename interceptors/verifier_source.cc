#include "interceptors/verifier_source.h"

#include <utility>

namespace jwtauth::interceptors {
namespace {

class Fixed final : public VerifierSource {
 public:
  explicit Fixed(jwt::Verifier verifier)
      : verifier_(std::make_shared<const jwt::Verifier>(std::move(verifier))) {}
  absl::StatusOr<std::shared_ptr<const jwt::Verifier>> Current() override {
    return verifier_;
  }
  absl::StatusOr<std::shared_ptr<const jwt::Verifier>> ForUnknownKid(
      absl::string_view /*kid*/) override {
    return verifier_;
  }
  bool blocking() const override { return false; }
  uint64_t generation() const override { return 0; }  // never changes

 private:
  const std::shared_ptr<const jwt::Verifier> verifier_;
};

}  // namespace

std::shared_ptr<VerifierSource> FixedVerifierSource(jwt::Verifier verifier) {
  return std::make_shared<Fixed>(std::move(verifier));
}

}  // namespace jwtauth::interceptors
