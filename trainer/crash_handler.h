// A crashing fine-tuner says where: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT (an uncaught
// exception, a failed check) it writes the signal and the crashing thread's stack to stderr, which
// the launcher's failure report quotes, then dies of the same signal (exit 128 + signal), instead
// of torchrun's "Signal 11 received" and nothing else (pain-points #11).
#ifndef TRAINRT_TRAINER_CRASH_HANDLER_H_
#define TRAINRT_TRAINER_CRASH_HANDLER_H_

namespace trainrt::trainer {

void InstallCrashHandlers();

// The calling thread's stack on stderr, as addresses within their binaries (addr2line or gdb turn
// them into lines): for the crash handler and the stall watchdog. Safe in a signal handler once
// PrepareStackTraces() has run (it loads the unwinder, which would allocate inside the handler).
void PrepareStackTraces();
void WriteStackTrace();

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_CRASH_HANDLER_H_
