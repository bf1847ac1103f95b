#include "launcher/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace trainrt::launcher {
namespace {

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
constexpr int kStragglerGraceSeconds = 5;  // after the main child exits, before SIGKILL of the rest

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

const char* SignalName(int sig) {
  const char* name = sigabbrev_np(sig);
  return name ? name : "?";
}

// PIDs whose parent is this process: our children, and orphans reparented to us as subreaper.
std::vector<pid_t> DirectChildren() {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  const pid_t self = getpid();
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300];
    std::snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE* f = std::fopen(path, "re");
    if (f == nullptr) continue;
    char buf[512];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // Format: pid (comm) state ppid ...; comm may hold spaces and parentheses, so parse after the last ')'.
    const char* close = std::strrchr(buf, ')');
    int ppid = 0;
    char state = 0;
    if (close && std::sscanf(close + 1, " %c %d", &state, &ppid) == 2 && ppid == self && state != 'Z') {
      out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
    }
  }
  closedir(proc);
  return out;
}

void ReapAll(pid_t main_pid, int& main_status, bool& main_done) {
  while (true) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == main_pid) {
      main_status = status;
      main_done = true;
    }
  }
}

[[noreturn]] void ExecChild(const ChildSpec& spec, const sigset_t& original_mask, pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(128 + SIGKILL);  // the launcher died before prctl took effect
  for (int sig : kForwardedSignals) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) {
    dprintf(2, "train: cannot enter %s: %s\n", spec.cwd.c_str(), strerror(errno));
    _exit(127);
  }
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execvpe(argv[0], argv.data(), envp.data());
  const int err = errno;
  dprintf(2, "train: cannot run %s: %s\n", argv[0], strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

}  // namespace

std::string ChildExit::Describe() const {
  if (signal) return "was killed by signal " + std::to_string(signal) + " (SIG" + SignalName(signal) + ")";
  return "exited with code " + std::to_string(exit_code);
}

runtime::Result<ChildExit> RunSupervised(const ChildSpec& spec, const SuperviseOptions& options) {
  if (spec.argv.empty()) return runtime::Status::InvalidArgument("RunSupervised: empty argv");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    std::fprintf(stderr, "train: warning: cannot become child subreaper (%s); orphans may escape\n",
                 strerror(errno));
  }
  sigset_t handled, original;
  sigemptyset(&handled);
  for (int sig : kForwardedSignals) sigaddset(&handled, sig);
  sigaddset(&handled, SIGCHLD);
  sigprocmask(SIG_BLOCK, &handled, &original);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    sigprocmask(SIG_SETMASK, &original, nullptr);
    return runtime::Status::FromErrno("fork", err);
  }
  if (pid == 0) ExecChild(spec, original, parent);
  setpgid(pid, pid);  // also in the parent, so kill(-pid) works whichever runs first

  ChildExit result;
  int main_status = 0;
  bool main_done = false;
  double kill_deadline = 0;  // when SIGKILL follows a forwarded stop signal
  while (!main_done) {
    timespec timeout = {1, 0};  // wake up at least every second: a missed SIGCHLD costs no zombie
    siginfo_t info;
    const int sig = sigtimedwait(&handled, &info, &timeout);
    if (sig > 0 && sig != SIGCHLD) {
      if (kill(-pid, sig) != 0 && errno != ESRCH) {
        std::fprintf(stderr, "train: cannot forward SIG%s: %s\n", SignalName(sig), strerror(errno));
      }
      if (result.forwarded_signal == 0) result.forwarded_signal = sig;
      if ((sig == SIGTERM || sig == SIGINT) && kill_deadline == 0) {
        kill_deadline = Now() + options.kill_grace_seconds;
      }
    }
    ReapAll(pid, main_status, main_done);
    if (!main_done && kill_deadline != 0 && Now() >= kill_deadline) {
      std::fprintf(stderr, "train: %s (pid %d) did not stop %d s after SIG%s; sending SIGKILL\n",
                   spec.argv[0].c_str(), pid, options.kill_grace_seconds, SignalName(result.forwarded_signal));
      kill(-pid, SIGKILL);
      kill_deadline = Now() + 3600;  // once
    }
  }

  // The main child is gone: stop whatever it left behind, in its group or reparented to us.
  const double straggler_deadline = Now() + kStragglerGraceSeconds;
  bool terminated = false;
  while (true) {
    std::vector<pid_t> left = DirectChildren();
    const bool group_alive = kill(-pid, 0) == 0;
    if (left.empty() && !group_alive) break;
    if (Now() >= straggler_deadline + kStragglerGraceSeconds) {
      std::fprintf(stderr, "train: warning: %zu leftover process(es) did not die after SIGKILL\n", left.size());
      break;
    }
    const bool force = Now() >= straggler_deadline;
    if (!terminated || force) {
      const int sig = force ? SIGKILL : SIGTERM;
      kill(-pid, sig);
      for (pid_t p : left) {
        if (force) std::fprintf(stderr, "train: killing leftover process %d\n", p);
        kill(p, sig);
      }
      terminated = true;
    }
    int dummy_status;
    bool dummy_done;
    ReapAll(-1, dummy_status, dummy_done);
    if (force) {
      usleep(20000);
      ReapAll(-1, dummy_status, dummy_done);
      if (DirectChildren().empty()) break;
    }
    usleep(20000);
  }
  sigprocmask(SIG_SETMASK, &original, nullptr);

  if (WIFSIGNALED(main_status)) {
    result.signal = WTERMSIG(main_status);
  } else {
    result.exit_code = WEXITSTATUS(main_status);
  }
  return result;
}

}  // namespace trainrt::launcher
