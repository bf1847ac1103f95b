// The supervisor with real processes: exit codes, signals forwarded to the whole group, SIGKILL
// after the grace period, and no process left behind.
#include "launcher/supervisor.h"

#include <signal.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

namespace trainrt::launcher {
namespace {

using Clock = std::chrono::steady_clock;

WorkerSpec Worker(std::vector<std::string> argv, int rank = 0) {
  WorkerSpec w;
  w.argv = std::move(argv);
  w.env = {"PATH=/usr/bin:/bin"};
  w.rank = rank;
  w.local_rank = rank;
  return w;
}

ChildExit RunChild(std::vector<std::string> argv) {
  auto r = RunWorkers({Worker(std::move(argv))}, SuperviseOptions{});
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->workers[0].exit : ChildExit{};
}


bool WaitForFile(const std::string& path, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (access(path.c_str(), F_OK) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool ProcessAlive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_s, comm, state;
  stat >> pid_s >> comm >> state;
  return state != "Z";
}

// Runs RunSupervised in a forked process (as `train` would run it) and returns that process's pid.
pid_t StartSupervisor(const std::string& script, int grace) {
  pid_t pid = fork();
  if (pid == 0) {
    SuperviseOptions options;
    options.kill_grace_seconds = grace;
    auto r = RunWorkers({Worker({"/bin/sh", "-c", script})}, options);
    _exit(r.ok() ? r->workers[0].exit.StatusCode() : 255);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(Supervisor, PropagatesExitCode) {
  ChildExit e = RunChild({"/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(e.exit_code, 7);
  EXPECT_EQ(e.signal, 0);
  EXPECT_EQ(e.StatusCode(), 7);
  EXPECT_EQ(RunChild({"/bin/true"}).StatusCode(), 0);
}

TEST(Supervisor, DeathBySignalIs128PlusSignal) {
  ChildExit e = RunChild({"/bin/sh", "-c", "kill -9 $$"});
  EXPECT_EQ(e.signal, SIGKILL);
  EXPECT_EQ(e.StatusCode(), 137);
  EXPECT_EQ(e.Describe(), "was killed by signal 9 (SIGKILL)");
}

TEST(Supervisor, ABusErrorRecordsTheSizeOfDevShmAndAnyDeathThePeakRss) {
  // Two runs, not two workers of one run: whichever worker died first would have the other stopped
  // by SIGTERM before it could raise its own signal.
  auto bus = RunWorkers({Worker({"/bin/sh", "-c", "kill -BUS $$"})}, SuperviseOptions{});
  ASSERT_TRUE(bus.ok());
  EXPECT_EQ(bus->workers[0].exit.signal, SIGBUS);
  struct statvfs shm;
  ASSERT_EQ(statvfs("/dev/shm", &shm), 0);
  EXPECT_EQ(bus->workers[0].dev_shm_bytes, static_cast<uint64_t>(shm.f_blocks) * shm.f_frsize);
  auto kill = RunWorkers({Worker({"/bin/sh", "-c", "kill -9 $$"})}, SuperviseOptions{});
  ASSERT_TRUE(kill.ok());
  EXPECT_EQ(kill->workers[0].exit.signal, SIGKILL);
  EXPECT_EQ(kill->workers[0].dev_shm_bytes, 0u) << "only a bus error points at /dev/shm";
  EXPECT_GT(kill->workers[0].peak_rss_bytes, 0u);
}

TEST(Supervisor, ExecFailureIs127Or126) {
  EXPECT_EQ(RunChild({"/nonexistent/program"}).StatusCode(), 127);
  testing::ScratchDir dir;
  dir.Write("not-executable", "data");
  EXPECT_EQ(RunChild({dir.path() + "/not-executable"}).StatusCode(), 126);
}

TEST(Supervisor, ForwardsSigtermToTheWholeGroup) {
  testing::ScratchDir dir;
  const std::string d = dir.path();
  // The worker and its own child both record the SIGTERM they get, then exit 0.
  const std::string script = "(trap 'echo term > " + d + "/grandchild; exit 0' TERM; touch " + d +
                             "/gc_ready; while :; do sleep 0.05; done) & "
                             "trap 'echo term > " + d + "/child; wait; exit 0' TERM; touch " + d +
                             "/ready; while :; do sleep 0.05; done";
  pid_t sup = StartSupervisor(script, 30);
  ASSERT_TRUE(WaitForFile(d + "/ready", 10));
  ASSERT_TRUE(WaitForFile(d + "/gc_ready", 10));
  const auto start = Clock::now();
  kill(sup, SIGTERM);
  EXPECT_EQ(WaitExit(sup), 0);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(dir.Read("child"), "term\n");
  EXPECT_EQ(dir.Read("grandchild"), "term\n");
}

TEST(Supervisor, ForwardsHupQuitUsr1AndUsr2WithoutStoppingTheWorkers) {
  testing::ScratchDir dir;
  const std::string d = dir.path();
  // The worker logs each signal it gets and goes on; SIGTERM ends it.
  const std::string script = "for s in HUP QUIT USR1 USR2; do trap \"echo $s >> " + d +
                             "/got\" $s; done; trap 'exit 0' TERM; touch " + d +
                             "/ready; while :; do sleep 0.05; done";
  pid_t sup = StartSupervisor(script, 30);
  ASSERT_TRUE(WaitForFile(d + "/ready", 10));
  std::string want;
  for (int sig : {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    kill(sup, sig);
    want += std::string(sigabbrev_np(sig)) + "\n";
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (dir.Read("got") != want && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(dir.Read("got"), want) << "after " << sigabbrev_np(sig);
  }
  kill(sup, SIGTERM);
  EXPECT_EQ(WaitExit(sup), 0);
}

TEST(Supervisor, SigkillAfterGracePeriod) {
  testing::ScratchDir dir;
  const std::string script = "trap '' TERM; touch " + dir.path() + "/ready; while :; do sleep 0.05; done";
  pid_t sup = StartSupervisor(script, 1);
  ASSERT_TRUE(WaitForFile(dir.path() + "/ready", 10));
  const auto start = Clock::now();
  kill(sup, SIGTERM);
  EXPECT_EQ(WaitExit(sup), 128 + SIGKILL);
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(Supervisor, LeavesNoOrphansEvenWhenTheyIgnoreSigterm) {
  testing::ScratchDir dir;
  const std::string d = dir.path();
  // A grandchild that ignores SIGTERM, in a new session (out of the worker's process group).
  const std::string script = "setsid sh -c 'trap \"\" TERM; echo $$ > " + d +
                             "/orphan.pid; while :; do sleep 0.05; done' & "
                             "while [ ! -s " + d + "/orphan.pid ]; do sleep 0.01; done; exit 0";
  ChildExit e = RunChild({"/bin/sh", "-c", script});
  EXPECT_EQ(e.StatusCode(), 0);
  const pid_t orphan = static_cast<pid_t>(std::stoi(dir.Read("orphan.pid")));
  EXPECT_FALSE(ProcessAlive(orphan)) << "pid " << orphan << " survived";
}

TEST(Supervisor, WorkersDieWithTheLauncher) {
  testing::ScratchDir dir;
  const std::string script = "echo $$ > " + dir.path() + "/worker.pid; while :; do sleep 0.05; done";
  pid_t sup = StartSupervisor(script, 30);
  ASSERT_TRUE(WaitForFile(dir.path() + "/worker.pid", 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the pid file is written completely
  const pid_t worker = static_cast<pid_t>(std::stoi(dir.Read("worker.pid")));
  ASSERT_TRUE(ProcessAlive(worker));
  kill(sup, SIGKILL);  // no chance to clean up: the parent-death signal must do it
  WaitExit(sup);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (ProcessAlive(worker) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(ProcessAlive(worker)) << "worker " << worker << " outlived its launcher";
}

TEST(Supervisor, OneFailureStopsEveryOtherWorkerFast) {
  testing::ScratchDir dir;
  SuperviseOptions options;
  options.failure_stop_seconds = 30;
  std::vector<WorkerSpec> workers = {
      Worker({"/bin/sh", "-c", "touch " + dir.path() + "/r0; while :; do sleep 0.05; done"}, 0),
      Worker({"/bin/sh", "-c", "while [ ! -e " + dir.path() + "/r0 ]; do sleep 0.01; done; "
                                "echo 'RuntimeError: CUDA out of memory' >&2; exit 3"}, 1),
  };
  const auto start = Clock::now();
  auto r = RunWorkers(workers, options);
  ASSERT_TRUE(r.ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r->first_failure, 1);
  EXPECT_EQ(r->workers[1].exit.StatusCode(), 3);
  EXPECT_EQ(r->workers[0].exit.signal, SIGTERM);
  EXPECT_FALSE(r->AllSucceeded());
  ASSERT_FALSE(r->workers[1].stderr_tail.empty());
  EXPECT_EQ(r->workers[1].stderr_tail.back(), "RuntimeError: CUDA out of memory");
}

TEST(Supervisor, ErrorFileMessageIsUsed) {
  testing::ScratchDir dir;
  WorkerSpec w = Worker({"/bin/sh", "-c",
                         "printf '{\"message\": {\"message\": \"ValueError: bad label 7\", \"extraInfo\": {}}}' "
                         "> \"$TORCHELASTIC_ERROR_FILE\"; exit 1"});
  w.error_file = dir.path() + "/0/error.json";
  w.env.push_back("TORCHELASTIC_ERROR_FILE=" + w.error_file);
  auto r = RunWorkers({w}, SuperviseOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->workers[0].error_message, "ValueError: bad label 7");
}

TEST(Supervisor, DrainsStdoutAndStderrConcurrentlyIntoPrefixedLogs) {
  testing::ScratchDir dir;
  // 1 MiB on stderr before any stdout: a launcher reading one pipe at a time would deadlock.
  WorkerSpec w = Worker({"/bin/sh", "-c",
                         "head -c 1048576 /dev/zero | tr '\\0' 'e' | fold -w 1000 >&2; "
                         "printf 'step 1\\rstep 2\\rstep 3\\n'; echo done"}, 3);
  w.log_prefix = "[algo-1:3] ";
  w.log_file = dir.path() + "/logs/rank_3.log";
  const auto start = Clock::now();
  auto r = RunWorkers({w}, SuperviseOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(r->workers[0].exit.StatusCode(), 0);
  const std::string log = dir.Read("logs/rank_3.log");
  // Carriage-return progress: its first state, then at most one a 10 s, then its last.
  EXPECT_NE(log.find("\nstep 1\nstep 3\ndone\n"), std::string::npos) << log.substr(log.size() - 100);
  EXPECT_EQ(log.find("step 2"), std::string::npos);
  EXPECT_GE(log.size(), 1048576u);
}

}  // namespace
}  // namespace trainrt::launcher
