// A training checkpoint's contents and its writer. `checkpoint-<step>/` holds a loadable Hugging
// Face model (config.json, model.safetensors, tokenizer files), Trainer's trainer_state.json, and
// trainrt's own resume state, documented in the README:
//   optimizer.safetensors             AdamW moments and step counts, by parameter name (rank 0)
//   rng_state[_<rank>].safetensors    per rank: CPU (and CUDA) generator states, fp16 loss scale,
//                                     the loss accumulated since the last log line
//   trainrt_state.json                data position (epoch, next batch), schedule step, counters,
//                                     best metric, and the layout the data position depends on
// The writer takes a snapshot (CPU copies) and writes it on a background thread, so training goes
// on while the files are written; crash consistency comes from checkpoint_folder.h.
#ifndef TRAINRT_TRAINER_CHECKPOINT_TRAINING_CHECKPOINT_H_
#define TRAINRT_TRAINER_CHECKPOINT_TRAINING_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/export_model.h"
#include "trainer/model/safetensors.h"

namespace trainrt::trainer {

// Data parallel: rank 0 writes the whole checkpoint (the replicas' model and optimizer are
// identical; the other ranks' RNG states are gathered to it), so only one host's disk needs to
// hold it, and SageMaker restores it to every host anyway.
struct CheckpointSnapshot {
  int64_t step = 0;
  std::vector<TensorMap> model;        // CPU copies; one shard per pipeline stage
  TensorMap optimizer;
  std::vector<TensorMap> rank_states;  // one per rank
  nlohmann::json trainer_state;    // Hugging Face's trainer_state.json
  nlohmann::json trainrt_state;    // trainrt_state.json
};

// The file with this rank's RNG and loss-scaler state: rng_state.safetensors for one process,
// rng_state_<rank>.safetensors with several (Trainer's naming, safetensors instead of pickle).
std::string RankStateFile(int rank, int world_size);

// What LoadTrainingCheckpoint returns: the same parts as the snapshot; as many rank states as
// the checkpoint's world size (whether that fits this run is the caller's check).
struct LoadedCheckpoint {
  TensorMap model, optimizer;
  std::vector<TensorMap> rank_states;
  nlohmann::json trainer_state, trainrt_state;
};
runtime::Result<LoadedCheckpoint> LoadTrainingCheckpoint(const std::string& path);

class CheckpointWriter {
 public:
  CheckpointWriter(std::string dir, ModelFiles files, int64_t save_total_limit);
  ~CheckpointWriter();  // waits for a write in flight
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Waits for the previous write, then writes `snapshot` in the background (synchronously when
  // `background` is false). Returns the previous write's error, if any.
  runtime::Status Save(CheckpointSnapshot snapshot, bool background);
  // Waits for the write in flight; its error, if any.
  runtime::Status Wait();
  // The step of the best checkpoint, kept by rotation (-1: none).
  void set_best_step(int64_t step) { best_step_ = step; }

 private:
  runtime::Status Write(const CheckpointSnapshot& snapshot);

  std::string dir_;
  ModelFiles files_;
  int64_t save_total_limit_;
  int64_t best_step_ = -1;
  uint64_t last_bytes_ = 0;
  std::thread thread_;
  runtime::Status result_;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_CHECKPOINT_TRAINING_CHECKPOINT_H_
