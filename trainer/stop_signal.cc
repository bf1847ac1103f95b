#include "trainer/stop_signal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace trainrt::trainer {
namespace {

std::atomic<int> g_stop_signal{0};
unsigned g_deadline_seconds = 100;

void WriteStderr(const char* text) { (void)!::write(STDERR_FILENO, text, std::strlen(text)); }

void OnStop(int sig) {
  int expected = 0;
  if (g_stop_signal.compare_exchange_strong(expected, sig)) {
    WriteStderr(sig == SIGTERM ? "trainrt-finetune: SIGTERM: finishing this step, then checkpointing and exiting\n"
                               : "trainrt-finetune: SIGINT: finishing this step, then checkpointing and exiting\n");
    ::alarm(g_deadline_seconds);
    return;
  }
  WriteStderr("trainrt-finetune: second stop signal: exiting without a checkpoint\n");
  ::_exit(128 + sig);
}

void OnDeadline(int) {
  WriteStderr("trainrt-finetune: stop deadline reached before the checkpoint was complete: exiting\n");
  ::_exit(124);
}

}  // namespace

void InstallStopHandlers(unsigned deadline_seconds) {
  g_deadline_seconds = deadline_seconds;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a write in progress goes on; the loop polls the flag
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = OnDeadline;
  sigaction(SIGALRM, &sa, nullptr);
}

bool StopRequested() { return g_stop_signal.load(std::memory_order_relaxed) != 0; }

int StopSignal() { return g_stop_signal.load(std::memory_order_relaxed); }

}  // namespace trainrt::trainer
