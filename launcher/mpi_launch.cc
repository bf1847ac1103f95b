#include "launcher/mpi_launch.h"

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "launcher/failure_report.h"
#include "launcher/tcp_store_client.h"
#include "launcher/tcp_store_server.h"
#include "runtime/contract_names.h"
#include "runtime/file_util.h"
#include "runtime/sm_env.h"
#include "runtime/worker_protocol.h"

namespace trainrt::launcher {
namespace {

namespace names = runtime::names;
namespace worker = runtime::worker;
using Clock = std::chrono::steady_clock;
constexpr char kSshd[] = "/usr/sbin/sshd";
std::string VerdictKey() { return std::string(runtime::worker::kStoreKeyPrefix) + "mpi/verdict"; }
constexpr int kAckSeconds = 30;

template <size_t N>
bool In(const std::array<std::string_view, N>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::vector<std::string> SplitWhitespace(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// The toolkit parses custom MPI options with argparse: one known option, --NCCL_DEBUG (default
// INFO, also as --NCCL_DEBUG=X or any unambiguous prefix such as --NCCL X); the rest is passed on.
void ParseCustomMpiOptions(const std::string& options, std::string& nccl_debug, std::vector<std::string>& rest) {
  nccl_debug = "INFO";
  const std::string known = "--NCCL_DEBUG";
  const auto tokens = SplitWhitespace(options);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    const size_t eq = t.find('=');
    const std::string name = t.substr(0, eq);
    if (name.size() > 2 && name.rfind("--", 0) == 0 && known.rfind(name, 0) == 0) {
      if (eq != std::string::npos) {
        nccl_debug = t.substr(eq + 1);
      } else if (i + 1 < tokens.size()) {
        nccl_debug = tokens[++i];
      }
      continue;
    }
    rest.push_back(t);
  }
}

std::string FrameworkString(const runtime::JobConfig& job, const char* name, const std::string& fallback) {
  const runtime::PyValue* v = job.FrameworkParameter(name);
  return v == nullptr ? fallback : runtime::PythonStr(*v);
}

// Starts sshd in the foreground as our child (it dies with us); -1 when it cannot run.
// TRAINRT_SSHD_ARGS adds arguments (e.g. "-f /etc/trainrt/sshd_config"), split on whitespace.
pid_t StartSshd(const runtime::EnvMap& env, std::string& error) {
  if (access(kSshd, X_OK) != 0) {
    error = std::string(kSshd) + " is not installed: MPI across hosts needs openssh-server in the image "
            "(apt-get install openssh-server; see docker/)";
    return -1;
  }
  (void)runtime::MakeDirs("/run/sshd");
  std::vector<std::string> args = {kSshd, "-D"};
  for (auto& a : SplitWhitespace(runtime::EnvOr(env, "TRAINRT_SSHD_ARGS", ""))) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    execv(kSshd, argv.data());
    _exit(127);
  }
  if (pid < 0) error = std::string("fork for sshd: ") + std::strerror(errno);
  return pid;
}

void StopSshd(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

// "" when host:22 answers with an SSH banner, else what is wrong.
std::string SshCheck(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), "22", &hints, &res) != 0) return "does not resolve";
  std::string why = "port 22 refuses connections";
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      pollfd p{fd, POLLIN, 0};
      char banner[8] = {};
      why = poll(&p, 1, 3000) == 1 && recv(fd, banner, 4, 0) == 4 && std::memcmp(banner, "SSH-", 4) == 0
                ? ""
                : "port 22 answers but not as sshd";
    }
    close(fd);
    if (why.empty()) break;
  }
  freeaddrinfo(res);
  return why;
}

