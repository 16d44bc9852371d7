#include "interceptors/auth_header.h"

#include "absl/strings/match.h"

namespace jwtauth::interceptors {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

}  // namespace

ParsedHeader ParseAuthorization(absl::string_view value,
                                absl::string_view prefix) {
  absl::string_view parts[3];
  size_t count = 0;
  size_t i = 0;
  while (i < value.size() && count < 3) {
    while (i < value.size() && IsSpace(value[i])) ++i;
    if (i == value.size()) break;
    const size_t start = i;
    while (i < value.size() && !IsSpace(value[i])) ++i;
    parts[count++] = value.substr(start, i - start);
  }
  if (count == 0 || !absl::EqualsIgnoreCase(parts[0], prefix)) {
    return {HeaderOutcome::kNotOurs, {}};
  }
  if (count == 1) return {HeaderOutcome::kPrefixOnly, {}};
  if (count > 2) return {HeaderOutcome::kTooManyParts, {}};
  return {HeaderOutcome::kToken, parts[1]};
}

}  // namespace jwtauth::interceptors
