// LogStream: turns one worker stream's bytes into lines for the console and the rank's log file.
// Lines get an optional "[host:rank] " prefix; a line redrawn with carriage returns (progress
// bars) is collapsed to its last state; the last lines of a stream are kept for failure reports.
// A worker writing megabytes without a newline never blocks anything: long lines are cut at 64 KiB.
// Not thread-safe (the supervisor's loop owns every stream).
#ifndef TRAINRT_LAUNCHER_LOG_STREAM_H_
#define TRAINRT_LAUNCHER_LOG_STREAM_H_

#include <cstdio>
#include <deque>
#include <string>
#include <vector>

namespace trainrt::launcher {

class LogStream {
 public:
  // `console` is stdout or stderr (not owned); `file` may be null (not owned).
  LogStream(std::string prefix, FILE* console, FILE* file, size_t tail_lines);

  void Feed(const char* data, size_t n);
  // Flushes a last line without its newline (the worker exited).
  void Finish();
  // The last lines written (at most tail_lines), oldest first.
  std::vector<std::string> Tail() const { return {tail_.begin(), tail_.end()}; }

 private:
  void Emit(std::string line);

  std::string prefix_;
  FILE* console_;
  FILE* file_;
  size_t tail_lines_;
  std::string partial_;
  std::deque<std::string> tail_;
};

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_LOG_STREAM_H_
