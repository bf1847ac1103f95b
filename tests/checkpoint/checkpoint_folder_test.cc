// The checkpoint folder's crash-consistency rules: what counts as a complete checkpoint, which one
// a resume picks, what rotation may delete. No libtorch: files stand in for tensors.
#include "trainer/checkpoint/checkpoint_folder.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "runtime/file_util.h"
#include "tests/runtime/test_util.h"

namespace trainrt::trainer {
namespace {

using testing::ScratchDir;

// A complete checkpoint of `step` holding two files.
void Save(const ScratchDir& dir, int64_t step, const std::string& weights = "weights") {
  auto staging = BeginCheckpoint(dir.path(), step);
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  ASSERT_TRUE(runtime::WriteFileAtomically(*staging + "/model.safetensors", weights + std::to_string(step)).ok());
  ASSERT_TRUE(runtime::WriteFileAtomically(*staging + "/trainer_state.json", "{}").ok());
  auto bytes = CommitCheckpoint(*staging, dir.path(), step);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
}

std::vector<int64_t> Steps(const std::string& dir) {
  std::vector<int64_t> steps;
  for (const auto& e : ListCheckpoints(dir)) steps.push_back(e.step);
  return steps;
}

TEST(CheckpointFolder, CommitMakesACompleteVerifiedCheckpointWithAManifest) {
  ScratchDir dir;
  Save(dir, 7);
  const std::string path = dir.path() + "/checkpoint-7";
  EXPECT_TRUE(runtime::PathExists(path + "/" + kCheckpointManifest));
  auto entries = ListCheckpoints(dir.path());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].complete) << entries[0].problem;
  EXPECT_EQ(entries[0].bytes, std::string("weights7").size() + 2);
  EXPECT_TRUE(VerifyCheckpoint(path).ok());
  EXPECT_EQ(NewestValidCheckpoint(dir.path()), path);
  EXPECT_FALSE(runtime::PathExists(dir.path() + "/.staging-checkpoint-7"));
}

TEST(CheckpointFolder, StepsSortNumericallyAndOtherNamesAreNotCheckpoints) {
  ScratchDir dir;
  for (int64_t s : {100, 9, 20}) Save(dir, s);
  dir.Write("checkpoint-abc/x", "");
  dir.Write("checkpoint-5", "a file, not a folder");
  dir.Write("runs/x", "");
  EXPECT_EQ(Steps(dir.path()), (std::vector<int64_t>{9, 20, 100}));
  EXPECT_EQ(NewestValidCheckpoint(dir.path()), dir.path() + "/checkpoint-100");
}

TEST(CheckpointFolder, AFolderWithoutManifestIsIncompleteAndResumeFallsBack) {
  ScratchDir dir;
  Save(dir, 10);
  dir.Write("checkpoint-20/model.safetensors", "half a file");  // cut before the manifest
  auto entries = ListCheckpoints(dir.path());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_FALSE(entries[1].complete);
  EXPECT_NE(entries[1].problem.find("missing"), std::string::npos) << entries[1].problem;
  EXPECT_EQ(NewestValidCheckpoint(dir.path()), dir.path() + "/checkpoint-10");
}

TEST(CheckpointFolder, ATruncatedOrAlteredFileIsDetected) {
  ScratchDir dir;
  Save(dir, 1);
  Save(dir, 2);
  dir.Write("checkpoint-2/model.safetensors", "weightsX");  // same size, other bytes
  EXPECT_TRUE(ListCheckpoints(dir.path())[1].complete);    // sizes alone cannot tell
  runtime::Status s = VerifyCheckpoint(dir.path() + "/checkpoint-2");
  EXPECT_EQ(s.code(), runtime::Status::Code::kCorruption);
  EXPECT_NE(s.message().find("checkpoint-2/model.safetensors"), std::string::npos) << s.message();
  EXPECT_EQ(NewestValidCheckpoint(dir.path()), dir.path() + "/checkpoint-1");

  dir.Write("checkpoint-1/model.safetensors", "w");  // truncated
  EXPECT_FALSE(ListCheckpoints(dir.path())[0].complete);
  EXPECT_EQ(NewestValidCheckpoint(dir.path()), "");
}

