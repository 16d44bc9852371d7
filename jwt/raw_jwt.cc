#include "jwt/raw_jwt.h"

#include <utility>

namespace jwtauth::jwt {

RawJwt& RawJwt::Set(absl::string_view name, Json value) {
  claims_.Set(name, std::move(value));
  return *this;
}

RawJwt& RawJwt::SetString(absl::string_view name, std::string value) {
  return Set(name, Json::String(std::move(value)));
}

RawJwt& RawJwt::SetInt(absl::string_view name, int64_t value) {
  return Set(name, Json::Int(value));
}

RawJwt& RawJwt::SetNumericDate(absl::string_view name, absl::Time t) {
  return Set(name, Json::Int(absl::ToUnixSeconds(t)));
}

RawJwt& RawJwt::Erase(absl::string_view name) {
  claims_.Erase(name);
  return *this;
}

}  // namespace jwtauth::jwt
