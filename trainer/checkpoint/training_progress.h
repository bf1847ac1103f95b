// The training progress a checkpoint keeps besides tensors, and how a run picks and restores one:
// trainrt_state.json (data position, schedule step, loss counters, and the layout the data
// position depends on), Hugging Face's trainer_state.json, the random generators' states, and
// --resume_from_checkpoint's choice.
#ifndef TRAINRT_TRAINER_CHECKPOINT_TRAINING_PROGRESS_H_
#define TRAINRT_TRAINER_CHECKPOINT_TRAINING_PROGRESS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/finetune_args.h"
#include "trainer/model/safetensors.h"

namespace trainrt::trainer {

// The layout the data position depends on: resuming with a different one would visit other
// examples, so it is refused.
struct DataLayout {
  std::string architecture;  // and the labels: a checkpoint of another model or task is refused too
  std::vector<std::string> labels;
  int64_t world_size, per_device_train_batch_size, gradient_accumulation_steps, seed, num_train_examples;
  bool group_by_length;
  int64_t pipeline_partitions;
  nlohmann::json ToJson() const;
};

struct Progress {
  int64_t global_step = 0;
  int64_t scheduler_step = 0;    // optimizer steps taken (fp16 overflow steps are not)
  int64_t epoch = 0;             // where the next batch comes from
  int64_t next_batch = 0;
  int64_t last_logged_step = 0;
  double total_loss = 0;         // sum of the logged mean losses times their steps
  double epoch_progress = 0;     // Trainer's fractional epoch
  double total_flos = 0;         // Trainer's estimate: 6 x non-embedding parameters x tokens
  std::optional<double> best_metric;
  int64_t best_global_step = -1;
  std::string best_model_checkpoint;
  nlohmann::json log_history = nlohmann::json::array();
};

// The step settings trainer_state.json records.
struct StepSettings {
  int64_t max_steps, num_epochs, logging_steps, eval_steps, save_steps;
};

// trainrt_state.json's contents.
nlohmann::json TrainrtState(const Progress& p, const DataLayout& layout);
// Trainer's trainer_state.json (TrainerState fields, sorted when written).
nlohmann::json TrainerState(const Progress& p, const FinetuneArgs& args, const StepSettings& steps);
// Restores `p` from the two state files of the checkpoint at `path`; the error names the layout
// setting that differs from `layout`.
runtime::Status RestoreProgress(const nlohmann::json& trainrt_state, const nlohmann::json& trainer_state,
                                const std::string& path, const DataLayout& layout, Progress& p);

// This process's random generators: the CPU one, and the CUDA one of `device` when training there.
void SaveRngState(const c10::Device& device, TensorMap& out);
runtime::Status RestoreRngState(const c10::Device& device, const TensorMap& state);

// How old a file is, for the resume line ("3m12s", "2h05m").
std::string AgeOf(const std::string& path);

// The checkpoint --resume_from_checkpoint names: "auto" the newest valid one or none, "True" the
// newest valid one (an error without one), "False" none, else that folder (it must verify).
// Removes staging folders killed runs left.
runtime::Result<std::string> ChooseCheckpoint(const FinetuneArgs& args);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_CHECKPOINT_TRAINING_PROGRESS_H_
