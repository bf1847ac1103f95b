#include "launcher/failure_report.h"

#include <cstdio>

namespace trainrt::launcher {
namespace {

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

}  // namespace

std::string RankSubject(const std::string& host, const WorkerOutcome& worker) {
  return "rank " + std::to_string(worker.rank) + " (local rank " + std::to_string(worker.local_rank) + ") on host " +
         host;
}

std::string FailureReport(const std::string& subject, const WorkerOutcome& worker, size_t max_bytes) {
  std::string head = subject + " " + worker.exit.Describe();
  if (worker.likely_oom) head += ", likely out of memory (the container's OOM killer fired)";
  if (worker.exit.signal != 0 && worker.peak_rss_bytes > 0) head += ", peak RSS " + HumanBytes(worker.peak_rss_bytes);
  if (worker.dev_shm_bytes > 0) {
    head += "; /dev/shm is " + HumanBytes(worker.dev_shm_bytes) +
            " (DataLoader workers pass batches through it: a full one raises SIGBUS; docker run --shm-size)";
  }
  if (!worker.error_message.empty()) head += ": " + worker.error_message;
  if (head.size() >= max_bytes) return head.substr(0, max_bytes);
  const std::string tail_title = "\nlast stderr lines:";
  std::string tail;
  for (auto it = worker.stderr_tail.rbegin(); it != worker.stderr_tail.rend(); ++it) {
    std::string line = "\n" + *it;
    if (head.size() + tail_title.size() + tail.size() + line.size() > max_bytes) break;
    tail = line + tail;
  }
  return tail.empty() ? head : head + tail_title + tail;
}

}  // namespace trainrt::launcher
