// The fine-tuning job's parts, internal to trainer/job/: what is trained (family, tokenizer,
// task, model, data), where (the topology and this rank's pipeline stage), how (optimizer,
// schedule, gradient sync, checkpoint writer), and the progress. Each phase is a function of its
// own file, in the order RunFinetune (finetune_job.h) calls them:
//   setup.cc       SetUp: model, tokenizer, task and data; ranks and stages; optimizer and schedule
//   resume.cc      Resume: the checkpoint to continue from, handed to every rank
//   setup.cc       PrepareTraining: gradient sync, pipeline runner, autocast, checkpoint writer
//   train_loop.cc  Train: the step loop
//   finish.cc      Finish: summary, best model, final evaluation, export
// job.cc holds what several phases use: checkpoints, evaluation, the pending loss.
#ifndef TRAINRT_TRAINER_JOB_JOB_H_
#define TRAINRT_TRAINER_JOB_JOB_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "runtime/process_env.h"
#include "runtime/status.h"
#include "trainer/checkpoint/training_checkpoint.h"
#include "trainer/checkpoint/training_progress.h"
#include "trainer/data/batching.h"
#include "trainer/distributed/gradient_sync.h"
#include "trainer/distributed/pipeline.h"
#include "trainer/distributed/topology.h"
#include "trainer/finetune_args.h"
#include "trainer/model/model_family.h"
#include "trainer/optim/adamw.h"
#include "trainer/optim/loss_scaler.h"
#include "trainer/stall_watchdog.h"
#include "trainer/task/task.h"
#include "trainer/tokenizer/tokenizer.h"
#include "trainer/trainer_log.h"

namespace trainrt::trainer {

using Clock = std::chrono::steady_clock;

// The step counts of the run, from the data size, the batching and the arguments.
struct Schedule {
  int64_t examples = 0;          // training examples
  int64_t global_batch = 0;      // per-device batch x data-parallel replicas
  int64_t accumulation = 1;      // micro-batches per optimizer step
  int64_t updates_per_epoch = 1;
  int64_t warmup = 0;            // warmup steps of the learning rate
  StepSettings steps{};
};

struct Job {
  Job(const FinetuneArgs& a, const runtime::EnvMap& e) : args(a), env(e) {}
  FinetuneArgs args;  // a copy: the task's defaults complete it (FinetuneArgs::ApplySftConfigDefaults)
  const runtime::EnvMap& env;

  // What is trained (SetUp).
  std::string model_path;
  std::unique_ptr<ModelFamily> family;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Task> task;
  std::shared_ptr<Model> model;
  EncodedSet train, eval;
  int32_t pad_id = 0;               // what batches are padded with
  double non_embedding_params = 0;  // of the whole model, for total_flos
  uint64_t model_bytes = 0;         // of the whole model, for the free-space check
  at::Device device{at::kCPU};

  // Where (SetUp).
  Topology topology;
  std::vector<StageTensor> stage_tensors;      // every parameter of the model, with its stage
  std::vector<StageTensor> optimizer_entries;  // the optimizer state that goes with them

  // How (SetUp).
  std::vector<at::Tensor> params;  // this rank's (its stage's, with a pipeline), in model order
  TensorMap param_refs;            // the same by name
  std::unique_ptr<AdamW> optimizer;
  std::unique_ptr<LossScaler> scaler;
  Schedule schedule;
  DataLayout layout;
  std::unique_ptr<GradientSynchronizer> sync;   // several data-parallel replicas
  std::unique_ptr<PipelineRunner> pipeline;     // pipeline parallelism
  std::unique_ptr<CheckpointWriter> writer;     // rank 0, unless save_strategy is no

  // Progress: progress is what checkpoints keep; the rest changes as training goes.
  Progress progress;
  std::string resume_path;    // "" for a fresh start
  at::Tensor loss_since_log;  // scalar, on the device: the loss summed since the last log line
  int64_t last_saved_step = -1;
  std::unique_ptr<StallWatchdog> watchdog;  // from the first step on
  Clock::time_point start;

  bool main_rank() const { return topology.main(); }
};

// The phases, in order.
runtime::Status SetUp(Job& job);
runtime::Status Resume(Job& job);
runtime::Status PrepareTraining(Job& job);  // setup.cc: what runs the steps, once resumed
runtime::Status Train(Job& job);
runtime::Status Finish(Job& job);

// ---- shared by the phases (job.cc) ----
// This rank's RNG, loss-scaler and pending-loss state, as checkpoints keep it, and back.
TensorMap RankState(const Job& job);
runtime::Status RestoreRankState(Job& job, const TensorMap& state);
// The whole model's weights on rank 0 (gathered from the stages): one map per stage.
std::vector<TensorMap> FullWeights(Job& job);
// Snapshots the state after the current optimizer step and has rank 0 write it, in the
// background unless `wait`.
runtime::Status SaveCheckpoint(Job& job, bool wait);
// Evaluates on the test channel (every rank) and prints Trainer's eval dict (rank 0); `record`
// adds it to log_history and tracks the best metric.
LogDict EvaluateNow(Job& job, bool record);
// The pending loss summed over the ranks and averaged over the replicas (Trainer logs the mean).
void AveragePendingLoss(Job& job, const std::string& what);
// Rank 0's value of `text` on every rank.
std::string BroadcastString(Collectives& group, const std::string& text, const std::string& what);
void PrintLine(const std::string& line);
// Python's str() of a list of names, as transformers prints them: "['a', 'b']".
std::string PythonList(const std::vector<std::string>& items);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_JOB_JOB_H_
