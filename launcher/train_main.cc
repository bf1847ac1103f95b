// train: the SageMaker entry point (the image's ENTRYPOINT). It reads the container contract,
// runs the job's program (the user's entry point, or the built-in fine-tuner when the job names
// none) under a supervisor, and reports the verdict: exit code, output/success or output/failure.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

#include "launcher/supervisor.h"
#include "launcher/user_program.h"
#include "runtime/job_config.h"
#include "runtime/job_outcome.h"
#include "runtime/sm_env.h"

namespace {

using trainrt::launcher::ChildSpec;
using trainrt::runtime::ContainerPaths;
using trainrt::runtime::EnvMap;

constexpr char kUsage[] =
    "usage: train [train]\n"
    "\n"
    "The SageMaker training entry point. Reads $SAGEMAKER_BASE_DIR (default /opt/ml)/input/config,\n"
    "runs the job's entry point (SAGEMAKER_PROGRAM or the sagemaker_program hyperparameter, from the\n"
    "code dir) with the toolkit's SM_* environment and --key value arguments, or trainrt-finetune when\n"
    "the job names no program, and writes output/success or output/failure.\n"
    "\n"
    "Environment: TRAINRT_KILL_GRACE_SECONDS (default 90) between a forwarded SIGTERM and SIGKILL;\n"
    "TRAINRT_PYTHON (default python3) for Python entry points; TRAINRT_FINETUNER (default: the\n"
    "trainrt-finetune beside this binary).\n";

std::string SelfDir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

int Fail(const ContainerPaths& paths, const std::string& reason, int code) {
  std::fprintf(stderr, "train: error: %s\n", reason.c_str());
  auto s = trainrt::runtime::WriteFailureFile(paths, reason);
  if (!s.ok()) std::fprintf(stderr, "train: cannot write failure file: %s\n", s.ToString().c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    // SageMaker runs `docker run IMAGE train`: with this binary as ENTRYPOINT, "train" is argv[1].
    if (std::strcmp(argv[i], "train") != 0) {
      std::fprintf(stderr, "train: unexpected argument '%s'\n%s", argv[i], kUsage);
      return 2;
    }
  }
  const EnvMap env = trainrt::runtime::CurrentProcessEnv();
  const ContainerPaths paths = ContainerPaths::FromEnv(env);
  auto job = trainrt::runtime::JobConfig::Load(env);
  if (!job.ok()) return Fail(paths, job.status().ToString(), 1);

  const std::string finetuner = trainrt::runtime::EnvOr(env, "TRAINRT_FINETUNER", SelfDir() + "/trainrt-finetune");
  const std::string python = trainrt::runtime::EnvOr(env, "TRAINRT_PYTHON", "python3");
  auto program = trainrt::launcher::ResolveUserProgram(*job, finetuner, python);
  if (!program.ok()) return Fail(paths, program.status().ToString(), 1);

  EnvMap child_env = env;
  for (auto& [name, value] : trainrt::runtime::ProgramEnvironment(*job, env)) child_env[name] = value;

  trainrt::launcher::SuperviseOptions options;
  const std::string grace = trainrt::runtime::EnvOr(env, "TRAINRT_KILL_GRACE_SECONDS", "");
  if (!grace.empty()) {
    char* end = nullptr;
    long v = std::strtol(grace.c_str(), &end, 10);
    if (*end != '\0' || v < 0) return Fail(paths, "TRAINRT_KILL_GRACE_SECONDS='" + grace + "': expected seconds", 1);
    options.kill_grace_seconds = static_cast<int>(v);
  }

  std::fprintf(stderr, "train: host %s (%zu host(s)), %s: %s, cwd %s\n", job->current_host.c_str(), job->hosts.size(),
               trainrt::launcher::ProgramKindName(program->kind), program->argv[0].c_str(), program->cwd.c_str());
  ChildSpec spec{program->argv, trainrt::runtime::ToEnvStrings(child_env), program->cwd};
  auto exit = trainrt::launcher::RunSupervised(spec, options);
  if (!exit.ok()) return Fail(paths, exit.status().ToString(), 1);
  if (exit->StatusCode() == 0) {
    auto s = trainrt::runtime::WriteSuccessFile(paths);
    if (!s.ok()) std::fprintf(stderr, "train: cannot write success file: %s\n", s.ToString().c_str());
    std::fprintf(stderr, "train: job succeeded\n");
    return 0;
  }
  return Fail(paths,
              "training program " + program->argv[0] + " on host " + job->current_host + " " + exit->Describe(),
              exit->StatusCode());
}