TEST(CheckpointFolder, CommitReplacesAnIncompleteFolderOfTheSameStep) {
  ScratchDir dir;
  dir.Write("checkpoint-3/leftover", "from a run killed mid-write");
  Save(dir, 3);
  EXPECT_FALSE(runtime::PathExists(dir.path() + "/checkpoint-3/leftover"));
  EXPECT_TRUE(VerifyCheckpoint(dir.path() + "/checkpoint-3").ok());
}

TEST(CheckpointFolder, StagingFoldersOfKilledRunsAreRemovedAndNeverListed) {
  ScratchDir dir;
  dir.Write(".staging-checkpoint-4/model.safetensors", "partial");
  Save(dir, 2);
  EXPECT_EQ(Steps(dir.path()), (std::vector<int64_t>{2}));
  RemoveStagingFolders(dir.path());
  EXPECT_FALSE(runtime::PathExists(dir.path() + "/.staging-checkpoint-4"));
  EXPECT_TRUE(runtime::PathExists(dir.path() + "/checkpoint-2"));
}

TEST(CheckpointFolder, RotationKeepsTheNewestAndTheBestAndDeletesTheOldest) {
  ScratchDir dir;
  for (int64_t s : {1, 2, 3, 4, 5}) Save(dir, s);
  auto deleted = RotateCheckpoints(dir.path(), 2, /*keep_step=*/2);
  EXPECT_EQ(deleted.size(), 3u);
  EXPECT_EQ(Steps(dir.path()), (std::vector<int64_t>{2, 5}));
  // A limit of 1 with a best that is not the newest keeps both (the newest is needed to resume).
  RotateCheckpoints(dir.path(), 1, 2);
  EXPECT_EQ(Steps(dir.path()), (std::vector<int64_t>{2, 5}));
  RotateCheckpoints(dir.path(), 1, -1);
  EXPECT_EQ(Steps(dir.path()), (std::vector<int64_t>{5}));
}

TEST(CheckpointFolder, RotationNeverCountsOrKeepsIncompleteFoldersButSparesANewerOne) {
  ScratchDir dir;
  Save(dir, 1);
  dir.Write("checkpoint-2/model.safetensors", "cut");  // older than the newest complete: garbage
  Save(dir, 3);
  dir.Write("checkpoint-9/model.safetensors", "cut");  // newer: may be a restore in progress
  RotateCheckpoints(dir.path(), 2, -1);
  EXPECT_EQ(Steps(dir.path()), (std::vector<int64_t>{1, 3, 9}));
  EXPECT_EQ(NewestValidCheckpoint(dir.path()), dir.path() + "/checkpoint-3");
}

TEST(CheckpointFolder, NoLimitDeletesNothing) {
  ScratchDir dir;
  for (int64_t s : {1, 2, 3}) Save(dir, s);
  EXPECT_TRUE(RotateCheckpoints(dir.path(), 0, -1).empty());
  EXPECT_EQ(Steps(dir.path()).size(), 3u);
}

TEST(CheckpointFolder, AMissingOrEmptyFolderHasNoCheckpoint) {
  ScratchDir dir;
  EXPECT_EQ(NewestValidCheckpoint(dir.path() + "/absent"), "");
  EXPECT_EQ(NewestValidCheckpoint(dir.path()), "");
}

TEST(CheckpointFolder, FreeSpaceCheckNamesTheFolderAndTheFigures) {
  ScratchDir dir;
  EXPECT_TRUE(CheckFreeSpace(dir.path(), 1, "a test").ok());
  runtime::Status s = CheckFreeSpace(dir.path(), UINT64_MAX / 2, "a test");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir.path()), std::string::npos);
  EXPECT_NE(s.message().find("bytes free"), std::string::npos);
  EXPECT_NE(s.message().find("(a test)"), std::string::npos);
  // A folder not made yet: its nearest existing ancestor's file system.
  EXPECT_TRUE(CheckFreeSpace(dir.path() + "/not/yet", 1, "a test").ok());
  EXPECT_FALSE(CheckFreeSpace(dir.path() + "/not/yet", UINT64_MAX / 2, "a test").ok());
  EXPECT_TRUE(CheckFreeSpace("relative/not/yet", 1, "a test").ok()) << "the working directory's file system";
  EXPECT_TRUE(CheckFreeSpace("/not-a-folder-at-the-root", 1, "a test").ok()) << "the root's file system";
}

}  // namespace
}  // namespace trainrt::trainer
