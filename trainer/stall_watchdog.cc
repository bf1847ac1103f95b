#include "trainer/stall_watchdog.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "trainer/crash_handler.h"

namespace trainrt::trainer {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

const int kStackSignal = SIGRTMIN + 3;
std::atomic<bool> g_stack_printed{false};

// Runs on the stalled thread.
void PrintStack(int) {
  WriteStackTrace();
  g_stack_printed = true;
}

}  // namespace

StallWatchdog::StallWatchdog(int64_t minimum_seconds, std::function<void(const std::string&)> report)
    : minimum_ns_(minimum_seconds * 1000000000), report_(std::move(report)), beating_thread_(pthread_self()) {
  if (minimum_seconds <= 0) return;
  PrepareStackTraces();
  struct sigaction sa = {};
  sa.sa_handler = PrintStack;
  sigaction(kStackSignal, &sa, nullptr);
  thread_ = std::thread([this] { Watch(); });
}

StallWatchdog::~StallWatchdog() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StallWatchdog::Beat(const char* phase, int64_t step) {
  const int64_t now = NowNs();
  const int64_t previous = last_beat_ns_.exchange(now);
  if (previous != 0 && now - previous > longest_ns_.load()) longest_ns_ = now - previous;
  step_ = step;
  phase_ = phase;
}

void StallWatchdog::Watch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return done_; })) {
    const int64_t last = last_beat_ns_.load();
    if (last == 0) continue;  // not armed yet
    const int64_t limit = std::max(minimum_ns_, 10 * longest_ns_.load());
    const int64_t silent = NowNs() - last;
    if (silent < limit) continue;
    const std::string line = "stalled: no progress for " + std::to_string(silent / 1000000000) + " s (limit " +
                             std::to_string(limit / 1000000000) + " s: TRAINRT_STALL_SECONDS or 10x the slowest "
                             "step) in " + phase_.load() + " after step " + std::to_string(step_.load());
    std::fprintf(stderr, "trainrt-finetune: %s; the stalled thread's stack:\n", line.c_str());
    std::fflush(stderr);
    pthread_kill(beating_thread_, kStackSignal);
    for (int i = 0; i < 40 && !g_stack_printed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    report_(line);
    std::fflush(nullptr);
    _exit(1);
  }
}

}  // namespace trainrt::trainer
