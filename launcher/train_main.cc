// train: the SageMaker entry point (the image's ENTRYPOINT). It reads the container contract,
// decides how to run the job on this host (launcher/job_launch.h), runs it under the supervisor
// and reports the verdict: exit code, output/success or output/failure.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cctype>
#include <cstring>
#include <string>

#include "launcher/code_dir.h"
#include "launcher/failure_report.h"
#include "launcher/host_resolution.h"
#include "launcher/job_launch.h"
#include "launcher/launch.h"
#include "launcher/mpi_launch.h"
#include "launcher/supervisor.h"
#include "launcher/user_program.h"
#include "runtime/contract_names.h"
#include "runtime/job_config.h"
#include "runtime/file_util.h"
#include "runtime/job_outcome.h"

namespace {

using trainrt::runtime::ContainerPaths;
using trainrt::runtime::EnvMap;
namespace launcher = trainrt::launcher;

constexpr char kUsage[] =
    "usage: train [train]\n"
    "\n"
    "The SageMaker training entry point. Reads $SAGEMAKER_BASE_DIR (default /opt/ml)/input/config,\n"
    "runs the job's entry point (SAGEMAKER_PROGRAM or the sagemaker_program hyperparameter, from the\n"
    "code dir) with the toolkit's SM_* environment and --key value arguments, or trainrt-finetune on\n"
    "every GPU of every host when the job names no program, and writes output/success or\n"
    "output/failure. Exit code: 0, or the first failing worker's (128 + signal when killed).\n"
    "\n"
    "Environment:\n"
    "  TRAINRT_KILL_GRACE_SECONDS   forwarded SIGTERM/SIGINT to SIGKILL (default 90)\n"
    "  TRAINRT_FAILURE_STOP_SECONDS one worker failed: others SIGTERMed, SIGKILLed after this (default 30)\n"
    "  TRAINRT_MAX_RESTARTS         restarts of every worker after a failure (default 0)\n"
    "  TRAINRT_RENDEZVOUS_TIMEOUT   seconds for hosts to resolve and meet (default 300)\n"
    "  TRAINRT_LOG_PREFIX           worker line prefix, {host} {rank} {local_rank}; \"\" for none\n"
    "  TRAINRT_PYTHON               interpreter for Python entry points (default python3)\n"
    "  TRAINRT_FINETUNER            the built-in fine-tuner (default: trainrt-finetune beside train)\n";

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

// A non-negative integer setting from the environment; false (with `error`) when malformed.
bool IntSetting(const EnvMap& env, const char* name, int& value, std::string& error) {
  auto it = env.find(name);
  if (it == env.end()) return true;
  char* end = nullptr;
  const long v = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || v < 0 || v > 1000000) {
    error = std::string(name) + "='" + it->second + "': expected a non-negative integer";
    return false;
  }
  value = static_cast<int>(v);
  return true;
}

// SageMaker Studio's local mode has no DNS for its single host (toolkit: SM_STUDIO_LOCAL_MODE=true).
bool StudioLocalMode(const EnvMap& env) {
  std::string v = trainrt::runtime::EnvOr(env, trainrt::runtime::names::kStudioLocalModeEnv, "");
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "true";
}

