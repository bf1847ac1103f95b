#include "launcher/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "launcher/log_stream.h"
#include "runtime/file_util.h"
#include "runtime/worker_protocol.h"

namespace trainrt::launcher {
namespace {

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
constexpr int kStragglerGraceSeconds = 5;  // after the workers exit, before SIGKILL of what they left
constexpr size_t kStderrTailLines = 20;
constexpr int kPollMillis = 250;

double Monotonic() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallClock() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string SignalName(int sig) {
  const char* name = sigabbrev_np(sig);
  return std::string("SIG") + (name ? name : "?");
}

// The OOM-kill counter of this process's memory cgroup (inherited by the workers): cgroup v2
// memory.events or v1 memory.oom_control, found through /proc/self/cgroup, else at the mount's
// root (a container's own cgroup namespace). -1 when unknown.
long OomKillCount() {
  std::vector<std::string> files;
  std::ifstream self("/proc/self/cgroup");
  std::string line;
  while (std::getline(self, line)) {  // "id:controllers:path"
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controllers.empty()) {
      files.push_back("/sys/fs/cgroup" + path + "/memory.events");
      files.push_back("/sys/fs/cgroup/unified" + path + "/memory.events");
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      files.push_back("/sys/fs/cgroup/memory" + path + "/memory.oom_control");
    }
  }
  files.push_back("/sys/fs/cgroup/memory.events");
  files.push_back("/sys/fs/cgroup/memory/memory.oom_control");
  for (const std::string& path : files) {
    std::ifstream in(path);
    std::string key;
    long value;
    while (in >> key >> value) {
      if (key == "oom_kill") return value;
    }
  }
  return -1;
}

// The "message" of a torchelastic error file: {"message": {"message": ...}} or {"message": "..."}.
std::string ReadErrorFile(const std::string& path) {
  if (path.empty()) return "";
  auto text = runtime::ReadFileToString(path);
  if (!text.ok()) return "";
  return runtime::worker::ErrorFileMessage(*text);
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
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
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

[[noreturn]] void ExecWorker(const WorkerSpec& spec, const sigset_t& original_mask, pid_t parent, int out_fd,
                             int err_fd) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(128 + SIGKILL);  // the launcher died before prctl took effect
  if (out_fd >= 0) dup2(out_fd, STDOUT_FILENO);
  if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
  for (int sig : kForwardedSignals) signal(sig, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
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

struct Running {
  pid_t pid = -1;
  bool exited = false;
  int out_fd = -1;
  int err_fd = -1;
  FILE* log = nullptr;
  std::unique_ptr<LogStream> out;
  std::unique_ptr<LogStream> err;
};

// Reads what is available on `fd` into `stream`; closes fd (and sets it to -1) at EOF.
void Drain(int& fd, LogStream& stream) {
  char buf[65536];
  while (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      stream.Feed(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    stream.Finish();
    close(fd);
    fd = -1;
  }
}

// Stops whatever the workers left behind: their groups and any orphan reparented to us.
void StopLeftovers(const std::vector<Running>& workers) {
  const double deadline = Monotonic() + kStragglerGraceSeconds;
  bool terminated = false;
  while (true) {
    std::vector<pid_t> left = DirectChildren();
    bool group_alive = false;
    for (const auto& w : workers) group_alive = group_alive || kill(-w.pid, 0) == 0;
    if (left.empty() && !group_alive) return;
    if (Monotonic() >= deadline + kStragglerGraceSeconds) {
      std::fprintf(stderr, "train: warning: %zu leftover process(es) did not die after SIGKILL\n", left.size());
      return;
    }
    const bool force = Monotonic() >= deadline;
    if (!terminated || force) {
      const int sig = force ? SIGKILL : SIGTERM;
      for (const auto& w : workers) kill(-w.pid, sig);
      for (pid_t p : left) {
        if (force) std::fprintf(stderr, "train: killing leftover process %d\n", p);
        kill(p, sig);
      }
      terminated = true;
    }
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    usleep(20000);
  }
}

}  // namespace

std::string ChildExit::Describe() const {
  if (signal) return "was killed by signal " + std::to_string(signal) + " (" + SignalName(signal) + ")";
  return "exited with code " + std::to_string(exit_code);
}

int GroupOutcome::StopSignal() const {
  return forwarded_signal == SIGTERM || forwarded_signal == SIGINT ? forwarded_signal : 0;
}

bool GroupOutcome::AllSucceeded() const {
  for (const auto& w : workers) {
    if (w.exit.StatusCode() != 0) return false;
  }
  return !workers.empty();
}

runtime::Result<GroupOutcome> RunWorkers(const std::vector<WorkerSpec>& specs, const SuperviseOptions& options) {
  if (specs.empty()) return runtime::Status::InvalidArgument("no workers to run");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    std::fprintf(stderr, "train: warning: cannot become child subreaper (%s); orphans may escape\n", strerror(errno));
  }
  sigset_t handled, original;
  sigemptyset(&handled);
  for (int sig : kForwardedSignals) sigaddset(&handled, sig);
  sigaddset(&handled, SIGCHLD);
  sigprocmask(SIG_BLOCK, &handled, &original);
  const int sfd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    const int err = errno;
    sigprocmask(SIG_SETMASK, &original, nullptr);
    return runtime::Status::FromErrno("signalfd", err);
  }
  const long oom_before = OomKillCount();

  GroupOutcome outcome;
  std::vector<Running> running(specs.size());
  const pid_t parent = getpid();
  // A failure while starting the group stops what already started and gives the mask back.
  auto abort_start = [&](const char* what, int err) {
    for (auto& r : running) {
      if (r.pid > 0) {
        kill(-r.pid, SIGKILL);
        waitpid(r.pid, nullptr, 0);
      }
      if (r.out_fd >= 0) close(r.out_fd);
      if (r.err_fd >= 0) close(r.err_fd);
      if (r.log != nullptr) std::fclose(r.log);
    }
    close(sfd);
    sigprocmask(SIG_SETMASK, &original, nullptr);
    return runtime::Status::FromErrno(what, err);
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    const WorkerSpec& spec = specs[i];
    Running& r = running[i];
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) return abort_start("pipe", errno);
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
      const int err = errno;
      close(out_pipe[0]);
      close(out_pipe[1]);
      return abort_start("pipe", err);
    }
    if (!spec.log_file.empty()) {
      (void)runtime::MakeDirs(spec.log_file.substr(0, spec.log_file.rfind('/')));
      r.log = std::fopen(spec.log_file.c_str(), "ae");
    }
    if (!spec.error_file.empty()) {
      (void)runtime::MakeDirs(spec.error_file.substr(0, spec.error_file.rfind('/')));
      unlink(spec.error_file.c_str());
    }
    r.out = std::make_unique<LogStream>(spec.log_prefix, stdout, r.log, 0);
    r.err = std::make_unique<LogStream>(spec.log_prefix, stderr, r.log, kStderrTailLines);
    r.pid = fork();
    if (r.pid < 0) {
      const int err = errno;
      for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
      return abort_start("fork", err);
    }
    if (r.pid == 0) ExecWorker(spec, original, parent, out_pipe[1], err_pipe[1]);
    setpgid(r.pid, r.pid);  // also here, so kill(-pid) works whichever runs first
    close(out_pipe[1]);
    close(err_pipe[1]);
    r.out_fd = out_pipe[0];
    r.err_fd = err_pipe[0];
    fcntl(r.out_fd, F_SETFL, O_NONBLOCK);
    fcntl(r.err_fd, F_SETFL, O_NONBLOCK);
    WorkerOutcome w;
    w.rank = spec.rank;
    w.local_rank = spec.local_rank;
    outcome.workers.push_back(w);
  }

  auto signal_all = [&](int sig) {
    for (const auto& r : running) {
      if (!r.exited) kill(-r.pid, sig);
    }
  };
  double kill_deadline = 0;  // when SIGKILL follows a stop, 0: none pending
  bool stopping = false;
  auto stop_all = [&](int seconds) {
    if (stopping) return;
    stopping = true;
    signal_all(SIGTERM);
    kill_deadline = Monotonic() + seconds;
  };
  double next_remote_poll = Monotonic();
  size_t alive = running.size();

  while (alive > 0) {
    std::vector<pollfd> fds = {{sfd, POLLIN, 0}};
    std::vector<std::pair<int*, LogStream*>> streams;
    for (auto& r : running) {
      if (r.out_fd >= 0) {
        fds.push_back({r.out_fd, POLLIN, 0});
        streams.emplace_back(&r.out_fd, r.out.get());
      }
      if (r.err_fd >= 0) {
        fds.push_back({r.err_fd, POLLIN, 0});
        streams.emplace_back(&r.err_fd, r.err.get());
      }
    }
    poll(fds.data(), fds.size(), kPollMillis);
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents) Drain(*streams[i - 1].first, *streams[i - 1].second);
    }
    signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == sizeof si) {
      const int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGCHLD) continue;
      const bool stop = sig == SIGTERM || sig == SIGINT;
      const int sent = stop && options.stop_signal_for_workers != 0 ? options.stop_signal_for_workers : sig;
      std::fprintf(stderr, "train: received %s, forwarding it to %zu worker(s)%s\n", SignalName(sig).c_str(), alive,
                   sent == sig ? "" : (" as " + SignalName(sent)).c_str());
      signal_all(sent);
      if (outcome.forwarded_signal == 0) outcome.forwarded_signal = sig;
      if (stop && kill_deadline == 0) {
        stopping = true;
        kill_deadline = Monotonic() + options.kill_grace_seconds;
      }
    }
    // Reap: workers by pid, anything else (reparented orphans) silently.
    while (true) {
      int status = 0;
      struct rusage usage = {};
      pid_t pid = wait4(-1, &status, WNOHANG, &usage);
      if (pid <= 0) break;
      for (size_t i = 0; i < running.size(); ++i) {
        if (running[i].pid != pid || running[i].exited) continue;
        running[i].exited = true;
        --alive;
        WorkerOutcome& w = outcome.workers[i];
        w.exited_at = WallClock();
        w.peak_rss_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux counts KiB
        if (WIFSIGNALED(status)) {
          w.exit.signal = WTERMSIG(status);
        } else {
          w.exit.exit_code = WEXITSTATUS(status);
        }
        // A SIGBUS is most often a full /dev/shm (PyTorch DataLoader workers pass batches through
        // it; Docker gives 64 MiB): its size goes in the report.
        struct statvfs shm;
        if (w.exit.signal == SIGBUS && statvfs("/dev/shm", &shm) == 0) {
          w.dev_shm_bytes = static_cast<uint64_t>(shm.f_blocks) * shm.f_frsize;
        }
        if (w.exit.StatusCode() != 0 && !stopping && outcome.first_failure < 0) {
          outcome.first_failure = static_cast<int>(i);
          if (alive > 0) {
            std::fprintf(stderr, "train: rank %d %s; stopping the other %zu worker(s)\n", w.rank,
                         w.exit.Describe().c_str(), alive);
          }
          stop_all(options.failure_stop_seconds);
        }
      }
    }
    if (alive > 0 && !stopping && options.remote_stop && Monotonic() >= next_remote_poll) {
      next_remote_poll = Monotonic() + kPollMillis / 1000.0;
      std::string reason = options.remote_stop();
      if (!reason.empty()) {
        outcome.remote_stop_reason = reason;
        std::fprintf(stderr, "train: %s; stopping %zu local worker(s)\n", reason.c_str(), alive);
        stop_all(options.failure_stop_seconds);
      }
    }
    if (alive > 0 && kill_deadline != 0 && Monotonic() >= kill_deadline) {
      for (size_t i = 0; i < running.size(); ++i) {
        if (!running[i].exited) {
          std::fprintf(stderr, "train: rank %d (pid %d) did not stop in time; sending SIGKILL\n", outcome.workers[i].rank,
                       running[i].pid);
        }
      }
      signal_all(SIGKILL);
      kill_deadline = Monotonic() + 3600;  // once
    }
  }

  // Every worker is gone: take what is left in the pipes (descendants may keep them open), then
  // stop the descendants.
  for (auto& r : running) {
    Drain(r.out_fd, *r.out);
    Drain(r.err_fd, *r.err);
    r.out->Finish();
    r.err->Finish();
    if (r.out_fd >= 0) close(r.out_fd);
    if (r.err_fd >= 0) close(r.err_fd);
  }
  StopLeftovers(running);
  close(sfd);
  sigprocmask(SIG_SETMASK, &original, nullptr);

  const long oom_after = OomKillCount();
  for (size_t i = 0; i < running.size(); ++i) {
    WorkerOutcome& w = outcome.workers[i];
    w.stderr_tail = running[i].err->Tail();
    w.error_message = ReadErrorFile(specs[i].error_file);
    w.likely_oom = w.exit.signal == SIGKILL && oom_before >= 0 && oom_after > oom_before;
    if (running[i].log) std::fclose(running[i].log);
  }
  return outcome;
}

}  // namespace trainrt::launcher
