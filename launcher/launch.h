// RunLaunch: the torchrun-compatible launcher that `train` and `trainrt launch` share. Each host
// runs one launcher; node 0's launcher hosts the rendezvous store (c10d TCPStore protocol) at
// master_addr:master_port, the others meet it over TCP (no ssh). Every attempt, all hosts pass a
// bounded barrier, start nproc_per_node workers each with torchrun's variables, and watch them:
// a failure anywhere stops every worker on every host; with restarts left the whole job starts
// again; otherwise every host exits with the first failing rank's code and the same reason.
#ifndef TRAINRT_LAUNCHER_LAUNCH_H_
#define TRAINRT_LAUNCHER_LAUNCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "launcher/supervisor.h"
#include "runtime/process_env.h"
#include "runtime/worker_protocol.h"

namespace trainrt::launcher {

struct LaunchOptions {
  std::vector<std::string> argv;  // the worker program and its arguments
  runtime::EnvMap env;            // every worker's base environment
  std::string cwd;                // "" keeps the launcher's
  int nnodes = 1;
  int node_rank = 0;
  int nproc_per_node = 1;
  std::string master_addr = "127.0.0.1";
  uint16_t master_port = runtime::worker::kDefaultMasterPort;  // 0 (single node only): any free port
  int max_restarts = 0;
  std::string run_id = "none";
  std::string role = "default";
  std::string host_name;                  // this host, for log prefixes and reports
  std::vector<std::string> host_names;    // every node's name by node rank, for reports ("" -> "node N")
  std::string log_prefix = "auto";        // "auto": "[{host}:{rank}] " when world size > 1; "" none
  std::string log_dir;                    // per-rank logs and error files; "" none
  int rendezvous_timeout_seconds = 300;   // for hosts to meet, each attempt
  SuperviseOptions supervise;
};

struct LaunchResult {
  int exit_code = 0;           // 0, or the first failing rank's code (128 + signal)
  std::string failure_reason;  // "" on success
  int attempts = 0;
  int stop_signal = 0;         // SIGTERM/SIGINT this host received and forwarded to its workers, else 0
};

LaunchResult RunLaunch(const LaunchOptions& options);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_LAUNCH_H_
