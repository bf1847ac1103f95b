// trainrt-finetune: the built-in libtorch fine-tuner that `train` runs when a job names no program.
// Arguments are the job's hyperparameters (`--name value`); see trainer/finetune_args.h.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "trainer/build_info.h"
#include "trainer/finetune_args.h"
#include "trainer/train_loop.h"

namespace {

// A failure the launcher reports: one line on stderr, and torchelastic's error file when asked.
int Fail(const trainrt::runtime::EnvMap& env, const std::string& message) {
  std::fprintf(stderr, "trainrt-finetune: error: %s\n", message.c_str());
  const std::string error_file = trainrt::runtime::EnvOr(env, "TORCHELASTIC_ERROR_FILE", "");
  if (!error_file.empty()) {
    nlohmann::json j = {{"message", {{"message", "trainrt-finetune: " + message}, {"extraInfo", nlohmann::json::object()}}}};
    (void)trainrt::runtime::WriteFileAtomically(error_file, j.dump());
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "--version") {
      std::printf("trainrt-finetune 0.1.0 (%s)\n",
                  trainrt::trainer::DescribeBuildInfo(trainrt::trainer::QueryBuildInfo()).c_str());
      return 0;
    }
  }
  const auto env = trainrt::runtime::CurrentProcessEnv();
  auto parsed = trainrt::trainer::FinetuneArgs::Parse(args, env);
  if (!parsed.ok()) return Fail(env, parsed.status().ToString());
  try {
    auto status = trainrt::trainer::RunFinetune(*parsed, env);
    if (!status.ok()) return Fail(env, status.ToString());
  } catch (const c10::Error& e) {
    return Fail(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Fail(env, e.what());
  }
  return 0;
}
