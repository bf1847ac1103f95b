// The process supervisor: runs a group of workers as PID 1 must. Each worker gets its own process
// group and dies with the launcher (parent-death signal); the launcher is child subreaper.
// SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 are forwarded to every worker's group at once,
// SIGKILL follows a forwarded SIGTERM/SIGINT after a grace period. When one worker fails, every
// other worker is stopped (SIGTERM, SIGKILL after failure_stop_seconds). stdout and stderr of each
// worker are drained concurrently through pipes into LogStreams. When RunWorkers returns no
// process it started, nor any of their descendants, is left.
//
// Not thread-safe: it owns the process's signal mask while it runs; call it from main().
#ifndef TRAINRT_LAUNCHER_SUPERVISOR_H_
#define TRAINRT_LAUNCHER_SUPERVISOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::launcher {

struct WorkerSpec {
  std::vector<std::string> argv;  // argv[0] searched in PATH when it has no '/'
  std::vector<std::string> env;   // "NAME=value"
  std::string cwd;                // "" keeps the launcher's
  int rank = 0;
  int local_rank = 0;
  std::string log_prefix;  // put before each console line, e.g. "[algo-1:3] "; "" for none
  std::string log_file;    // the rank's log file (created); "" for none
  std::string error_file;  // where the worker may write torchelastic-style error.json; "" for none
};

struct SuperviseOptions {
  // Seconds from a forwarded SIGTERM/SIGINT to SIGKILL. Default 90: inside SageMaker's 120 s.
  int kill_grace_seconds = 90;
  // The signal a SIGTERM/SIGINT reaches the workers as; 0: itself. mpirun SIGKILLs its ranks 2 s
  // after a SIGTERM but passes SIGUSR2 through, so MPI mode sends that.
  int stop_signal_for_workers = 0;
  // Seconds from stopping the other workers after a failure to SIGKILL (torchrun: 30).
  int failure_stop_seconds = 30;
  // Polled about every 250 ms while workers run; a non-empty answer stops them all, as a failure
  // elsewhere does (used for failures on other hosts).
  std::function<std::string()> remote_stop;
};

struct ChildExit {
  int exit_code = 0;  // valid when signal == 0
  int signal = 0;     // the signal that killed the worker, 0 when it exited

  // The shell's convention: the exit code, or 128 + signal.
  int StatusCode() const { return signal ? 128 + signal : exit_code; }
  // "exited with code 3", "was killed by signal 9 (SIGKILL)".
  std::string Describe() const;
};

struct WorkerOutcome {
  int rank = 0;
  int local_rank = 0;
  ChildExit exit;
  double exited_at = 0;                  // seconds since the epoch
  std::vector<std::string> stderr_tail;  // last stderr lines
  std::string error_message;             // from the worker's error file, "" when none
  bool likely_oom = false;               // the cgroup's OOM-kill counter rose and it died by SIGKILL
  uint64_t peak_rss_bytes = 0;           // its peak resident memory (its own, or a reaped child's if larger)
  uint64_t dev_shm_bytes = 0;            // the size of /dev/shm when it died by SIGBUS (0: other deaths)
};

struct GroupOutcome {
  std::vector<WorkerOutcome> workers;  // in spec order
  int first_failure = -1;              // index of the first worker that failed on its own, -1: none
  int forwarded_signal = 0;            // first signal forwarded to the workers, 0: none
  std::string remote_stop_reason;      // why remote_stop stopped the group, "" when it did not

  bool AllSucceeded() const;
  // The stop request (SIGTERM or SIGINT) forwarded to the workers, 0 when there was none.
  int StopSignal() const;
};

runtime::Result<GroupOutcome> RunWorkers(const std::vector<WorkerSpec>& workers, const SuperviseOptions& options);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_SUPERVISOR_H_
