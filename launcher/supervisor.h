// RunSupervised: runs one program as PID 1 would have to: in its own process group, with the
// launcher as child subreaper, forwarding SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2 to the whole group,
// escalating to SIGKILL after a grace period, reaping every zombie, and leaving no process of the
// group behind when it returns. The child dies with the launcher (parent-death signal).
//
// Not thread-safe: it owns the process's signal mask while it runs; call it from main().
#ifndef TRAINRT_LAUNCHER_SUPERVISOR_H_
#define TRAINRT_LAUNCHER_SUPERVISOR_H_

#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::launcher {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] searched in PATH when it has no '/'
  std::vector<std::string> env;   // "NAME=value"
  std::string cwd;
};

struct SuperviseOptions {
  // Seconds between a forwarded SIGTERM/SIGINT and SIGKILL of the group. Default 90: inside
  // SageMaker's 120 s stop window, leaving time to upload.
  int kill_grace_seconds = 90;
};

struct ChildExit {
  int exit_code = 0;  // valid when signal == 0
  int signal = 0;     // the signal that killed the child, 0 when it exited
  int forwarded_signal = 0;  // the first signal forwarded to it, 0 when none

  // The shell's convention: the exit code, or 128 + signal.
  int StatusCode() const { return signal ? 128 + signal : exit_code; }
  // "exited with code 3", "was killed by signal 9 (SIGKILL)".
  std::string Describe() const;
};

// Runs `spec` to completion. Exec failures show as exit code 127 (not found) or 126 (not executable).
runtime::Result<ChildExit> RunSupervised(const ChildSpec& spec, const SuperviseOptions& options);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_SUPERVISOR_H_
