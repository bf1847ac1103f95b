// trainrt: the tool around the training runtime. Subcommands:
//   env     print the environment a training program gets in this container (SM_* and friends);
//   launch  run any program on every GPU of every host, torchrun-compatible;
//   local   run a job as SageMaker local mode does, without Docker (launcher/local_job.h).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "launcher/launch.h"
#include "launcher/local_job.h"
#include "launcher/mpi_launch.h"
#include "runtime/device_counts.h"
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

// The folder of this executable: `train` is installed beside it.
std::string SelfDir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
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

struct LaunchArgs {
  int nnodes = 1;
  int node_rank = 0;
  std::string nproc_per_node = "1";
  std::string master_addr = "127.0.0.1";
  int master_port = trainrt::runtime::worker::kDefaultMasterPort;
  int max_restarts = 0;
  int rdzv_timeout = 300;
  int grace = 30;
  int failure_stop = 30;
  std::string run_id = "none";
  std::string role = "default";
  std::string log_dir;
  std::string log_prefix = "auto";
  std::string host;
  std::vector<std::string> command;
};

int RunLaunchCommand(const LaunchArgs& a) {
  trainrt::launcher::LaunchOptions o;
  o.env = trainrt::runtime::CurrentProcessEnv();
  auto devices = trainrt::runtime::CountDevices(o.env, "");
  if (!devices.ok()) {
    std::fprintf(stderr, "trainrt launch: error: %s\n", devices.status().ToString().c_str());
    return 2;
  }
  if (a.nproc_per_node == "gpu") {
    o.nproc_per_node = devices->num_gpus;
  } else if (a.nproc_per_node == "cpu") {
    o.nproc_per_node = devices->num_cpus;
  } else if (a.nproc_per_node == "auto") {
    o.nproc_per_node = devices->num_gpus > 0 ? devices->num_gpus : devices->num_cpus;
  } else {
    try {
      size_t used = 0;
      o.nproc_per_node = std::stoi(a.nproc_per_node, &used);
      if (used != a.nproc_per_node.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      o.nproc_per_node = 0;
    }
  }
  if (o.nproc_per_node < 1) {
    std::fprintf(stderr, "trainrt launch: error: --nproc-per-node '%s': expected a positive integer, gpu, cpu or auto"
                 " (and at least one such device)\n", a.nproc_per_node.c_str());
    return 2;
  }
  o.argv = a.command;
  o.nnodes = a.nnodes;
  o.node_rank = a.node_rank;
  o.master_addr = a.master_addr;
  o.master_port = static_cast<uint16_t>(a.master_port);
  o.max_restarts = a.max_restarts;
  o.rendezvous_timeout_seconds = a.rdzv_timeout;
  o.supervise.kill_grace_seconds = a.grace;
  o.supervise.failure_stop_seconds = a.failure_stop;
  o.run_id = a.run_id;
  o.role = a.role;
  o.log_dir = a.log_dir;
  o.log_prefix = a.log_prefix;
  char hostname[256] = "localhost";
  gethostname(hostname, sizeof hostname - 1);
  o.host_name = a.host.empty() ? hostname : a.host;
  std::fprintf(stderr, "trainrt launch: %d host(s) x %d process(es) = world size %d, master %s:%d, node rank %d\n",
               o.nnodes, o.nproc_per_node, o.nnodes * o.nproc_per_node, o.master_addr.c_str(), a.master_port,
               o.node_rank);
  trainrt::launcher::LaunchResult r = trainrt::launcher::RunLaunch(o);
  if (r.exit_code != 0) std::fprintf(stderr, "trainrt launch: failed: %s\n", r.failure_reason.c_str());
  return r.exit_code;
}

// Runs as one MPI rank: this host's contract plus torchrun's variables, the program as a child.
int RunMpiRank(const std::vector<std::string>& command) {
  auto env = trainrt::launcher::MpiRankEnvironment(trainrt::runtime::CurrentProcessEnv());
  if (!env.ok()) {
    std::fprintf(stderr, "trainrt mpi-rank: error: %s\n", env.status().ToString().c_str());
    return 1;
  }
  return trainrt::launcher::RunMpiRank(command, *env);
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

  LaunchArgs la;
  auto* launch = app.add_subcommand(
      "launch",
      "Run a program as nnodes x nproc-per-node workers with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE, "
      "MASTER_ADDR, ...), hosting the rendezvous store for them. Usage: trainrt launch [options] -- CMD ARGS...");
  launch->add_option("--nnodes", la.nnodes, "number of hosts (default 1)")->check(CLI::PositiveNumber);
  launch->add_option("--node-rank,--node_rank", la.node_rank, "this host's rank, 0..nnodes-1 (default 0)")
      ->check(CLI::NonNegativeNumber);
  launch->add_option("--nproc-per-node,--nproc_per_node", la.nproc_per_node,
                     "workers on this host: a number, gpu, cpu or auto (default 1)");
  launch->add_option("--master-addr,--master_addr", la.master_addr, "host of node 0 (default 127.0.0.1)");
  launch->add_option("--master-port,--master_port", la.master_port,
                     "port of the rendezvous store on node 0 (default 29500; 0: any free port, single host)")
      ->check(CLI::Range(0, 65535));
  launch->add_option("--max-restarts,--max_restarts", la.max_restarts,
                     "restarts of every worker after a failure (default 0)")
      ->check(CLI::NonNegativeNumber);
  launch->add_option("--rdzv-timeout,--rdzv_timeout", la.rdzv_timeout,
                     "seconds for all hosts to meet, per attempt (default 300)")
      ->check(CLI::PositiveNumber);
  launch->add_option("--kill-grace", la.grace, "seconds from a forwarded SIGTERM/SIGINT to SIGKILL (default 30)")
      ->check(CLI::NonNegativeNumber);
  launch->add_option("--failure-stop", la.failure_stop,
                     "seconds from stopping the other workers after a failure to SIGKILL (default 30)")
      ->check(CLI::NonNegativeNumber);
  launch->add_option("--run-id,--run_id", la.run_id, "TORCHELASTIC_RUN_ID (default none)");
  launch->add_option("--role", la.role, "ROLE_NAME (default default)");
  launch->add_option("--log-dir,--log_dir", la.log_dir, "per-rank logs and error files: DIR/attempt_N/rank_R.log");
  launch->add_option("--log-prefix", la.log_prefix,
                     "line prefix with {host} {rank} {local_rank}; auto (default): \"[{host}:{rank}] \" when "
                     "there are several workers; \"\" for none");
  launch->add_option("--host", la.host, "this host's name in prefixes and reports (default: hostname)");
  launch->add_option("command", la.command, "the program and its arguments, after --")->required();

  std::vector<std::string> rank_command;
  auto* mpi_rank = app.add_subcommand(
      "mpi-rank", "Run CMD as one rank of an MPI job (what train's mpirun starts on every host): sets this host's "
                  "SM_* variables and RANK/LOCAL_RANK/WORLD_SIZE from OpenMPI's. Usage: trainrt mpi-rank -- CMD ARGS...");
  mpi_rank->add_option("command", rank_command, "the program and its arguments, after --")->required();

  trainrt::launcher::LocalJobOptions lo;
  std::vector<std::string> channels, hps;
  auto* local = app.add_subcommand(
      "local",
      "Run a training job as SageMaker local mode (instance_type local/local_gpu) does, without Docker: one /opt/ml "
      "tree per host (algo-1-xxxxx, ...), `train` per host on this machine, logs with host prefixes, then "
      "model.tar.gz and output.tar.gz in --output-path. Rerun with the same checkpoint folder to resume.");
  local->add_option("--channel", channels, "NAME=DIR (or file://DIR), repeatable: the job's input channels");
  local->add_option("--hyperparameters", lo.hyperparameters_file, "a JSON object of hyperparameters (the estimator's)");
  local->add_option("--hp", hps, "KEY=VALUE, repeatable (JSON values stay JSON, anything else is a string)");
  local->add_option("--entry-point", lo.entry_point, "the program to run, in --source-dir (default: the built-in fine-tuner)");
  local->add_option("--source-dir", lo.source_dir,
                    "folder with the entry point (inside the checkout with --git-repo); without it the entry point "
                    "file alone is the code, as the SDK uploads it");
  local->add_option("--git-repo", lo.git_repo, "clone this repository and take --source-dir/--entry-point from it");
  local->add_option("--git-branch", lo.git_branch, "branch or tag of --git-repo");
  local->add_option("--instance-type", lo.instance_type, "local (CPU only) or local_gpu (default local)")
      ->check(CLI::IsMember({"local", "local_gpu"}));
  local->add_option("--instance-count", lo.instance_count, "simulated hosts (default 1)")->check(CLI::PositiveNumber);
  local->add_option("--output-path", lo.output_path, "where model.tar.gz, output.tar.gz and failure go")->required();
  local->add_option("--checkpoint-dir", lo.checkpoint_dir,
                    "the checkpoint folder every host sees as LocalPath (default OUTPUT_PATH/checkpoints)");
  local->add_option("--job-name", lo.job_name, "TRAINING_JOB_NAME (default trainrt-local-<time>)");
  local->add_option("--max-run", lo.max_run_seconds, "seconds: SIGTERM at the limit, SIGKILL 120 s later; exit 124")
      ->check(CLI::NonNegativeNumber);
  local->add_option("--interrupt-after", lo.interrupt_after_seconds,
                    "seconds: stop the job as a spot interruption does, then start it again on the same checkpoints")
      ->check(CLI::NonNegativeNumber);
  local->add_option("--interruptions", lo.interruptions, "how many times --interrupt-after stops the job (default 1)")
      ->check(CLI::NonNegativeNumber);
  local->add_option("--env", lo.env, "NAME=VALUE for every host, repeatable");
  local->add_flag("--keep", lo.keep_work_dir, "keep the per-host /opt/ml trees (their path is printed)");

  CLI11_PARSE(app, argc, argv);
  if (local->parsed()) {
    for (const auto& list : {std::make_pair(&channels, &lo.channels), std::make_pair(&hps, &lo.hyperparameters)}) {
      for (const std::string& item : *list.first) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0) {
          std::fprintf(stderr, "trainrt local: error: '%s': expected NAME=VALUE\n", item.c_str());
          return 2;
        }
        list.second->emplace_back(item.substr(0, eq), item.substr(eq + 1));
      }
    }
    lo.train_binary = SelfDir() + "/train";
    return trainrt::launcher::RunLocalJob(lo);
  }
  if (mpi_rank->parsed()) return RunMpiRank(rank_command);
  if (env_cmd->parsed()) return RunEnv(format);
  if (launch->parsed()) return RunLaunchCommand(la);
  return 0;
}
