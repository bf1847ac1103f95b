// Helpers for runtime tests: a scratch /opt/ml tree in a fresh temporary directory.
#ifndef TRAINRT_TESTS_RUNTIME_TEST_UTIL_H_
#define TRAINRT_TESTS_RUNTIME_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace trainrt::testing {

// A temporary directory removed (recursively) when the object goes away.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "trainrt-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `contents` to path()/relative, creating folders.
  void Write(const std::string& relative, const std::string& contents) const {
    std::filesystem::path p = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << contents;
  }
  std::string Read(const std::string& relative) const {
    std::ifstream in(std::filesystem::path(path_) / relative, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string path_;
};

}  // namespace trainrt::testing

#endif  // TRAINRT_TESTS_RUNTIME_TEST_UTIL_H_
