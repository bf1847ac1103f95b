// StallWatchdog: ends a run that stopped making progress (a deadlock in data loading or
// evaluation, a peer that hangs without failing) instead of letting it bill until MaxRuntime
// (pain-points #6). The loop calls Beat() after every micro-batch, optimizer step and evaluation
// batch; when no beat comes for max(minimum, 10 x the longest interval between beats so far), the
// watchdog prints where the run stalled and the stack of the thread that beats, hands that line
// to `report` (the error line and file), and ends the process with exit code 1.
#ifndef TRAINRT_TRAINER_STALL_WATCHDOG_H_
#define TRAINRT_TRAINER_STALL_WATCHDOG_H_

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace trainrt::trainer {

class StallWatchdog {
 public:
  // Armed from the first Beat() on (the first micro-batch may be slow for reasons of its own:
  // lazy initialisation, autotuning), and the constructing thread is the one whose stack a stall
  // prints. `minimum_seconds` <= 0 disables the watchdog.
  StallWatchdog(int64_t minimum_seconds, std::function<void(const std::string&)> report);
  ~StallWatchdog();
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

  // Progress: `phase` must be a string literal ("training", "evaluation"); `step` the last
  // completed optimizer step.
  void Beat(const char* phase, int64_t step);

 private:
  void Watch();

  const int64_t minimum_ns_;
  const std::function<void(const std::string&)> report_;
  const pthread_t beating_thread_;
  std::atomic<int64_t> last_beat_ns_{0};  // 0: no beat yet
  std::atomic<int64_t> longest_ns_{0};
  std::atomic<int64_t> step_{0};
  std::atomic<const char*> phase_{"starting"};
  std::mutex mu_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_STALL_WATCHDOG_H_