runtime::Status PreflightWorkers(const std::vector<std::string>& hosts, int timeout_seconds) {
  const auto start = Clock::now();
  auto next_report = start + std::chrono::seconds(15);
  std::vector<std::string> pending = hosts;
  while (true) {
    std::string problems;
    std::vector<std::string> still;
    for (const auto& h : pending) {
      const std::string why = SshCheck(h);
      if (!why.empty()) {
        still.push_back(h);
        problems += (problems.empty() ? "" : "; ") + h + ": " + why;
      }
    }
    if (still.empty()) return runtime::Status::Ok();
    if (Clock::now() - start >= std::chrono::seconds(timeout_seconds)) {
      return runtime::Status::Cancelled("MPI pre-flight failed after " + std::to_string(timeout_seconds) +
                                        " s: " + problems);
    }
    if (Clock::now() >= next_report) {
      std::fprintf(stderr, "train: MPI pre-flight: waiting for %s\n", problems.c_str());
      next_report = Clock::now() + std::chrono::seconds(15);
    }
    pending = still;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

LaunchResult Verdict(int code, std::string reason, int stop_signal = 0) {
  return LaunchResult{code, std::move(reason), 1, stop_signal};
}

// The master's verdict as the other hosts read it: "<exit code> <stop signal>\n<failure reason>".
std::string EncodeVerdict(const LaunchResult& r) {
  return std::to_string(r.exit_code) + " " + std::to_string(r.stop_signal) + "\n" + r.failure_reason;
}

LaunchResult DecodeVerdict(const std::string& text) {
  const size_t nl = text.find('\n');
  int code = 1, stop = 0;
  if (std::sscanf(text.substr(0, nl).c_str(), "%d %d", &code, &stop) < 1) code = 1;
  return Verdict(code, nl == std::string::npos ? "" : text.substr(nl + 1), stop);
}

// Blocks SIGTERM/SIGINT for a host that only waits for the master's verdict: SageMaker signals
// every container, but the master stops the ranks (on every host, through mpirun), and this
// container must outlive the ranks it hosts until the master has reported.
class StopSignalsHeld {
 public:
  StopSignalsHeld() {
    sigemptyset(&stops_);
    sigaddset(&stops_, SIGTERM);
    sigaddset(&stops_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stops_, &previous_);
  }
  ~StopSignalsHeld() {  // the held signals are consumed: they were answered by waiting
    const timespec now{0, 0};
    while (sigtimedwait(&stops_, nullptr, &now) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  int Pending() const {  // the first held stop signal, 0: none
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGTERM) ? SIGTERM : sigismember(&pending, SIGINT) ? SIGINT : 0;
  }

 private:
  sigset_t stops_, previous_;
};

}  // namespace

runtime::Result<std::vector<std::string>> MpirunCommand(const runtime::JobConfig& job, const LaunchOptions& l,
                                                        const std::vector<std::string>& host_addresses,
                                                        const std::string& rank_wrapper) {
  const int ppn = l.nproc_per_node;
  int np = ppn * static_cast<int>(host_addresses.size());
  if (const runtime::PyValue* total = job.FrameworkParameter(names::kMpiNumProcessesParam); total && total->Truthy()) {
    auto n = total->AsInt64();
    if (!n || *n < 1) {
      return runtime::Status::InvalidArgument(std::string("hyperparameter ") + names::kMpiNumProcessesParam + "=" +
                                              runtime::PythonStr(*total) + ": expected a positive integer");
    }
    np = static_cast<int>(*n);
  }
  std::string host_list;
  for (const auto& h : host_addresses) {
    host_list += (host_list.empty() ? "" : ",") + (ppn == 1 ? h : h + ":" + std::to_string(ppn));
  }
  std::string nccl_debug;
  std::vector<std::string> custom;
  ParseCustomMpiOptions(FrameworkString(job, names::kMpiCustomOptionsParam, ""), nccl_debug, custom);
  const std::string& nic = job.network_interface_name;
  std::vector<std::string> cmd = {
      "mpirun", "--host", host_list, "-np", std::to_string(np), "--allow-run-as-root", "--display-map",
      "--tag-output", "-mca", "btl_tcp_if_include", nic, "-mca", "oob_tcp_if_include", nic, "-mca",
      "plm_rsh_no_tree_spawn", "1", "-bind-to", "none", "-map-by", "slot", "-mca", "pml", "ob1", "-mca", "btl",
      "^openib", "-mca", "orte_abort_on_non_zero_status", "1", "-mca", "btl_vader_single_copy_mechanism", "none",
      "-x", "NCCL_MIN_NRINGS=4", "-x", "NCCL_SOCKET_IFNAME=" + nic, "-x", "NCCL_DEBUG=" + nccl_debug};
  for (const char* name : {"LD_LIBRARY_PATH", "PATH"}) {  // mpirun warns about unset ones
    if (l.env.count(name)) cmd.insert(cmd.end(), {"-x", name});
  }
  cmd.insert(cmd.end(), custom.begin(), custom.end());
  const std::string instance_type = FrameworkString(job, names::kInstanceTypeParam, job.current_instance_type);
  if (In(names::kEfaNcclInstances, instance_type)) cmd.insert(cmd.end(), {"-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple"});
  if (In(names::kEfaRdmaInstances, instance_type)) cmd.insert(cmd.end(), {"-x", "FI_EFA_USE_DEVICE_RDMA=1"});
  for (const char* credential : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
    if (l.env.count(credential)) cmd.insert(cmd.end(), {"-x", credential});
  }
  // What each rank needs to reach the launcher's store; each rank reads its own host's contract
  // (SAGEMAKER_BASE_DIR is deliberately not exported: every host has its own tree).
  cmd.insert(cmd.end(), {"-x", std::string(worker::kMasterAddrEnv) + "=" + l.master_addr, "-x",
                         std::string(worker::kMasterPortEnv) + "=" + std::to_string(l.master_port), "-x",
                         std::string(worker::kUseAgentStoreEnv) + "=True"});
  for (const auto& [name, value] : l.env) {
    if (name.rfind("TRAINRT_", 0) == 0) cmd.insert(cmd.end(), {"-x", name});
  }
  if (job.is_modelparallel_enabled.Truthy() || l.env.count(names::kMpParametersEnv)) {
    const std::string torch_version = runtime::EnvOr(l.env, names::kDlcTorchVersionEnv, "");
    if (!torch_version.empty()) {
      cmd.insert(cmd.end(), {"-x", "NCCL_PROTO=simple"});
      if (std::atoi(torch_version.c_str()) > 1) cmd.insert(cmd.end(), {"-x", "NCCL_ALGO=ring"});
    }
  }
  cmd.insert(cmd.end(), {rank_wrapper, "mpi-rank", "--"});
  cmd.insert(cmd.end(), l.argv.begin(), l.argv.end());
  return cmd;
}

LaunchResult RunMpiJob(const runtime::JobConfig& job, const LaunchOptions& l,
                       const std::vector<std::string>& host_addresses, const std::string& rank_wrapper) {
  const bool master = l.node_rank == 0;
  const bool multi_host = l.nnodes > 1;
  pid_t sshd = -1;
  if (multi_host) {
    std::string error;
    sshd = StartSshd(l.env, error);
    if (sshd < 0) return Verdict(1, error);
  }
  struct SshdGuard {
    pid_t pid;
    ~SshdGuard() { StopSshd(pid); }
  } guard{sshd};

  if (!master) {
    StopSignalsHeld held;
    auto client = TcpStoreClient::Connect(l.master_addr, l.master_port, std::chrono::seconds(l.rendezvous_timeout_seconds));
    if (!client.ok()) return Verdict(1, "cannot reach the MPI master " + l.master_addr + ": " + client.status().ToString());
    std::fprintf(stderr, "train: serving MPI ranks for master %s; waiting for its verdict\n", l.master_addr.c_str());
    bool told = false;
    auto stop_deadline = Clock::time_point::max();  // once a stop is held: the master must report by then
    while (true) {
      auto verdict = (*client)->Get(VerdictKey(), std::chrono::seconds(5));
      if (verdict.ok()) {
        (void)(*client)->Set(std::string(runtime::worker::kStoreKeyPrefix) + "mpi/ack/" + std::to_string(l.node_rank), "1");
        return DecodeVerdict(*verdict);  // the master's word, stop or not, whatever this host was sent
      }
      if (verdict.status().code() != runtime::Status::Code::kCancelled) {
        return Verdict(1, "lost the MPI master " + l.master_addr + " before it reported: " + verdict.status().ToString());
      }
      if (!told && held.Pending() != 0) {
        told = true;
        stop_deadline = Clock::now() + std::chrono::seconds(l.supervise.kill_grace_seconds + 30);
        std::fprintf(stderr, "train: received %s; the MPI master stops the ranks; waiting for its verdict\n",
                     held.Pending() == SIGINT ? "SIGINT" : "SIGTERM");
      }
      if (Clock::now() >= stop_deadline) {
        return Verdict(1, "the MPI master " + l.master_addr + " did not report within " +
                              std::to_string(l.supervise.kill_grace_seconds + 30) + " s of the stop");
      }
    }
  }

  auto server = TcpStoreServer::Start(l.master_port);
  if (!server.ok()) return Verdict(1, server.status().ToString());
  if (multi_host) {
    std::vector<std::string> workers(host_addresses.begin() + 1, host_addresses.end());
    runtime::Status ok = PreflightWorkers(workers, l.rendezvous_timeout_seconds);
    if (!ok.ok()) return Verdict(1, ok.ToString());
  }
  auto cmd = MpirunCommand(job, l, host_addresses, rank_wrapper);
  if (!cmd.ok()) return Verdict(1, cmd.status().ToString());
  WorkerSpec spec;
  spec.argv = *cmd;
  spec.cwd = l.cwd;
  spec.env = runtime::ToEnvStrings(l.env);
  if (!l.log_dir.empty()) spec.log_file = l.log_dir + "/mpirun.log";
  SuperviseOptions supervise = l.supervise;
  supervise.stop_signal_for_workers = kRankStopSignal;  // `trainrt mpi-rank` turns it back into SIGTERM
  auto outcome = RunWorkers({spec}, supervise);
  if (!outcome.ok()) return Verdict(1, outcome.status().ToString());
  const WorkerOutcome& w = outcome->workers[0];
  const int code = w.exit.StatusCode();
  LaunchResult result = Verdict(code, code == 0 ? "" : FailureReport("mpirun on host " + l.host_name, w),
                                code == 0 ? outcome->StopSignal() : 0);
  auto client = TcpStoreClient::Connect("127.0.0.1", (*server)->port(), std::chrono::seconds(10));
  if (client.ok() && multi_host) {
    (void)(*client)->Set(VerdictKey(), EncodeVerdict(result));
    std::vector<std::string> acks;
    for (int n = 1; n < l.nnodes; ++n) acks.push_back(std::string(runtime::worker::kStoreKeyPrefix) + "mpi/ack/" + std::to_string(n));
    (void)(*client)->Wait(acks, std::chrono::seconds(kAckSeconds));
  }
  return result;
}

runtime::Result<runtime::EnvMap> MpiRankEnvironment(const runtime::EnvMap& inherited) {
  auto job = runtime::JobConfig::Load(inherited);
  if (!job.ok()) return job.status();
  runtime::EnvMap env = inherited;
  for (auto& [name, value] : runtime::ProgramEnvironment(*job, inherited)) env[name] = value;
  const std::pair<const char*, const char*> ranks[] = {{worker::kOmpiRankEnv, worker::kRankEnv},
                                                       {worker::kOmpiLocalRankEnv, worker::kLocalRankEnv},
                                                       {worker::kOmpiSizeEnv, worker::kWorldSizeEnv},
                                                       {worker::kOmpiLocalSizeEnv, worker::kLocalWorldSizeEnv}};
  for (const auto& [ompi, torch] : ranks) {
    auto it = inherited.find(ompi);
    if (it == inherited.end()) {
      return runtime::Status::InvalidArgument(std::string(ompi) + " is not set: trainrt mpi-rank runs under mpirun");
    }
    env[torch] = it->second;
  }
  const int rank = std::atoi(env[worker::kRankEnv].c_str());
  const int size = std::atoi(env[worker::kWorldSizeEnv].c_str());
  const int local_size = std::max(1, std::atoi(env[worker::kLocalWorldSizeEnv].c_str()));
  env[worker::kGroupRankEnv] = std::to_string(rank / local_size);
  env[worker::kGroupWorldSizeEnv] = std::to_string((size + local_size - 1) / local_size);
  env[worker::kRoleRankEnv] = env[worker::kRankEnv];
  env[worker::kRoleWorldSizeEnv] = env[worker::kWorldSizeEnv];
  env.emplace(worker::kRoleNameEnv, "default");
  env.emplace(worker::kRestartCountEnv, "0");
  env.emplace(worker::kMaxRestartsEnv, "0");
  env.emplace(worker::kRunIdEnv, job->job_name.value_or("none"));
  // The launcher's MASTER_ADDR/MASTER_PORT (its store) win over the contract's defaults.
  for (const char* name : {worker::kMasterAddrEnv, worker::kMasterPortEnv}) {
    if (auto it = inherited.find(name); it != inherited.end()) env[name] = it->second;
  }
  return env;
}

int RunMpiRank(const std::vector<std::string>& command, const runtime::EnvMap& env) {
  // The relayed signals and SIGCHLD are held from before the fork, so none is lost; the program
  // gets the usual mask back.
  sigset_t waited, previous;
  sigemptyset(&waited);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) sigaddset(&waited, sig);
  sigprocmask(SIG_BLOCK, &waited, &previous);
  std::vector<std::string> strings = runtime::ToEnvStrings(env), args = command;
  std::vector<char*> envp, argv;
  for (auto& e : strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t wrapper = getpid();
  const pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "trainrt mpi-rank: fork: %s\n", std::strerror(errno));
    return 126;
  }
  if (child == 0) {
    // mpirun signals its ranks' process groups: the program gets a group of its own, so what
    // reaches it (and its children) is what this wrapper relays; when mpirun SIGKILLs the wrapper,
    // the program goes with it.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != wrapper) _exit(137);
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    execvpe(argv[0], argv.data(), envp.data());
    std::fprintf(stderr, "trainrt mpi-rank: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  setpgid(child, child);  // also here, so no signal can come before the group exists
  while (true) {
    const int sig = sigwaitinfo(&waited, nullptr);
    if (sig < 0) continue;  // EINTR
    if (sig != SIGCHLD) {
      kill(-child, sig == kRankStopSignal ? SIGTERM : sig);  // the program and its children
      continue;
    }
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) {
      kill(-child, SIGKILL);  // whatever the program left running in its group goes with it
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
}

}  // namespace trainrt::launcher
