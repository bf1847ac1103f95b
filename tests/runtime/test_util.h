// Helpers for tests: a scratch folder in a fresh temporary directory. POSIX only (no
// std::filesystem): trainer tests link libtorch, whose std::filesystem symbols crash ours.
#ifndef TRAINRT_TESTS_RUNTIME_TEST_UTIL_H_
#define TRAINRT_TESTS_RUNTIME_TEST_UTIL_H_

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "runtime/file_util.h"

namespace trainrt::testing {

#ifdef TRAINRT_TEST_DATA_DIR
// The fixtures folder: TRAINRT_TEST_DATA_DIR from the environment (binaries run elsewhere, as on a
// GPU machine), else the source tree's.
inline std::string TestDataDir() {
  const char* env = std::getenv("TRAINRT_TEST_DATA_DIR");
  return env != nullptr ? env : TRAINRT_TEST_DATA_DIR;
}
#endif

// A temporary directory removed (recursively) when the object goes away.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/trainrt-test-XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() { (void)runtime::RemoveTree(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `contents` to path()/relative, creating folders.
  void Write(const std::string& relative, const std::string& contents) const {
    const std::string p = path_ + "/" + relative;
    (void)runtime::MakeDirs(p.substr(0, p.rfind('/')));
    std::ofstream(p, std::ios::binary) << contents;
  }
  std::string Read(const std::string& relative) const {
    std::ifstream in(path_ + "/" + relative, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string path_;
};

}  // namespace trainrt::testing

#endif  // TRAINRT_TESTS_RUNTIME_TEST_UTIL_H_
