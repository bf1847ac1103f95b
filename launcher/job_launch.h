// PlanJobLaunch: how `train` runs a SageMaker job on this host, decided as the toolkits decide it.
//   - no entry point: the built-in fine-tuner on every host, one process per GPU (one per host
//     without GPUs, unless TRAINRT_NPROC_PER_HOST or sagemaker_mpi_num_of_processes_per_host asks
//     for more), data parallel through trainrt's own rendezvous;
//   - a distribution flag (sagemaker_torch_distributed_enabled, sagemaker_pytorch_ddp_enabled,
//     sagemaker_distributed_dataparallel_enabled) and this host in the distribution groups:
//     sagemaker_mpi_num_of_processes_per_host, else one per GPU, else one worker per host, across
//     the distribution hosts, master = the toolkit's master_hostname, port 7777;
//   - otherwise (the toolkit's Process runner): one process on this host, on its own.
#ifndef TRAINRT_LAUNCHER_JOB_LAUNCH_H_
#define TRAINRT_LAUNCHER_JOB_LAUNCH_H_

#include <string>
#include <vector>

#include "launcher/launch.h"
#include "launcher/user_program.h"
#include "runtime/job_config.h"
#include "runtime/status.h"

namespace trainrt::launcher {

enum class JobMode { kSingleProcess, kNativeDistributed, kMpi };

struct JobLaunchPlan {
  JobMode mode = JobMode::kSingleProcess;
  LaunchOptions launch;  // argv, env, layout; for kSingleProcess only argv/env/cwd/log_dir are used
  std::string summary;   // one line: hosts x processes = world size, backend, interface, entry point, command
};

// `env` is the launcher's own environment (inherited by the workers). Two trainrt variables in it
// matter here: TRAINRT_MASTER_PORT (default 7777, the toolkit's MASTER_PORT) and
// TRAINRT_HOST_ADDRESSES ("algo-1=127.0.0.1,algo-2=10.0.0.5"), which maps host names to
// addresses for hosts without DNS (`trainrt local` runs several hosts on one machine).
runtime::Result<JobLaunchPlan> PlanJobLaunch(const runtime::JobConfig& job, const UserProgram& program,
                                             const runtime::EnvMap& env);

// The address to reach `host` at: its TRAINRT_HOST_ADDRESSES entry, else the name itself.
runtime::Result<std::string> HostAddress(const runtime::EnvMap& env, const std::string& host);

// The command line with secrets masked: values of arguments whose name mentions a password,
// secret, token, key or credential become "****".
std::string MaskedCommand(const std::vector<std::string>& argv);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_JOB_LAUNCH_H_
