// The supervisor with real processes: exit codes, signals forwarded to the whole group, SIGKILL
// after the grace period, and no process left behind.
#include "launcher/supervisor.h"

#include <signal.h>
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

ChildExit RunChild(std::vector<std::string> argv, int grace = 90) {
  SuperviseOptions options;
  options.kill_grace_seconds = grace;
  auto r = RunSupervised(ChildSpec{std::move(argv), {"PATH=/usr/bin:/bin"}, ""}, options);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : ChildExit{};
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
    auto r = RunSupervised(ChildSpec{{"/bin/sh", "-c", script}, {"PATH=/usr/bin:/bin"}, ""}, options);
    _exit(r.ok() ? r->StatusCode() : 255);
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

}  // namespace
}  // namespace trainrt::launcher