// The toolkit's install step: `pip install -r requirements.txt` for a Python program that ships
// one; `pip install .` (plus its requirements.txt) for a Python package. 0, or the exit code.
int InstallDependencies(const launcher::UserProgram& program, const std::string& python,
                        const launcher::LaunchOptions& launch, const ContainerPaths& paths) {
  const bool has_requirements = trainrt::runtime::PathExists(program.cwd + "/requirements.txt");
  std::vector<std::string> argv = {python, "-m", "pip", "install"};
  if (program.kind == launcher::ProgramKind::kPythonPackage) {
    argv.push_back(".");
  } else if (program.kind != launcher::ProgramKind::kPythonProgram || !has_requirements) {
    return 0;
  }
  if (has_requirements) argv.insert(argv.end(), {"-r", "requirements.txt"});
  std::fprintf(stderr, "train: installing dependencies: %s\n", launcher::MaskedCommand(argv).c_str());
  launcher::WorkerSpec spec;
  spec.argv = argv;
  spec.cwd = program.cwd;
  spec.env = trainrt::runtime::ToEnvStrings(launch.env);
  auto outcome = launcher::RunWorkers({spec}, launch.supervise);
  if (!outcome.ok()) return Fail(paths, outcome.status().ToString(), 1);
  const launcher::WorkerOutcome& w = outcome->workers[0];
  if (w.exit.StatusCode() == 0) return 0;
  const char* kind = program.kind == launcher::ProgramKind::kPythonPackage ? "InstallModuleError"
                                                                           : "InstallRequirementsError";
  return Fail(paths,
              launcher::FailureReport(std::string(kind) + ": " + launcher::MaskedCommand(argv) + " on host " +
                                          launch.host_name,
                                      w),
              1);
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

  const trainrt::runtime::PyValue& entry = job->user_entry_point;
  if (!entry.is_none() && !(entry.is_string() && entry.string_value().empty())) {
    auto fetched = launcher::PrepareCodeDir(job->module_dir, job->paths.code_dir);
    if (!fetched.ok()) return Fail(paths, fetched.ToString(), 1);
  }
  const std::string finetuner = trainrt::runtime::EnvOr(env, "TRAINRT_FINETUNER", SelfDir() + "/trainrt-finetune");
  const std::string python = trainrt::runtime::EnvOr(env, "TRAINRT_PYTHON", "python3");
  auto program = launcher::ResolveUserProgram(*job, finetuner, python);
  if (!program.ok()) return Fail(paths, program.status().ToString(), 1);
  auto plan = launcher::PlanJobLaunch(*job, *program, env);
  if (!plan.ok()) return Fail(paths, plan.status().ToString(), 1);
  launcher::LaunchOptions& launch = plan->launch;

  std::string error;
  int rendezvous_timeout = 300;
  if (!IntSetting(env, "TRAINRT_KILL_GRACE_SECONDS", launch.supervise.kill_grace_seconds, error) ||
      !IntSetting(env, "TRAINRT_FAILURE_STOP_SECONDS", launch.supervise.failure_stop_seconds, error) ||
      !IntSetting(env, "TRAINRT_MAX_RESTARTS", launch.max_restarts, error) ||
      !IntSetting(env, "TRAINRT_RENDEZVOUS_TIMEOUT", rendezvous_timeout, error)) {
    return Fail(paths, error, 1);
  }
  launch.rendezvous_timeout_seconds = rendezvous_timeout;
  if (auto it = env.find("TRAINRT_LOG_PREFIX"); it != env.end()) launch.log_prefix = it->second;

  if (int rc = InstallDependencies(*program, python, launch, paths); rc != 0) return rc;
  std::fprintf(stderr, "train: %s\n", plan->summary.c_str());

  if (plan->mode == launcher::JobMode::kSingleProcess) {
    launcher::WorkerSpec spec;
    spec.argv = launch.argv;
    spec.cwd = launch.cwd;
    spec.env = trainrt::runtime::ToEnvStrings(launch.env);
    spec.log_file = launch.log_dir + "/rank_0.log";
    auto outcome = launcher::RunWorkers({spec}, launch.supervise);
    if (!outcome.ok()) return Fail(paths, outcome.status().ToString(), 1);
    const launcher::WorkerOutcome& w = outcome->workers[0];
    if (w.exit.StatusCode() != 0) {
      return Fail(paths,
                  launcher::FailureReport("training program " + launch.argv[0] + " on host " + job->current_host, w),
                  w.exit.StatusCode());
    }
  } else if (plan->mode == launcher::JobMode::kMpi) {
    std::vector<std::string> addresses;
    for (const auto& host : launch.host_names) {
      auto address = launcher::HostAddress(env, host);
      if (!address.ok()) return Fail(paths, address.status().ToString(), 1);
      addresses.push_back(*address);
    }
    if (launch.nnodes == 1) launch.master_addr = addresses[0] = "127.0.0.1";  // nothing leaves this host
    launcher::LaunchResult result = launcher::RunMpiJob(*job, launch, addresses, SelfDir() + "/trainrt");
    if (result.exit_code != 0) return Fail(paths, result.failure_reason, result.exit_code);
  } else {
    if (launch.nnodes == 1) {
      launch.master_addr = "127.0.0.1";  // nothing leaves this host
    } else if (!StudioLocalMode(env)) {
      std::vector<std::string> addresses;
      for (const auto& host : job->hosts) {
        auto address = launcher::HostAddress(env, host);
        if (!address.ok()) return Fail(paths, address.status().ToString(), 1);
        addresses.push_back(*address);
      }
      auto resolved = launcher::WaitForHosts(addresses, rendezvous_timeout);
      if (!resolved.ok()) return Fail(paths, resolved.ToString(), 1);
    }
    launcher::LaunchResult result = launcher::RunLaunch(launch);
    if (result.exit_code != 0) return Fail(paths, result.failure_reason, result.exit_code);
  }
  auto s = trainrt::runtime::WriteSuccessFile(paths);
  if (!s.ok()) std::fprintf(stderr, "train: cannot write success file: %s\n", s.ToString().c_str());
  std::fprintf(stderr, "train: job succeeded\n");
  return 0;
}
