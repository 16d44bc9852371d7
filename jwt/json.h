// json.h: a small strict JSON value for JOSE headers and JWT claims.
//
// ParseJson accepts RFC 8259 JSON only, and more strictly than most parsers:
// duplicate member names, invalid UTF-8 (in raw bytes or through lone
// surrogate escapes), unescaped control characters, numbers that overflow to
// infinity, nesting deeper than kMaxJsonDepth and trailing bytes are all
// rejected. Objects keep their members in document order; SerializeJson writes
// compact JSON in that order, so claims come out in the order they were set.
//
//   absl::StatusOr<Json> v = ParseJson(R"({"sub":"42","exp":1700000000})");
//   const Json* exp = v->Find("exp");
//
// Numbers keep their integer value exactly when the literal is an integer that
// fits int64 (user ids, timestamps); others are doubles.
// Thread-safety: a Json is thread-compatible (const methods may be called
// concurrently); the functions are stateless.
#ifndef JWTAUTH_JWT_JSON_H_
#define JWTAUTH_JWT_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace jwtauth::jwt {

inline constexpr int kMaxJsonDepth = 16;

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;  // null
  static Json Bool(bool b);
  static Json Int(int64_t i);
  // Double returns a number; non-finite values are stored as null, since JSON
  // cannot express them.
  static Json Double(double d);
  static Json String(std::string s);
  static Json Array();
  static Json Object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool bool_value() const { return bool_; }
  double number_value() const { return number_; }
  // int_value is set when the number is an integer that fits int64.
  std::optional<int64_t> int_value() const {
    return is_int_ ? std::optional<int64_t>(int_) : std::nullopt;
  }
  const std::string& string_value() const { return string_; }

  // Arrays: the items. Objects: the member values, parallel to keys().
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::string>& keys() const { return keys_; }
  size_t size() const { return items_.size(); }

  // Find returns the member named `key` of an object, or nullptr.
  const Json* Find(absl::string_view key) const;

  // Set replaces or appends the member `key` of an object (no-op otherwise).
  void Set(absl::string_view key, Json value);
  // Erase removes the member `key` of an object, if present.
  void Erase(absl::string_view key);
  // Append adds an item to an array (no-op otherwise).
  void Append(Json value);

  friend bool operator==(const Json& a, const Json& b);
  friend bool operator!=(const Json& a, const Json& b) { return !(a == b); }

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  bool is_int_ = false;
  int64_t int_ = 0;
  double number_ = 0;
  std::string string_;
  std::vector<std::string> keys_;  // objects only
  std::vector<Json> items_;        // array items or object values
  friend class JsonParser;
};

// ParseJson parses exactly one JSON value spanning all of `text` (surrounding
// whitespace allowed). Errors are kMalformed JwtErrors.
absl::StatusOr<Json> ParseJson(absl::string_view text);

// SerializeJson returns compact JSON (no whitespace), members in order,
// strings with only the escapes JSON requires (and "/" left as is).
std::string SerializeJson(const Json& value);
void SerializeJsonTo(const Json& value, std::string& out);

}  // namespace jwtauth::jwt

#endif  // JWTAUTH_JWT_JSON_H_
