// trainrt: the tool around the training runtime. Subcommands:
//   env   print the environment a training program gets in this container (SM_* and friends).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "runtime/job_config.h"
#include "runtime/sm_env.h"

namespace {

bool IsShellName(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int RunEnv(const std::string& format) {
  const auto env = trainrt::runtime::CurrentProcessEnv();
  auto job = trainrt::runtime::JobConfig::Load(env);
  if (!job.ok()) {
    std::fprintf(stderr, "trainrt env: error: %s\n", job.status().ToString().c_str());
    return 1;
  }
  const auto vars = trainrt::runtime::ProgramEnvironment(*job, env);
  if (format == "json") {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& [name, value] : vars) out[name] = value;
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  for (const auto& [name, value] : vars) {
    if (IsShellName(name)) {
      std::printf("export %s=%s\n", name.c_str(), ShellQuote(value).c_str());
    } else {
      std::printf("# not a shell variable name, set only in the program's environment: %s\n", name.c_str());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"trainrt: the SageMaker training runtime, launcher and fine-tuner tool"};
  app.require_subcommand(1);
  std::string format = "shell";
  auto* env_cmd = app.add_subcommand(
      "env", "Print the environment a training program gets in this container (reads $SAGEMAKER_BASE_DIR)");
  env_cmd->add_option("--format", format, "shell (export lines, default) or json")
      ->check(CLI::IsMember({"shell", "json"}));
  CLI11_PARSE(app, argc, argv);
  if (env_cmd->parsed()) return RunEnv(format);
  return 0;
}
