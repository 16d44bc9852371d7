#include "tests/testing/test_util.h"

#include <fstream>
#include <sstream>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace jwtauth::testing {

std::string ReadTestFile(const std::string& relative) {
  const std::string path = std::string(JWTAUTH_TESTDATA_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "test data missing: " << path;
    return std::string();
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

jwt::Json ReadTestJson(const std::string& relative) {
  absl::StatusOr<jwt::Json> json = jwt::ParseJson(ReadTestFile(relative));
  if (!json.ok()) {
    ADD_FAILURE() << relative << ": " << json.status();
    return jwt::Json();
  }
  return *std::move(json);
}

std::string HexDecode(absl::string_view hex) {
  std::string out;
  auto val = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((val(hex[i]) << 4) | val(hex[i + 1])));
  }
  return out;
}

bool Eventually(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

}  // namespace jwtauth::testing
