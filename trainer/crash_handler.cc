#include "trainer/crash_handler.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdlib>

namespace trainrt::trainer {
namespace {

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

void WriteText(const char* text) { (void)!write(STDERR_FILENO, text, strlen(text)); }

void OnCrash(int sig) {
  WriteText("trainrt-finetune: fatal signal ");
  const char* abbrev = sigabbrev_np(sig);
  WriteText("SIG");
  WriteText(abbrev != nullptr ? abbrev : "?");
  WriteText(" (");
  WriteText(sigdescr_np(sig) != nullptr ? sigdescr_np(sig) : "?");
  WriteText("); the crashing thread's stack (addresses for addr2line):\n");
  WriteStackTrace();
  WriteText("trainrt-finetune: error: crashed with SIG");
  WriteText(abbrev != nullptr ? abbrev : "?");
  WriteText("\n");
  raise(sig);  // the handler was reset: the default action, exit 128 + sig (and a core if enabled)
}

}  // namespace

void PrepareStackTraces() {
  void* warm[1];
  (void)backtrace(warm, 1);
}

void WriteStackTrace() {
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

void InstallCrashHandlers() {
  PrepareStackTraces();
  // Its own stack, so a stack overflow of the main thread (which runs the loop) can still be
  // reported; other threads have none.
  static char alternate[64 * 1024];
  stack_t ss = {};
  ss.ss_sp = alternate;
  ss.ss_size = sizeof alternate;
  sigaltstack(&ss, nullptr);
  struct sigaction sa = {};
  sa.sa_handler = OnCrash;
  sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
  for (int sig : kCrashSignals) sigaction(sig, &sa, nullptr);
}

}  // namespace trainrt::trainer
