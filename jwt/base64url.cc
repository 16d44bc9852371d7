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
  out.reserve(out.size() + (n * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
}

std::string Base64UrlEncode(absl::string_view data) {
  std::string out;
  Base64UrlEncodeTo(data, out);
  return out;
}

bool Base64UrlDecode(absl::string_view in, std::string& out) {
  out.clear();
  const size_t n = in.size();
  if (n % 4 == 1) return false;
  out.reserve(n / 4 * 3 + 2);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int a = kDecode[p[i]], b = kDecode[p[i + 1]], c = kDecode[p[i + 2]],
              d = kDecode[p[i + 3]];
    if ((a | b | c | d) < 0) return false;
    const uint32_t v = (static_cast<uint32_t>(a) << 18) |
                       (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
  }
  const size_t rest = n - i;
  if (rest == 2) {
    const int a = kDecode[p[i]], b = kDecode[p[i + 1]];
    if ((a | b) < 0 || (b & 0x0f) != 0) return false;  // non-zero trailing bits
    out.push_back(static_cast<char>((a << 2) | (b >> 4)));
  } else if (rest == 3) {
    const int a = kDecode[p[i]], b = kDecode[p[i + 1]], c = kDecode[p[i + 2]];
    if ((a | b | c) < 0 || (c & 0x03) != 0) return false;
    out.push_back(static_cast<char>((a << 2) | (b >> 4)));
    out.push_back(static_cast<char>(((b & 0x0f) << 4) | (c >> 2)));
  }
  return true;
}

}  // namespace jwtauth::jwt
