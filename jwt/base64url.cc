#include "jwt/base64url.h"

#include <array>
#include <cstdint>

namespace jwtauth::jwt {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

void Base64UrlEncodeTo(absl::string_view data, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  const size_t start = out.size();
  out.resize(start + n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1));
  char* o = out.data() + start;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v =
        (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
  }
}

std::string Base64UrlEncode(absl::string_view data) {
  std::string out;
  Base64UrlEncodeTo(data, out);
  return out;
}

bool Base64UrlDecode(absl::string_view in, std::string& out) {
  const size_t n = in.size();
  if (n % 4 == 1) {
    out.clear();
    return false;
  }
  out.resize(n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1));
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int a = kDecode[p[i]], b = kDecode[p[i + 1]], c = kDecode[p[i + 2]],
              d = kDecode[p[i + 3]];
    if ((a | b | c | d) < 0) {
      out.clear();
      return false;
    }
    const uint32_t v =
        (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
        (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    *o++ = static_cast<unsigned char>(v >> 16);
    *o++ = static_cast<unsigned char>((v >> 8) & 0xff);
    *o++ = static_cast<unsigned char>(v & 0xff);
  }
  const size_t rest = n - i;
  if (rest == 2) {
    const int a = kDecode[p[i]], b = kDecode[p[i + 1]];
    if ((a | b) < 0 || (b & 0x0f) != 0) {  // non-zero trailing bits
      out.clear();
      return false;
    }
    *o++ = static_cast<unsigned char>((a << 2) | (b >> 4));
  } else if (rest == 3) {
    const int a = kDecode[p[i]], b = kDecode[p[i + 1]], c = kDecode[p[i + 2]];
    if ((a | b | c) < 0 || (c & 0x03) != 0) {
      out.clear();
      return false;
    }
    *o++ = static_cast<unsigned char>((a << 2) | (b >> 4));
    *o++ = static_cast<unsigned char>(((b & 0x0f) << 4) | (c >> 2));
  }
  return true;
}

}  // namespace jwtauth::jwt
