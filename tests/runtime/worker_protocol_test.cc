// The launcher/worker protocol: torchelastic's error file written and read back in both of its
// forms, and store keys that keep each restart attempt's keys apart.
#include "runtime/worker_protocol.h"

#include <gtest/gtest.h>

namespace trainrt::runtime::worker {
namespace {

TEST(WorkerProtocol, ErrorFileRoundTripsInTorchelasticsForm) {
  const std::string contents = ErrorFileContents("rank 1: \"quoted\"\nsecond line");
  EXPECT_EQ(contents, R"({"message":{"extraInfo":{},"message":"rank 1: \"quoted\"\nsecond line"}})");
  EXPECT_EQ(ErrorFileMessage(contents), "rank 1: \"quoted\"\nsecond line");
  EXPECT_EQ(ErrorFileMessage(R"({"message": "plain form"})"), "plain form");  // torchelastic's older form
  EXPECT_EQ(ErrorFileMessage("not json"), "");
  EXPECT_EQ(ErrorFileMessage(R"({"message": {"extraInfo": {}}})"), "");
  EXPECT_EQ(ErrorFileMessage("[1, 2]"), "");
}

TEST(WorkerProtocol, KeysLiveUnderThePrefixPerAttempt) {
  EXPECT_EQ(AttemptKey(0, "joined/3"), "trainrt/attempt_0/joined/3");
  EXPECT_EQ(WorkerKey(2, "finetune"), "trainrt/attempt_2/worker/finetune");
  EXPECT_NE(WorkerKey(0, "finetune"), WorkerKey(1, "finetune"));
  EXPECT_EQ(WorkerKey(1, "x").rfind(kStoreKeyPrefix, 0), 0u);
}

}  // namespace
}  // namespace trainrt::runtime::worker
