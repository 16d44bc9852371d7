// temp_dir.h: a private temporary folder removed with everything in it when
// the object goes away.
// Thread-safety: thread-compatible.
#ifndef JWTAUTH_TESTS_TESTING_TEMP_DIR_H_
#define JWTAUTH_TESTS_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace jwtauth::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "jwtauth-test-XXXXXX")
            .string();
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace jwtauth::testing

#endif  // JWTAUTH_TESTS_TESTING_TEMP_DIR_H_
