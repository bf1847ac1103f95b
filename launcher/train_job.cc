#include "launcher/train_job.h"

#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "launcher/code_dir.h"
#include "launcher/failure_report.h"
#include "launcher/host_resolution.h"
#include "launcher/job_launch.h"
#include "launcher/launch.h"
#include "launcher/mpi_launch.h"
#include "launcher/supervisor.h"
#include "launcher/user_program.h"
#include "runtime/contract_names.h"
#include "runtime/file_util.h"
#include "runtime/job_config.h"
#include "runtime/job_outcome.h"

namespace trainrt::launcher {
namespace {

using runtime::EnvMap;

struct Verdict {
  int code = 0;
  std::string reason;  // "" on success
  int stop_signal = 0;  // the job was stopped (SIGTERM/SIGINT forwarded to the workers)
};

Verdict Failure(int code, std::string reason) { return Verdict{code, std::move(reason)}; }

// A non-negative integer setting from the environment into `value` (kept when unset).
runtime::Status IntSetting(const EnvMap& env, const char* name, int& value) {
  auto v = runtime::EnvInt(env, name, value, 0, 1000000, "a non-negative integer");
  if (!v.ok()) return v.status();
  value = *v;
  return runtime::Status::Ok();
}

// SageMaker Studio's local mode has no DNS for its single host (toolkit: SM_STUDIO_LOCAL_MODE=true).
bool StudioLocalMode(const EnvMap& env) {
  std::string v = runtime::EnvOr(env, runtime::names::kStudioLocalModeEnv, "");
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "true";
}

runtime::Result<std::vector<std::string>> Addresses(const EnvMap& env, const std::vector<std::string>& hosts) {
  std::vector<std::string> out;
  for (const auto& host : hosts) {
    auto address = HostAddress(env, host);
    if (!address.ok()) return address.status();
    out.push_back(*address);
  }
  return out;
}

// The toolkit's install step: `pip install -r requirements.txt` for a Python program that ships
// one; `pip install .` (plus its requirements.txt) for a Python package.
Verdict InstallDependencies(const UserProgram& program, const std::string& python, const LaunchOptions& launch) {
  const bool has_requirements = runtime::PathExists(program.cwd + "/requirements.txt");
  std::vector<std::string> argv = {python, "-m", "pip", "install"};
  if (program.kind == ProgramKind::kPythonPackage) {
    argv.push_back(".");
  } else if (program.kind != ProgramKind::kPythonProgram || !has_requirements) {
    return {};
  }
  if (has_requirements) argv.insert(argv.end(), {"-r", "requirements.txt"});
  std::fprintf(stderr, "train: installing dependencies: %s\n", MaskedCommand(argv).c_str());
  WorkerSpec spec;
  spec.argv = argv;
  spec.cwd = program.cwd;
  spec.env = runtime::ToEnvStrings(launch.env);
  auto outcome = RunWorkers({spec}, launch.supervise);
  if (!outcome.ok()) return Failure(1, outcome.status().ToString());
  const WorkerOutcome& w = outcome->workers[0];
  if (w.exit.StatusCode() == 0) return {};
  const char* kind = program.kind == ProgramKind::kPythonPackage ? "InstallModuleError" : "InstallRequirementsError";
  return Failure(1, FailureReport(std::string(kind) + ": " + MaskedCommand(argv) + " on host " + launch.host_name, w));
}

Verdict RunSingleProcess(const LaunchOptions& launch) {
  WorkerSpec spec;
  spec.argv = launch.argv;
  spec.cwd = launch.cwd;
  spec.env = runtime::ToEnvStrings(launch.env);
  spec.log_file = launch.log_dir + "/rank_0.log";
  auto outcome = RunWorkers({spec}, launch.supervise);
  if (!outcome.ok()) return Failure(1, outcome.status().ToString());
  const WorkerOutcome& w = outcome->workers[0];
  if (w.exit.StatusCode() == 0) return Verdict{0, "", outcome->StopSignal()};
  return Failure(w.exit.StatusCode(),
                 FailureReport("training program " + launch.argv[0] + " on host " + launch.host_name, w));
}

Verdict Execute(const EnvMap& env, const std::string& tools_dir) {
  auto job = runtime::JobConfig::Load(env);
  if (!job.ok()) return Failure(1, job.status().ToString());
  const runtime::PyValue& entry = job->user_entry_point;
  if (!entry.is_none() && !(entry.is_string() && entry.string_value().empty())) {
    runtime::Status fetched = PrepareCodeDir(job->module_dir, job->paths.code_dir);
    if (!fetched.ok()) return Failure(1, fetched.ToString());
  }
  const std::string python = runtime::EnvOr(env, "TRAINRT_PYTHON", "python3");
  auto program =
      ResolveUserProgram(*job, runtime::EnvOr(env, "TRAINRT_FINETUNER", tools_dir + "/trainrt-finetune"), python);
  if (!program.ok()) return Failure(1, program.status().ToString());
  auto plan = PlanJobLaunch(*job, *program, env);
  if (!plan.ok()) return Failure(1, plan.status().ToString());
  LaunchOptions& launch = plan->launch;

  for (auto [name, field] : {std::pair<const char*, int*>{"TRAINRT_KILL_GRACE_SECONDS", &launch.supervise.kill_grace_seconds},
                              {"TRAINRT_FAILURE_STOP_SECONDS", &launch.supervise.failure_stop_seconds},
                              {"TRAINRT_MAX_RESTARTS", &launch.max_restarts},
                              {"TRAINRT_RENDEZVOUS_TIMEOUT", &launch.rendezvous_timeout_seconds}}) {
    runtime::Status s = IntSetting(env, name, *field);
    if (!s.ok()) return Failure(1, s.ToString());
  }
  if (auto it = env.find(runtime::names::kLogPrefixEnv); it != env.end()) launch.log_prefix = it->second;

  Verdict installed = InstallDependencies(*program, python, launch);
  if (installed.code != 0) return installed;
  std::fprintf(stderr, "train: %s\n", plan->summary.c_str());

  switch (plan->mode) {
    case JobMode::kSingleProcess:
      return RunSingleProcess(launch);
    case JobMode::kMpi: {
      auto addresses = Addresses(env, launch.host_names);
      if (!addresses.ok()) return Failure(1, addresses.status().ToString());
      if (launch.nnodes == 1) launch.master_addr = (*addresses)[0] = "127.0.0.1";  // nothing leaves this host
      LaunchResult r = RunMpiJob(*job, launch, *addresses, tools_dir + "/trainrt");
      return Verdict{r.exit_code, r.failure_reason, r.exit_code == 0 ? r.stop_signal : 0};
    }
    case JobMode::kNativeDistributed: {
      if (launch.nnodes == 1) {
        launch.master_addr = "127.0.0.1";  // nothing leaves this host
      } else if (!StudioLocalMode(env)) {
        auto addresses = Addresses(env, job->hosts);
        if (!addresses.ok()) return Failure(1, addresses.status().ToString());
        runtime::Status resolved = WaitForHosts(*addresses, launch.rendezvous_timeout_seconds);
        if (!resolved.ok()) return Failure(1, resolved.ToString());
      }
      LaunchResult r = RunLaunch(launch);
      return Verdict{r.exit_code, r.failure_reason, r.exit_code == 0 ? r.stop_signal : 0};
    }
  }
  return Failure(1, "unknown launch mode");
}

}  // namespace

int RunTrainJob(const EnvMap& env, const std::string& tools_dir) {
  const Verdict verdict = Execute(env, tools_dir);
  const runtime::ContainerPaths paths = runtime::ContainerPaths::FromEnv(env);
  if (verdict.code == 0 && verdict.stop_signal != 0) {
    // Stopped (spot interruption, StopTrainingJob, max_run) and every worker exited cleanly, having
    // checkpointed: not a failure, and not a finished job either, so no success file.
    std::fprintf(stderr, "train: job stopped by %s; every worker exited cleanly (run it again to resume)\n",
                 verdict.stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
  }
  if (verdict.code == 0) {
    runtime::Status s = runtime::WriteSuccessFile(paths);
    if (!s.ok()) std::fprintf(stderr, "train: cannot write the success file: %s\n", s.ToString().c_str());
    std::fprintf(stderr, "train: job succeeded\n");
    return 0;
  }
  std::fprintf(stderr, "train: error: %s\n", verdict.reason.c_str());
  runtime::Status s = runtime::WriteFailureFile(paths, verdict.reason);
  if (!s.ok()) std::fprintf(stderr, "train: cannot write the failure file: %s\n", s.ToString().c_str());
  return verdict.code;
}

}  // namespace trainrt::launcher
