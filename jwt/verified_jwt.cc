#include "jwt/verified_jwt.h"

namespace jwtauth::jwt {

absl::Time NumericDateToTime(const Json& value) {
  if (std::optional<int64_t> i = value.int_value(); i.has_value()) {
    return absl::FromUnixSeconds(*i);
  }
  return absl::UnixEpoch() + absl::Seconds(value.number_value());
}

std::optional<std::string> VerifiedJwt::GetString(
    absl::string_view name) const {
  const Json* v = claims_.Find(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->string_value();
}

std::optional<int64_t> VerifiedJwt::GetInt(absl::string_view name) const {
  const Json* v = claims_.Find(name);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->int_value();
}

std::optional<absl::Time> VerifiedJwt::GetTime(absl::string_view name) const {
  const Json* v = claims_.Find(name);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return NumericDateToTime(*v);
}

}  // namespace jwtauth::jwt
