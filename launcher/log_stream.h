// LogStream: turns one worker stream's bytes into lines for the console and the rank's log file.
// Lines get an optional "[host:rank] " prefix; a line redrawn with carriage returns (progress
// bars such as tqdm's) becomes at most one line per `progress_every_seconds` while it is redrawn,
// and its last state when it ends, instead of nothing until then (or unreadable carriage returns
// in CloudWatch); the last lines of a stream are kept for failure reports.
// A worker writing megabytes without a newline never blocks anything: long lines are cut at 64 KiB.
// Not thread-safe (the supervisor's loop owns every stream).
#ifndef TRAINRT_LAUNCHER_LOG_STREAM_H_
#define TRAINRT_LAUNCHER_LOG_STREAM_H_

#include <cstdio>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace trainrt::launcher {

class LogStream {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic

  // `console` is stdout or stderr (not owned); `file` may be null (not owned).
  LogStream(std::string prefix, FILE* console, FILE* file, size_t tail_lines, double progress_every_seconds = 10,
            Clock clock = nullptr);

  void Feed(const char* data, size_t n);
  // Flushes a last line without its newline (the worker exited).
  void Finish();
  // The last lines written (at most tail_lines), oldest first.
  std::vector<std::string> Tail() const { return {tail_.begin(), tail_.end()}; }

 private:
  void Emit(std::string line);
  void Redrawn();  // partial_ is a progress state that a carriage return ended

  std::string prefix_;
  FILE* console_;
  FILE* file_;
  size_t tail_lines_;
  double progress_every_;
  Clock clock_;
  double last_progress_ = -1e300;  // when a progress state was last written
  bool after_cr_ = false;          // the last byte was '\r' (CRLF, or a redraw)
  std::string partial_;
  std::deque<std::string> tail_;
};

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_LOG_STREAM_H_
