#include "jwt/json.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "jwt/error.h"

namespace jwtauth::jwt {

Json Json::Bool(bool b) {
  Json j;
  j.type_ = Type::kBool;
  j.bool_ = b;
  return j;
}

Json Json::Int(int64_t i) {
  Json j;
  j.type_ = Type::kNumber;
  j.is_int_ = true;
  j.int_ = i;
  j.number_ = static_cast<double>(i);
  return j;
}

Json Json::Double(double d) {
  Json j;
  if (!std::isfinite(d)) return j;
  j.type_ = Type::kNumber;
  j.number_ = d;
  if (d >= -9.2e18 && d <= 9.2e18 && std::trunc(d) == d) {
    j.is_int_ = true;
    j.int_ = static_cast<int64_t>(d);
  }
  return j;
}

Json Json::String(std::string s) {
  Json j;
  j.type_ = Type::kString;
  j.string_ = std::move(s);
  return j;
}

Json Json::Array() {
  Json j;
  j.type_ = Type::kArray;
  return j;
}

Json Json::Object() {
  Json j;
  j.type_ = Type::kObject;
  return j;
}

const Json* Json::Find(absl::string_view key) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return &items_[i];
  }
  return nullptr;
}

void Json::Set(absl::string_view key, Json value) {
  if (type_ != Type::kObject) return;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      items_[i] = std::move(value);
      return;
    }
  }
  keys_.emplace_back(key);
  items_.push_back(std::move(value));
}

void Json::Erase(absl::string_view key) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(i));
      items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

void Json::Append(Json value) {
  if (type_ == Type::kArray) items_.push_back(std::move(value));
}

bool operator==(const Json& a, const Json& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Json::Type::kNull:
      return true;
    case Json::Type::kBool:
      return a.bool_ == b.bool_;
    case Json::Type::kNumber:
      if (a.is_int_ && b.is_int_) return a.int_ == b.int_;
      return a.number_ == b.number_;
    case Json::Type::kString:
      return a.string_ == b.string_;
    case Json::Type::kArray:
      return a.items_ == b.items_;
    case Json::Type::kObject: {
      if (a.keys_.size() != b.keys_.size()) return false;
      for (size_t i = 0; i < a.keys_.size(); ++i) {
        const Json* other = b.Find(a.keys_[i]);
        if (other == nullptr || !(*other == a.items_[i])) return false;
      }
      return true;
    }
  }
  return false;
}

