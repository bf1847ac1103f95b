#include "launcher/failure_report.h"

#include <gtest/gtest.h>

#include "launcher/host_resolution.h"

namespace trainrt::launcher {
namespace {

TEST(FailureReport, ReasonFirstThenNewestStderrWithin1024Bytes) {
  WorkerOutcome w;
  w.rank = 5;
  w.local_rank = 1;
  w.exit.signal = 9;
  w.likely_oom = true;
  w.peak_rss_bytes = 61ull << 30;
  for (int i = 0; i < 200; ++i) w.stderr_tail.push_back("stderr line number " + std::to_string(i));
  const std::string report = FailureReport(RankSubject("algo-2", w), w);
  EXPECT_LE(report.size(), 1024u);
  EXPECT_EQ(report.rfind("rank 5 (local rank 1) on host algo-2 was killed by signal 9 (SIGKILL), likely out of memory "
                         "(the container's OOM killer fired), peak RSS 61.0 GiB\n",
                         0),
            0u)
      << report;
  EXPECT_NE(report.find("stderr line number 199"), std::string::npos) << "the newest line is kept";
  EXPECT_EQ(report.find("stderr line number 0\n"), std::string::npos) << "the oldest lines give way";
}

TEST(FailureReport, ABusErrorNamesTheSizeOfDevShm) {
  WorkerOutcome w;
  w.exit.signal = 7;
  w.peak_rss_bytes = 3ull << 29;
  w.dev_shm_bytes = 64ull << 20;
  EXPECT_EQ(FailureReport("rank 0 (local rank 0) on host algo-1", w),
            "rank 0 (local rank 0) on host algo-1 was killed by signal 7 (SIGBUS), peak RSS 1.5 GiB; /dev/shm is 64.0 "
            "MiB (DataLoader workers pass batches through it: a full one raises SIGBUS; docker run --shm-size)");
}

TEST(FailureReport, ErrorFileMessageFollowsTheExit) {
  WorkerOutcome w;
  w.exit.exit_code = 1;
  w.error_message = "ValueError: label 7 outside num_labels=2";
  EXPECT_EQ(FailureReport("rank 0 (local rank 0) on host algo-1", w),
            "rank 0 (local rank 0) on host algo-1 exited with code 1: ValueError: label 7 outside num_labels=2");
}

TEST(WaitForHosts, ResolvesOrNamesTheMissingHostsAfterTheBound) {
  EXPECT_TRUE(WaitForHosts({"localhost", "127.0.0.1"}, 5).ok());
  runtime::Status s = WaitForHosts({"localhost", "no-such-host.invalid"}, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "host names did not resolve within 1 s: no-such-host.invalid");
}

}  // namespace
}  // namespace trainrt::launcher
