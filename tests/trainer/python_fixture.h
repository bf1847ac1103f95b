// PythonFixture: a scratch folder filled once per test suite by one of the project's Python
// scripts (run with the project venv's interpreter, which has the peers installed), and the
// expected.json the script writes there.
#ifndef TRAINRT_TESTS_TRAINER_PYTHON_FIXTURE_H_
#define TRAINRT_TESTS_TRAINER_PYTHON_FIXTURE_H_

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/runtime/test_util.h"

namespace trainrt::testing {

class PythonFixture {
 public:
  // Runs `script` (relative to the source tree) with the scratch folder as its argument.
  explicit PythonFixture(const std::string& script) {
    const std::string cmd = std::string(TRAINRT_PYTHON) + " " + TRAINRT_SOURCE_DIR + "/" + script + " " +
                            dir_.path() + " 2>/dev/null";
    ok_ = std::system(cmd.c_str()) == 0;
    if (ok_) {
      std::ifstream in(dir_.path() + "/expected.json");
      expected_ = nlohmann::json::parse(in);
    }
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return dir_.path(); }
  const nlohmann::json& expected() const { return expected_; }

 private:
  ScratchDir dir_;
  bool ok_ = false;
  nlohmann::json expected_;
};

}  // namespace trainrt::testing

#endif  // TRAINRT_TESTS_TRAINER_PYTHON_FIXTURE_H_