// JsonParser is a recursive-descent parser over a bounded depth.
class JsonParser {
 public:
  explicit JsonParser(absl::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  absl::StatusOr<Json> ParseDocument() {
    Json value;
    SkipWhitespace();
    if (!ParseValue(value, 0)) return Error();
    SkipWhitespace();
    if (p_ != end_) {
      error_ = "trailing characters after the JSON value";
      return Error();
    }
    return value;
  }

 private:
  absl::Status Error() const {
    return MakeJwtError(JwtError::kMalformed,
                        absl::StrCat("invalid JSON: ", error_));
  }

  bool Fail(const char* why) {
    if (error_ == nullptr) error_ = why;
    return false;
  }

  void SkipWhitespace() {
    while (p_ != end_ &&
           (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r'))
      ++p_;
  }

  bool Literal(const char* word) {
    const size_t n = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) {
      return Fail("unexpected character");
    }
    p_ += n;
    return true;
  }

  bool ParseValue(Json& out, int depth) {
    if (p_ == end_) return Fail("unexpected end of input");
    switch (*p_) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"':
        out.type_ = Json::Type::kString;
        return ParseString(out.string_);
      case 't':
        out = Json::Bool(true);
        return Literal("true");
      case 'f':
        out = Json::Bool(false);
        return Literal("false");
      case 'n':
        out = Json();
        return Literal("null");
      default:
        return ParseNumber(out);
    }
  }

  bool ParseObject(Json& out, int depth) {
    if (depth > kMaxJsonDepth) return Fail("nesting too deep");
    out = Json::Object();
    ++p_;  // '{'
    SkipWhitespace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    out.keys_.reserve(8);  // JWT claim sets and JOSE headers are small
    out.items_.reserve(8);
    absl::flat_hash_set<absl::string_view> seen;
    for (;;) {
      SkipWhitespace();
      if (p_ == end_ || *p_ != '"') return Fail("expected a member name");
      std::string key;
      if (!ParseString(key)) return false;
      SkipWhitespace();
      if (p_ == end_ || *p_ != ':') return Fail("expected ':'");
      ++p_;
      SkipWhitespace();
      Json value;
      if (!ParseValue(value, depth)) return false;
      out.keys_.push_back(std::move(key));
      out.items_.push_back(std::move(value));
      SkipWhitespace();
      if (p_ == end_) return Fail("unexpected end of input");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != '}') return Fail("expected ',' or '}'");
      ++p_;
      break;
    }
    // Duplicate names: small objects by pairwise comparison, others by a set.
    const auto& keys = out.keys_;
    if (keys.size() <= 16) {
      for (size_t i = 1; i < keys.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (keys[i] == keys[j]) return Fail("duplicate member name");
        }
      }
    } else {
      seen.reserve(keys.size());
      for (const auto& k : keys) {
        if (!seen.insert(k).second) return Fail("duplicate member name");
      }
    }
    return true;
  }

  bool ParseArray(Json& out, int depth) {
    if (depth > kMaxJsonDepth) return Fail("nesting too deep");
    out = Json::Array();
    ++p_;  // '['
    SkipWhitespace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      SkipWhitespace();
      Json value;
      if (!ParseValue(value, depth)) return false;
      out.items_.push_back(std::move(value));
      SkipWhitespace();
      if (p_ == end_) return Fail("unexpected end of input");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != ']') return Fail("expected ',' or ']'");
      ++p_;
      return true;
    }
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool ParseHex4(uint32_t& out) {
    if (end_ - p_ < 4) return Fail("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const int v = HexValue(p_[i]);
      if (v < 0) return Fail("invalid \\u escape");
      out = (out << 4) | static_cast<uint32_t>(v);
    }
    p_ += 4;
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // ValidUtf8Sequence checks one multi-byte UTF-8 sequence starting at p_
  // (shortest form, no surrogates, at most U+10FFFF) and returns its length,
  // or 0.
  size_t ValidUtf8Sequence() const {
    const auto* s = reinterpret_cast<const unsigned char*>(p_);
    const size_t avail = static_cast<size_t>(end_ - p_);
    const unsigned char c = s[0];
    auto cont = [&](size_t i) { return i < avail && (s[i] & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(1) || !cont(2)) return 0;
      if (c == 0xE0 && s[1] < 0xA0) return 0;   // overlong
      if (c == 0xED && s[1] >= 0xA0) return 0;  // surrogate
      return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if (c == 0xF0 && s[1] < 0x90) return 0;   // overlong
      if (c == 0xF4 && s[1] >= 0x90) return 0;  // > U+10FFFF
      return 4;
    }
    return 0;
  }

  bool ParseString(std::string& out) {
    ++p_;  // opening quote
    for (;;) {
      // Copy the run of plain ASCII in one go.
      const char* run = p_;
      while (p_ != end_ && *p_ != '"' && *p_ != '\\' &&
             static_cast<unsigned char>(*p_) >= 0x20 &&
             static_cast<unsigned char>(*p_) < 0x80) {
        ++p_;
      }
      out.append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) return Fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return Fail("control character in string");
      if (c >= 0x80) {
        const size_t n = ValidUtf8Sequence();
        if (n == 0) return Fail("invalid UTF-8");
        out.append(p_, n);
        p_ += n;
        continue;
      }
      // Escape.
      ++p_;
      if (p_ == end_) return Fail("unterminated escape");
      const char e = *p_++;
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!ParseHex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("lone low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
              return Fail("lone high surrogate");
            }
            p_ += 2;
            uint32_t low;
            if (!ParseHex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF)
              return Fail("lone high surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Fail("invalid escape");
      }
    }
  }

  bool ParseNumber(Json& out) {
    const char* start = p_;
    bool integer = true;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return Fail("unexpected end of input");
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return Fail("unexpected character");
    }
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return Fail("invalid number");
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return Fail("invalid number");
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    out = Json();
    out.type_ = Json::Type::kNumber;
    if (integer) {
      int64_t v;
      auto [ptr, ec] = std::from_chars(start, p_, v);
      if (ec == std::errc() && ptr == p_) {
        out.is_int_ = true;
        out.int_ = v;
        out.number_ = static_cast<double>(v);
        return true;
      }
    }
    double d;
    auto [ptr, ec] = std::from_chars(start, p_, d);
    if (ec == std::errc::result_out_of_range) {
      // Overflow is rejected (it would be infinity); underflow rounds to 0.
      const char* e = start;
      while (e != p_ && *e != 'e' && *e != 'E') ++e;
      if (e != p_ && e + 1 != p_ && e[1] == '-') {
        out.number_ = 0;
        return true;
      }
      return Fail("number out of range");
    }
    if (ec != std::errc() || ptr != p_ || !std::isfinite(d)) {
      return Fail("number out of range");
    }
    out.number_ = d;
    return true;
  }

  const char* p_;
  const char* end_;
  const char* error_ = nullptr;
};

absl::StatusOr<Json> ParseJson(absl::string_view text) {
  return JsonParser(text).ParseDocument();
}

namespace {

void SerializeString(const std::string& s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

void SerializeJsonTo(const Json& value, std::string& out) {
  switch (value.type()) {
    case Json::Type::kNull:
      out.append("null");
      return;
    case Json::Type::kBool:
      out.append(value.bool_value() ? "true" : "false");
      return;
    case Json::Type::kNumber: {
      char buf[32];
      std::to_chars_result r;
      if (value.int_value().has_value()) {
        r = std::to_chars(buf, buf + sizeof buf, *value.int_value());
      } else {
        r = std::to_chars(buf, buf + sizeof buf, value.number_value());
      }
      out.append(buf, static_cast<size_t>(r.ptr - buf));
      return;
    }
    case Json::Type::kString:
      SerializeString(value.string_value(), out);
      return;
    case Json::Type::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Json& item : value.items()) {
        if (!first) out.push_back(',');
        first = false;
        SerializeJsonTo(item, out);
      }
      out.push_back(']');
      return;
    }
    case Json::Type::kObject: {
      out.push_back('{');
      for (size_t i = 0; i < value.keys().size(); ++i) {
        if (i != 0) out.push_back(',');
        SerializeString(value.keys()[i], out);
        out.push_back(':');
        SerializeJsonTo(value.items()[i], out);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string SerializeJson(const Json& value) {
  std::string out;
  SerializeJsonTo(value, out);
  return out;
}

}  // namespace jwtauth::jwt
