#include "launcher/log_stream.h"

#include <chrono>

namespace trainrt::launcher {
namespace {
constexpr size_t kMaxLineBytes = 64 * 1024;

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

LogStream::LogStream(std::string prefix, FILE* console, FILE* file, size_t tail_lines, double progress_every_seconds,
                     Clock clock)
    : prefix_(std::move(prefix)), console_(console), file_(file), tail_lines_(tail_lines),
      progress_every_(progress_every_seconds), clock_(clock ? std::move(clock) : Clock(SteadySeconds)) {}

void LogStream::Feed(const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const char c = data[i];
    if (after_cr_) {
      after_cr_ = false;
      if (c != '\n') Redrawn();  // "\r\n" is a plain line end
    }
    if (c == '\n') {
      Emit(std::move(partial_));
      partial_.clear();
    } else if (c == '\r') {
      after_cr_ = true;
    } else if (partial_.size() >= kMaxLineBytes) {
      Emit(std::move(partial_));
      partial_.assign(1, c);
    } else {
      partial_ += c;
    }
  }
}

void LogStream::Redrawn() {
  const double now = clock_();
  if (!partial_.empty() && now - last_progress_ >= progress_every_) {
    last_progress_ = now;
    Emit(std::move(partial_));
  }
  partial_.clear();
}

void LogStream::Finish() {
  after_cr_ = false;
  if (!partial_.empty()) Emit(std::move(partial_));
  partial_.clear();
}

void LogStream::Emit(std::string line) {
  std::fprintf(console_, "%s%s\n", prefix_.c_str(), line.c_str());
  std::fflush(console_);
  if (file_ != nullptr) {
    std::fprintf(file_, "%s\n", line.c_str());
    std::fflush(file_);
  }
  if (tail_lines_ > 0) {
    tail_.push_back(std::move(line));
    if (tail_.size() > tail_lines_) tail_.pop_front();
  }
}

}  // namespace trainrt::launcher
