// MPI mode (sagemaker_mpi_enabled), as the toolkit runs it, minus its flaws. The master host
// starts sshd, checks every other host (port 22 answering as sshd), runs OpenMPI's mpirun with the
// toolkit's options and host list, and publishes the job's verdict on the launcher's store; other
// hosts start sshd and wait (bounded at first, then while the master lives) for that verdict and
// exit with it, instead of reporting success blindly. Each rank runs through `trainrt mpi-rank`,
// which gives it its own host's SM_* variables (the toolkit exports the master's to every rank)
// and torchrun's RANK/LOCAL_RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT.
//
// Stops: mpirun answers a SIGTERM by SIGKILLing every rank 2 s later, too soon for a checkpoint,
// but passes SIGUSR2 through. So the master's `train` forwards a SIGTERM/SIGINT to mpirun as
// SIGUSR2, `trainrt mpi-rank` (the ranks' parent) turns it back into SIGTERM for the program, and
// the ranks stop as they would anywhere; the other hosts' `train` hold their own SIGTERM and wait
// for the master's verdict, which says the job was stopped (exit 0, no success file).
#ifndef TRAINRT_LAUNCHER_MPI_LAUNCH_H_
#define TRAINRT_LAUNCHER_MPI_LAUNCH_H_

#include <csignal>
#include <string>
#include <vector>

#include "launcher/launch.h"
#include "runtime/job_config.h"
#include "runtime/process_env.h"
#include "runtime/status.h"

namespace trainrt::launcher {

// The mpirun command line. `host_addresses` are the distribution hosts as mpirun should reach
// them; `rank_wrapper` is the path of the trainrt tool.
runtime::Result<std::vector<std::string>> MpirunCommand(const runtime::JobConfig& job, const LaunchOptions& launch,
                                                        const std::vector<std::string>& host_addresses,
                                                        const std::string& rank_wrapper);

// Runs this host's part of an MPI job (see above).
LaunchResult RunMpiJob(const runtime::JobConfig& job, const LaunchOptions& launch,
                       const std::vector<std::string>& host_addresses, const std::string& rank_wrapper);

// How train's mpirun delivers a stop to the ranks (see above).
constexpr int kRankStopSignal = SIGUSR2;

// `trainrt mpi-rank`: runs `command` with `env` as a child and relays signals to it (a
// kRankStopSignal as SIGTERM); returns its exit code, 128 + signal when a signal ended it.
int RunMpiRank(const std::vector<std::string>& command, const runtime::EnvMap& env);

// For `trainrt mpi-rank`: this rank's environment from OpenMPI's OMPI_COMM_WORLD_* variables and
// this host's own container contract.
runtime::Result<runtime::EnvMap> MpiRankEnvironment(const runtime::EnvMap& inherited);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_MPI_LAUNCH_H_
