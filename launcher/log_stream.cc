#include "launcher/log_stream.h"

namespace trainrt::launcher {
namespace {
constexpr size_t kMaxLineBytes = 64 * 1024;
}

LogStream::LogStream(std::string prefix, FILE* console, FILE* file, size_t tail_lines)
    : prefix_(std::move(prefix)), console_(console), file_(file), tail_lines_(tail_lines) {}

void LogStream::Feed(const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const char c = data[i];
    if (c == '\n') {
      Emit(std::move(partial_));
      partial_.clear();
    } else if (partial_.size() >= kMaxLineBytes) {
      Emit(std::move(partial_));
      partial_.assign(1, c);
    } else {
      partial_ += c;
    }
  }
}

void LogStream::Finish() {
  if (!partial_.empty()) Emit(std::move(partial_));
  partial_.clear();
}

void LogStream::Emit(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF
  const size_t cr = line.rfind('\r');
  if (cr != std::string::npos) line.erase(0, cr + 1);  // a redrawn progress line: keep the last state
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
