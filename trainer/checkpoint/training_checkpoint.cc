#include "trainer/checkpoint/training_checkpoint.h"

#include <chrono>
#include <cstdio>

#include <ATen/ATen.h>

#include "runtime/file_util.h"
#include "trainer/checkpoint/checkpoint_folder.h"
#include "trainer/export_model.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

constexpr char kOptimizerFile[] = "optimizer.safetensors";
constexpr char kTrainerStateFile[] = "trainer_state.json";
constexpr char kTrainrtStateFile[] = "trainrt_state.json";

Result<nlohmann::json> ReadJson(const std::string& path) {
  auto text = runtime::ReadFileToString(path);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  return j;
}

uint64_t TensorBytes(const CheckpointSnapshot& snapshot) {
  uint64_t bytes = 0;
  auto add = [&](const TensorMap& tensors) {
    for (const auto& [name, t] : tensors) bytes += static_cast<uint64_t>(t.numel()) * t.element_size();
  };
  for (const TensorMap& shard : snapshot.model) add(shard);
  add(snapshot.optimizer);
  for (const TensorMap& state : snapshot.rank_states) add(state);
  return bytes;
}

}  // namespace

std::string RankStateFile(int rank, int world_size) {
  return world_size > 1 ? "rng_state_" + std::to_string(rank) + ".safetensors" : "rng_state.safetensors";
}

Result<LoadedCheckpoint> LoadTrainingCheckpoint(const std::string& path) {
  LoadedCheckpoint c;
  auto trainer_state = ReadJson(path + "/" + kTrainerStateFile);
  if (!trainer_state.ok()) return trainer_state.status();
  c.trainer_state = std::move(*trainer_state);
  auto trainrt_state = ReadJson(path + "/" + kTrainrtStateFile);
  if (!trainrt_state.ok()) return trainrt_state.status();
  c.trainrt_state = std::move(*trainrt_state);
  const nlohmann::json world = c.trainrt_state.value("layout", nlohmann::json::object()).value("world_size", nlohmann::json(1));
  if (!world.is_number_integer() || world.get<int64_t>() < 1 || world.get<int64_t>() > 1 << 20) {
    return Status::InvalidArgument(path + "/" + kTrainrtStateFile + ": layout.world_size: expected a positive integer");
  }
  auto model = LoadModelWeights(path);
  if (!model.ok()) return model.status();
  c.model = std::move(*model);
  if (runtime::PathExists(path + "/" + kOptimizerFile)) {
    auto optimizer = ReadSafetensors(path + "/" + kOptimizerFile);
    if (!optimizer.ok()) return optimizer.status();
    c.optimizer = std::move(optimizer->tensors);
  }
  const int ranks = static_cast<int>(world.get<int64_t>());
  for (int rank = 0; rank < ranks; ++rank) {
    auto rank_state = ReadSafetensors(path + "/" + RankStateFile(rank, ranks));
    if (!rank_state.ok()) return rank_state.status();
    c.rank_states.push_back(std::move(rank_state->tensors));
  }
  return c;
}

CheckpointWriter::CheckpointWriter(std::string dir, ModelFiles files, int64_t save_total_limit)
    : dir_(std::move(dir)), files_(std::move(files)), save_total_limit_(save_total_limit) {}

CheckpointWriter::~CheckpointWriter() { (void)Wait(); }

Status CheckpointWriter::Wait() {
  if (thread_.joinable()) thread_.join();
  Status s = result_;
  result_ = Status::Ok();
  return s;
}

Status CheckpointWriter::Save(CheckpointSnapshot snapshot, bool background) {
  TRAINRT_RETURN_IF_ERROR(Wait());
  if (!background) return Write(snapshot);
  thread_ = std::thread([this, s = std::move(snapshot)] { result_ = Write(s); });
  return Status::Ok();
}

Status CheckpointWriter::Write(const CheckpointSnapshot& snapshot) {
  const auto start = std::chrono::steady_clock::now();
  if (last_bytes_ > 0) {
    TRAINRT_RETURN_IF_ERROR(CheckFreeSpace(dir_, last_bytes_ / 5 * 6, "1.2x the last checkpoint"));
  } else {  // the first: its tensors, and room for the rest
    TRAINRT_RETURN_IF_ERROR(CheckFreeSpace(dir_, TensorBytes(snapshot) / 5 * 6, "1.2x this checkpoint's tensors"));
  }
  auto staging = BeginCheckpoint(dir_, snapshot.step);
  if (!staging.ok()) return staging.status();
  const std::string& d = *staging;
  TRAINRT_RETURN_IF_ERROR(ExportModel(d, snapshot.model, files_));
  TRAINRT_RETURN_IF_ERROR(WriteSafetensors(d + "/" + kOptimizerFile, snapshot.optimizer, {{"format", "trainrt-adamw"}}));
  TRAINRT_RETURN_IF_ERROR(runtime::WriteFileAtomically(d + "/" + kTrainerStateFile, HfJsonText(snapshot.trainer_state)));
  TRAINRT_RETURN_IF_ERROR(runtime::WriteFileAtomically(d + "/" + kTrainrtStateFile, HfJsonText(snapshot.trainrt_state)));
  const int world = static_cast<int>(snapshot.rank_states.size());
  for (int rank = 0; rank < world; ++rank) {
    TRAINRT_RETURN_IF_ERROR(WriteSafetensors(d + "/" + RankStateFile(rank, world), snapshot.rank_states[static_cast<size_t>(rank)],
                                             {{"format", "trainrt-rank-state"}}));
  }
  auto bytes = CommitCheckpoint(d, dir_, snapshot.step);
  if (!bytes.ok()) return bytes.status();
  last_bytes_ = *bytes;
  for (const std::string& old : RotateCheckpoints(dir_, save_total_limit_, best_step_)) {
    std::printf("Deleting older checkpoint [%s] due to args.save_total_limit\n", old.c_str());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("trainrt: saved checkpoint-%lld: checkpoint_seconds = %.3f, checkpoint_bytes = %llu\n",
              static_cast<long long>(snapshot.step), seconds, static_cast<unsigned long long>(*bytes));
  std::fflush(stdout);
  return Status::Ok();
}

}  // namespace trainrt::trainer
