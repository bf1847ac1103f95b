// A worker's output as lines: prefixes, the rank's log file, the failure report's tail, and
// carriage-return progress bars thinned to one line per interval.
#include "launcher/log_stream.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace trainrt::launcher {
namespace {

class Captured {
 public:
  Captured() : file_(open_memstream(&buffer_, &size_)) {}
  ~Captured() {
    std::fclose(file_);
    std::free(buffer_);
  }
  FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  size_t size_ = 0;
  FILE* file_;
};

TEST(LogStream, PrefixesLinesAndKeepsTheTail) {
  Captured console, file;
  LogStream s("[algo-1:0] ", console.file(), file.file(), 2);
  const std::string out = "one\ntwo\r\nthree\nfour";
  s.Feed(out.data(), out.size());
  s.Finish();
  EXPECT_EQ(console.text(), "[algo-1:0] one\n[algo-1:0] two\n[algo-1:0] three\n[algo-1:0] four\n");
  EXPECT_EQ(file.text(), "one\ntwo\nthree\nfour\n");  // CRLF is a plain line end
  EXPECT_EQ(s.Tail(), (std::vector<std::string>{"three", "four"}));
}

TEST(LogStream, ProgressBarsBecomeOneLineAnIntervalAndTheirLastState) {
  Captured console;
  double now = 0;
  LogStream s("", console.file(), nullptr, 0, 10, [&] { return now; });
  // A bar redrawn every second for 25 s, in pieces as a pipe delivers them, then a newline.
  for (int i = 0; i <= 25; ++i) {
    now = i;
    const std::string draw = "\r" + std::to_string(i * 4) + "%|";
    s.Feed(draw.data(), 2);
    s.Feed(draw.data() + 2, draw.size() - 2);
  }
  s.Feed("\nafter\n", 7);
  EXPECT_EQ(console.text(), "0%|\n40%|\n80%|\n100%|\nafter\n");
}

TEST(LogStream, AProgressStateLeftWhenTheWorkerExitsIsWritten) {
  Captured console;
  LogStream s("", console.file(), nullptr, 0, 10, [] { return 0.0; });
  s.Feed("1/3\r2/3\r", 8);
  s.Finish();
  EXPECT_EQ(console.text(), "1/3\n2/3\n");
}

}  // namespace
}  // namespace trainrt::launcher
