#include "runtime/job_outcome.h"

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

namespace trainrt::runtime {
namespace {

TEST(JobOutcome, FailureFileFirstWriterWins) {
  testing::ScratchDir dir;
  const ContainerPaths paths = ContainerPaths::FromBase(dir.path());
  ASSERT_TRUE(WriteFailureFile(paths, "user's own reason").ok());
  ASSERT_TRUE(WriteFailureFile(paths, "launcher's reason").ok());
  EXPECT_EQ(dir.Read("output/failure"), "user's own reason\n");
}

TEST(JobOutcome, SuccessFileIsEmpty) {
  testing::ScratchDir dir;
  const ContainerPaths paths = ContainerPaths::FromBase(dir.path() + "/");
  ASSERT_TRUE(WriteSuccessFile(paths).ok());
  EXPECT_EQ(paths.SuccessFile(), dir.path() + "/output/success");
  EXPECT_EQ(dir.Read("output/success"), "");
}

TEST(ContainerPaths, JoinLikeOsPathJoin) {
  EXPECT_EQ(JoinPath("/opt/ml", "model"), "/opt/ml/model");
  EXPECT_EQ(JoinPath("/opt/ml/", "model"), "/opt/ml/model");
  EXPECT_EQ(JoinPath("/opt/ml", "/abs"), "/abs");
  const ContainerPaths p = ContainerPaths::FromEnv({});
  EXPECT_EQ(p.ChannelDir("train"), "/opt/ml/input/data/train");
  EXPECT_EQ(p.output_intermediate_dir, "/opt/ml/output/intermediate");
}

}  // namespace
}  // namespace trainrt::runtime
