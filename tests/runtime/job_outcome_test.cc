#include "runtime/job_outcome.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/file_util.h"
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

namespace trainrt::runtime {
namespace {

TEST(FileUtil, RemoveTreeRemovesEverythingButFollowsNoLink) {
  testing::ScratchDir outside;
  outside.Write("keep.txt", "keep");
  testing::ScratchDir dir;
  dir.Write("tree/a/b/c.txt", "c");
  dir.Write("tree/d.txt", "d");
  ASSERT_EQ(::symlink(outside.path().c_str(), (dir.path() + "/tree/link").c_str()), 0);
  ASSERT_TRUE(RemoveTree(dir.path() + "/tree").ok());
  EXPECT_FALSE(PathExists(dir.path() + "/tree"));
  EXPECT_EQ(outside.Read("keep.txt"), "keep");
  EXPECT_TRUE(RemoveTree(dir.path() + "/never-existed").ok());
}

}  // namespace
}  // namespace trainrt::runtime
