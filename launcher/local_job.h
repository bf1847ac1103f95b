// RunLocalJob: `trainrt local`, SageMaker SDK local mode without Docker. It lays out one /opt/ml
// tree per simulated host exactly as the SDK does for instance_type local/local_gpu (host names
// algo-<i>-<suffix>, the same three config files with the same keys, one model dir shared by the
// hosts, channels and code in place), runs `train` for each host as its own process tree on this
// machine (host names resolve to loopback through TRAINRT_HOST_ADDRESSES; the master's store on a
// free port), streams their logs with host prefixes, and writes model.tar.gz and output.tar.gz
// (and the failure reason, if any) under the output path.
//
// Around the job, what the SDK and SageMaker do: a git checkout of the code (the SDK's git_config),
// max_run (SIGTERM at the limit, SIGKILL 120 s later), and spot interruptions (--interrupt-after:
// stop the job as SageMaker does, then start it again on the same checkpoint folder).
#ifndef TRAINRT_LAUNCHER_LOCAL_JOB_H_
#define TRAINRT_LAUNCHER_LOCAL_JOB_H_

#include <string>
#include <utility>
#include <vector>

#include "runtime/status.h"

namespace trainrt::launcher {

struct LocalJobOptions {
  std::vector<std::pair<std::string, std::string>> channels;         // name -> folder (file:// allowed)
  std::vector<std::pair<std::string, std::string>> hyperparameters;  // name -> value as the user wrote it
  std::string hyperparameters_file;  // a JSON object of values (the estimator's dict)
  std::string entry_point;           // "" runs the built-in fine-tuner
  std::string source_dir;            // holds the entry point (inside the git checkout with git_repo);
                                     // "" without git_repo: the entry point file alone is the code
  std::string git_repo, git_branch;
  std::string instance_type = "local";  // local | local_gpu
  int instance_count = 1;
  std::string output_path;              // model.tar.gz, output.tar.gz, failure
  std::string checkpoint_dir;           // "" -> <output_path>/checkpoints
  std::string job_name;                 // "" -> trainrt-local-<time>
  int max_run_seconds = 0;              // 0: no limit
  int interrupt_after_seconds = 0;      // 0: no interruption
  int interruptions = 1;                // how many times --interrupt-after stops the job
  std::vector<std::string> env;         // extra NAME=value for every host
  std::string train_binary;             // the `train` to run
  bool keep_work_dir = false;
};

// The hyperparameter value as the SDK writes it (json.dumps of the value): JSON text stays JSON
// ("1" -> 1, "true" -> true), anything else is a string ("distilbert" -> "\"distilbert\"").
std::string EncodeHyperparameter(const std::string& value);

// Runs the job; returns the process exit code (0 success; 124 max_run reached) after writing the
// artifacts. Errors in the options are reported on stderr and give 2.
int RunLocalJob(const LocalJobOptions& options);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_LOCAL_JOB_H_
