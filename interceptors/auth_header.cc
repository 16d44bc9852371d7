#include "interceptors/auth_header.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/match.h"

namespace jwtauth::interceptors {
namespace {

// Python's bytes.split() whitespace: space and \t \n \v \f \r (0x09-0x0d).
// One comparison decides for every token byte (all above 0x20).
bool IsSpace(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 && (u == 0x20 || (u >= 0x09 && u <= 0x0d));
}

// EndOfPart is the index of the first whitespace byte at or after `i`, or
// v.size(). Token bytes are all above 0x20, so it looks at 8 bytes at a time
// until a word holds a byte <= 0x20 (exact: (w - 0x21..) & ~w & 0x80.. is
// non-zero iff some byte of w is below 0x21), then byte by byte.
size_t EndOfPart(absl::string_view v, size_t i) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  for (;;) {
    while (i + 8 <= v.size()) {
      uint64_t w;
      std::memcpy(&w, v.data() + i, sizeof(w));
      if (((w - 0x21 * kOnes) & ~w & kHigh) != 0) break;
      i += 8;
    }
    while (i < v.size() && static_cast<unsigned char>(v[i]) > 0x20) ++i;
    if (i == v.size() || IsSpace(v[i])) return i;
    ++i;  // a control byte that is not whitespace belongs to the part
  }
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
    i = EndOfPart(value, i);
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
