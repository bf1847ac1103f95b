// FailureReport: the text that goes to output/failure when a worker fails. SageMaker shows its
// first 1024 bytes as the job's FailureReason, so the reason comes first (who, where, how) and the
// failing rank's last stderr lines fill the rest, newest kept.
#ifndef TRAINRT_LAUNCHER_FAILURE_REPORT_H_
#define TRAINRT_LAUNCHER_FAILURE_REPORT_H_

#include <string>

#include "launcher/supervisor.h"

namespace trainrt::launcher {

// "<subject> exited with code 3: <error file message>", with "likely out of memory" when the
// cgroup's OOM counter rose, then the stderr tail; at most `max_bytes` bytes.
std::string FailureReport(const std::string& subject, const WorkerOutcome& worker, size_t max_bytes = 1024);
// The subject for a rank: "rank 1 (local rank 1) on host algo-2".
std::string RankSubject(const std::string& host, const WorkerOutcome& worker);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_FAILURE_REPORT_H_
