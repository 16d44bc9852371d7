// base64url.h: strict unpadded base64url (RFC 7515 §2, RFC 4648 §5).
//
// Encoding never pads. Decoding accepts only the canonical encoding: the
// alphabet A-Z a-z 0-9 - _, no padding, no whitespace, a length that is not
// 1 mod 4, and zero trailing bits in the last character. So every byte
// string has exactly one accepted spelling, and a token cannot be altered
// without changing the bytes the signature covers.
// Thread-safety: stateless functions, safe from any thread.
#ifndef JWTAUTH_JWT_BASE64URL_H_
#define JWTAUTH_JWT_BASE64URL_H_

#include <string>

#include "absl/strings/string_view.h"

namespace jwtauth::jwt {

// Base64UrlEncode returns the unpadded base64url encoding of `data`.
std::string Base64UrlEncode(absl::string_view data);

// Base64UrlEncodeTo appends the unpadded base64url encoding of `data` to `out`.
void Base64UrlEncodeTo(absl::string_view data, std::string& out);

// Base64UrlDecode decodes the canonical encoding `in` into `out` (replacing its
// contents) and returns true, or returns false for any non-canonical input.
[[nodiscard]] bool Base64UrlDecode(absl::string_view in, std::string& out);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_BASE64URL_H_
