// The data position a checkpoint keeps: trainrt_state.json and trainer_state.json restore every
// counter exactly, a checkpoint of another layout is refused naming the setting, and resuming at
// the saved batch of the saved epoch visits exactly the batches an uninterrupted run still had.
#include "trainer/checkpoint/training_progress.h"

#include <gtest/gtest.h>

#include "trainer/data/batching.h"

namespace trainrt::trainer {
namespace {

DataLayout Layout() {
  return DataLayout{"BertForSequenceClassification", {"neg", "pos"}, 2, 8, 2, 42, 100, false, 1};
}

Progress MidEpoch() {
  Progress p;
  p.global_step = 17;
  p.scheduler_step = 16;  // one fp16 overflow skipped
  p.epoch = 2;
  p.next_batch = 5;
  p.last_logged_step = 15;
  p.total_loss = 9.8765432101234567;
  p.epoch_progress = 2.3125;
  p.total_flos = 1.5e12;
  p.best_metric = 0.8125;
  p.best_global_step = 15;
  p.best_model_checkpoint = "/opt/ml/checkpoints/checkpoint-15";
  p.log_history.push_back({{"loss", 0.693}, {"step", 15}});
  return p;
}

TEST(TrainingProgress, StateFilesRestoreEveryCounterExactly) {
  const Progress saved = MidEpoch();
  FinetuneArgs args;
  const StepSettings steps{100, 7, 5, 5, 10};
  const nlohmann::json trainrt_state = nlohmann::json::parse(TrainrtState(saved, Layout()).dump());
  const nlohmann::json trainer_state = nlohmann::json::parse(TrainerState(saved, args, steps).dump());
  EXPECT_EQ(trainer_state["global_step"], 17);
  EXPECT_EQ(trainer_state["max_steps"], 100);
  Progress restored;
  ASSERT_TRUE(RestoreProgress(trainrt_state, trainer_state, "ck", Layout(), restored).ok());
  EXPECT_EQ(restored.global_step, saved.global_step);
  EXPECT_EQ(restored.scheduler_step, saved.scheduler_step);
  EXPECT_EQ(restored.epoch, saved.epoch);
  EXPECT_EQ(restored.next_batch, saved.next_batch);
  EXPECT_EQ(restored.last_logged_step, saved.last_logged_step);
  EXPECT_EQ(restored.total_loss, saved.total_loss);  // bit for bit through the JSON
  EXPECT_EQ(restored.epoch_progress, saved.epoch_progress);
  EXPECT_EQ(restored.total_flos, saved.total_flos);
  EXPECT_EQ(restored.best_metric, saved.best_metric);
  EXPECT_EQ(restored.best_global_step, saved.best_global_step);
  EXPECT_EQ(restored.best_model_checkpoint, saved.best_model_checkpoint);
  EXPECT_EQ(restored.log_history, saved.log_history);
}

TEST(TrainingProgress, AnotherLayoutIsRefusedNamingTheSetting) {
  const nlohmann::json trainrt_state = TrainrtState(MidEpoch(), Layout());
  const nlohmann::json trainer_state = TrainerState(MidEpoch(), FinetuneArgs(), StepSettings{100, 7, 5, 5, 10});
  DataLayout other = Layout();
  other.world_size = 3;
  Progress p;
  EXPECT_EQ(RestoreProgress(trainrt_state, trainer_state, "ck", other, p).ToString(),
            "ck was written with world_size 2, this run has 3: resume with the same settings, or pass "
            "--resume_from_checkpoint False");
  other = Layout();
  other.labels = {"a", "b"};
  EXPECT_NE(RestoreProgress(trainrt_state, trainer_state, "ck", other, p).ToString().find("was written with labels"),
            std::string::npos);
}

TEST(TrainingProgress, SeekingToTheSavedBatchVisitsWhatTheUninterruptedRunStillHad) {
  EncodedSet set;
  for (int i = 0; i < 37; ++i) {
    set.inputs.push_back(Encoding{std::vector<int32_t>(3 + i % 7, 5), std::vector<int32_t>(3 + i % 7, 1),
                                  std::vector<int32_t>(3 + i % 7, 0), std::vector<int32_t>(3 + i % 7, 0)});
    set.labels.push_back(i % 2);
  }
  for (bool grouped : {false, true}) {
    const auto whole = EpochBatches(set, 4, 42, /*epoch=*/2, grouped, /*rank=*/1, /*world_size=*/2);
    // A resumed run recomputes the epoch's order and starts at next_batch: no batch replayed or skipped.
    const auto again = EpochBatches(set, 4, 42, 2, grouped, 1, 2);
    const size_t next_batch = 3;
    ASSERT_GT(whole.size(), next_batch);
    for (size_t b = next_batch; b < whole.size(); ++b) EXPECT_EQ(again[b], whole[b]) << "batch " << b;
    EXPECT_NE(EpochBatches(set, 4, 42, 3, grouped, 1, 2), whole) << "each epoch has its own order";
  }
}

TEST(StepTargetCounts, CountEveryRanksTargetsPerBatchStep) {
  EncodedSet set;
  for (int i = 0; i < 10; ++i) {
    set.inputs.push_back(Encoding{{1, 2, 3}, {1, 1, 1}, {0, 0, 0}, {-1, 0, -1}});
    set.labels.push_back(i == 3 ? kIgnoreIndex : i % 2);  // one example teaches nothing
  }
  // 2 ranks x batch 3: the order is completed to 12 examples (two of them visited twice), 2 steps.
  const auto counts = StepTargetCounts(set, 3, 42, 0, false, 2);
  ASSERT_EQ(counts.size(), 2u);
  int64_t expected_total = 0;
  for (int rank = 0; rank < 2; ++rank) {
    for (const auto& batch : EpochBatches(set, 3, 42, 0, false, rank, 2)) {
      for (int64_t i : batch) expected_total += i == 3 ? 0 : 1;
    }
  }
  EXPECT_EQ(counts[0] + counts[1], expected_total);
  EXPECT_LE(counts[0], 6);
  // Token-level targets count the positions that are not kIgnoreIndex.
  set.token_labels.assign(10, {kIgnoreIndex, 7, 8});
  EXPECT_EQ(set.TargetCount(0), 2);
  const auto tokens = StepTargetCounts(set, 3, 42, 0, false, 2);
  EXPECT_EQ(tokens, (std::vector<int64_t>{12, 12}));
}

}  // namespace
}  // namespace trainrt::trainer
