// RunTrainJob: everything `train` does in one container, from the contract to the verdict:
// read the config files, fill the code dir, resolve the entry point, install its dependencies,
// choose how to run it on this host (job_launch.h), run it under the supervisor (single process,
// native rendezvous, or mpirun), then write output/success or output/failure (first writer wins)
// and return the exit code: 0, or the first failing worker's (128 + signal when killed).
#ifndef TRAINRT_LAUNCHER_TRAIN_JOB_H_
#define TRAINRT_LAUNCHER_TRAIN_JOB_H_

#include <string>

#include "runtime/process_env.h"

namespace trainrt::launcher {

// `env` is this process's environment; `tools_dir` holds trainrt-finetune and trainrt.
int RunTrainJob(const runtime::EnvMap& env, const std::string& tools_dir);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_TRAIN_JOB_H_
