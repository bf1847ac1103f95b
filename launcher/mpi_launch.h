// MPI mode (sagemaker_mpi_enabled), as the toolkit runs it, minus its flaws. The master host
// starts sshd, checks every other host (port 22 answering as sshd), runs OpenMPI's mpirun with the
// toolkit's options and host list, and publishes the job's verdict on the launcher's store; other
// hosts start sshd and wait (bounded at first, then while the master lives) for that verdict and
// exit with it, instead of reporting success blindly. Each rank runs through `trainrt mpi-rank`,
// which gives it its own host's SM_* variables (the toolkit exports the master's to every rank)
// and torchrun's RANK/LOCAL_RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT.
#ifndef TRAINRT_LAUNCHER_MPI_LAUNCH_H_
#define TRAINRT_LAUNCHER_MPI_LAUNCH_H_

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

// For `trainrt mpi-rank`: this rank's environment from OpenMPI's OMPI_COMM_WORLD_* variables and
// this host's own container contract.
runtime::Result<runtime::EnvMap> MpiRankEnvironment(const runtime::EnvMap& inherited);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_MPI_LAUNCH_H_
