#include "server/user_fields.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace jwtauth::server {

int64_t CountCodePoints(absl::string_view s) {
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  int64_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (lead < 0x80) {
      len = 1;
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      len = 2;
      cp = static_cast<uint32_t>(lead & 0x1F);
    } else if ((lead & 0xF0) == 0xE0) {
      len = 3;
      cp = static_cast<uint32_t>(lead & 0x0F);
    } else if ((lead & 0xF8) == 0xF0) {
      len = 4;
      cp = static_cast<uint32_t>(lead & 0x07);
    } else {
      return -1;
    }
    if (len > s.size() - i) return -1;
    for (size_t k = 1; k < len; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | static_cast<uint32_t>(next & 0x3F);
    }
    if (cp < kMinForLength[len] || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return -1;
    i += len;
    ++count;
  }
  return count;
}

absl::Status ValidateUsername(absl::string_view username) {
  if (username.empty())
    return absl::InvalidArgumentError("username must not be empty");
  if (username.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "username must not contain NUL characters");
  }
  const int64_t length = CountCodePoints(username);
  if (length < 0)
    return absl::InvalidArgumentError("username must be valid UTF-8");
  if (length > static_cast<int64_t>(kMaxUsernameLength)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "username longer than ", kMaxUsernameLength, " characters"));
  }
  return absl::OkStatus();
}

User CreatedUser(const NewUser& user, int64_t id, absl::Time date_joined) {
  User created;
  created.id = id;
  created.username = user.username;
  created.email = user.email;
  created.password_hash = user.password_hash;
  created.is_active = user.is_active;
  created.is_staff = user.is_staff;
  created.is_superuser = user.is_superuser;
  created.date_joined = date_joined;
  return created;
}

int64_t CountLimit(size_t max_per_user) {
  constexpr size_t kMax = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::min(max_per_user, kMax));
}

int64_t HeldLimit(size_t max_per_user) {
  constexpr size_t kMax = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(max_per_user > kMax / kHeldPerListed
                                  ? kMax
                                  : max_per_user * kHeldPerListed);
}

}  // namespace jwtauth::server
