// train: the SageMaker entry point (the image's ENTRYPOINT). All the work is RunTrainJob's
// (launcher/train_job.h); this file parses the command line.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

#include "launcher/train_job.h"

namespace {

constexpr char kUsage[] =
    "usage: train [train]\n"
    "\n"
    "The SageMaker training entry point. Reads $SAGEMAKER_BASE_DIR (default /opt/ml)/input/config,\n"
    "runs the job's entry point (SAGEMAKER_PROGRAM or the sagemaker_program hyperparameter, from the\n"
    "code dir) with the toolkit's SM_* environment and --key value arguments, or trainrt-finetune on\n"
    "every GPU of every host when the job names no program, and writes output/success or\n"
    "output/failure. Exit code: 0, or the first failing worker's (128 + signal when killed).\n"
    "SIGTERM/SIGINT go to every worker; when they all exit 0 (trainrt-finetune checkpoints first),\n"
    "train exits 0 without output/success: the job stopped, and running it again resumes it.\n"
    "\n"
    "Environment:\n"
    "  TRAINRT_KILL_GRACE_SECONDS   forwarded SIGTERM/SIGINT to SIGKILL (default 90)\n"
    "  TRAINRT_FAILURE_STOP_SECONDS one worker failed: others SIGTERMed, SIGKILLed after this (default 30)\n"
    "  TRAINRT_MAX_RESTARTS         restarts of every worker after a failure (default 0)\n"
    "  TRAINRT_RENDEZVOUS_TIMEOUT   seconds for hosts to resolve and meet (default 300)\n"
    "  TRAINRT_LOG_PREFIX           worker line prefix, {host} {rank} {local_rank}; \"\" for none\n"
    "  TRAINRT_MASTER_PORT          port of the rendezvous store on the master host (default 7777)\n"
    "  TRAINRT_HOST_ADDRESSES       name=address,... for host names without DNS\n"
    "  TRAINRT_NPROC_PER_HOST       processes per host (default: one per GPU, else one)\n"
    "  TRAINRT_SSHD_ARGS            extra arguments for the sshd of MPI mode\n"
    "  TRAINRT_NUM_GPUS/_CPUS/_NEURONS  override the device counts\n"
    "  TRAINRT_PYTHON               interpreter for Python entry points (default python3)\n"
    "  TRAINRT_FINETUNER            the built-in fine-tuner (default: trainrt-finetune beside train)\n";

std::string SelfDir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
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
  return trainrt::launcher::RunTrainJob(trainrt::runtime::CurrentProcessEnv(), SelfDir());
}
