// FinetuneArgs: trainrt-finetune's settings, parsed from the `--name value` arguments SageMaker
// passes (every hyperparameter of the job). Accepts the seed script's spellings and Hugging Face
// TrainingArguments' names with TrainingArguments' defaults; booleans take True/False; unknown
// arguments are reported once and ignored. Paths default to the SM_* variables, and trainrt's
// TRAINRT_* settings for the fine-tuner are read here too: every setting is read once.
#ifndef TRAINRT_TRAINER_FINETUNE_ARGS_H_
#define TRAINRT_TRAINER_FINETUNE_ARGS_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/process_env.h"
#include "runtime/status.h"
#include "trainer/data/packing.h"
#include "trainer/optim/lr_schedule.h"

namespace trainrt::trainer {

// Pipeline model parallelism: SageMaker's mp_parameters (argv "--mp_parameters k=v,..." or
// SM_HP_MP_PARAMETERS as JSON) or the same names as plain arguments, which win.
struct PipelineArgs {
  int64_t partitions = 1;                 // partitions, pipeline_parallel_degree
  int64_t microbatches = 1;
  std::string pipeline = "interleaved";   // interleaved (1F1B) | simple (GPipe)
  std::string placement_strategy = "cluster";  // cluster | spread
  bool ddp = false;                       // replicate the pipeline (data parallel across replicas)
  bool enabled() const { return partitions > 1; }
};

struct FinetuneArgs {
  std::string model_name_or_path;       // --model_name_or_path, --model_name (required)
  double num_train_epochs = 3.0;        // --epochs, --num_train_epochs
  int64_t max_steps = -1;               // > 0 overrides epochs
  int64_t per_device_train_batch_size = 8;  // --train_batch_size too
  int64_t per_device_eval_batch_size = 8;   // --eval_batch_size too
  int64_t gradient_accumulation_steps = 1;
  double learning_rate = 5e-5;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;
  double max_grad_norm = 1.0;           // <= 0: no clipping, no grad_norm
  double warmup_steps = 0;              // < 1: a ratio of the total steps (v5 convention)
  double warmup_ratio = 0.0;
  std::string lr_scheduler_type = "linear";  // linear | cosine | constant | constant_with_warmup
  LrSchedule lr_schedule = LrSchedule::kLinear;  // lr_scheduler_type, parsed
  double logging_steps = 500;           // < 1: a ratio of the total steps
  bool logging_first_step = false;
  std::string eval_strategy = "no";     // no | steps | epoch (--evaluation_strategy too)
  double eval_steps = 0;                // 0: logging_steps
  std::string save_strategy = "steps";  // no | steps | epoch
  double save_steps = 500;              // < 1: a ratio of the total steps
  int64_t save_total_limit = 0;         // <= 0: keep every checkpoint
  std::string resume_from_checkpoint = "auto";  // auto | True | False | a checkpoint folder
  bool load_best_model_at_end = false;
  std::string metric_for_best_model;
  int64_t ddp_timeout = 0;              // seconds per collective as given; 0: not given
  int64_t stall_timeout = -1;           // seconds without progress; given, else TRAINRT_STALL_SECONDS, else 600; 0: never
  // trainrt's own settings, from the environment (resolved by Parse).
  int64_t collective_timeout = 600;     // seconds per collective: --ddp_timeout, else TRAINRT_COLLECTIVE_TIMEOUT_SECONDS
  int64_t stop_deadline = 85;           // TRAINRT_STOP_DEADLINE_SECONDS: from SIGTERM to a forced exit
  double progress_seconds = 30;         // TRAINRT_PROGRESS_SECONDS: between the progress lines on stderr
  int64_t seed = 42;
  int64_t max_seq_length = 512;         // --max_length too; capped by the model's max positions
  bool max_seq_length_given = false;    // else the task's default (causal LM: 1024, as TRL's SFTConfig)
  std::string task;                     // "": the model family's; sequence-classification | causal-lm
  std::string dataset_text_field = "text";   // causal LM: the text column (TRL's name)
  std::optional<bool> completion_only_loss;  // causal LM with prompt/completion: unset is True (TRL's)
  bool assistant_only_loss = false;          // causal LM with conversations: the loss on the assistant's tokens
  std::string chat_template_path;            // a .jinja/.j2 file: the chat template instead of the model's (TRL's)
  bool packing = false;                      // causal LM: examples share rows of max_length ids (TRL's)
  std::string packing_strategy = "bfd";      // bfd | bfd_split | wrapped
  PackingStrategy packing_strategy_parsed = PackingStrategy::kBfd;
  std::optional<bool> eval_packing;          // the test set packed too; unset: as packing (TRL's)
  bool bf16 = false;
  bool fp16 = false;
  bool gradient_checkpointing = false;  // recompute each layer's activations in backward: less memory
  std::set<std::string> given;          // the settings the arguments named (as spelled)
  bool group_by_length = false;         // batches of similar length (faster; a different data order)
  std::string output_dir;               // checkpoints: checkpointconfig.json's LocalPath, else <base>/checkpoints
  std::string model_dir;                // SM_MODEL_DIR
  std::string training_dir;             // SM_CHANNEL_TRAIN
  std::string test_dir;                 // SM_CHANNEL_TEST ("" -> no evaluation data)
  std::string output_data_dir;          // SM_OUTPUT_DATA_DIR
  std::string text_column = "text";
  std::string text_pair_column;         // "" -> single sentences
  std::string label_column = "label";
  int64_t num_labels = 0;               // 0: from the data
  PipelineArgs pipeline;
  std::vector<std::string> ignored;     // unknown arguments, reported once
  std::vector<std::string> warnings;    // settings corrected on parsing, reported once

  // argv excludes the program name. InvalidArgument names the argument and the expected value.
  static runtime::Result<FinetuneArgs> Parse(const std::vector<std::string>& argv, const runtime::EnvMap& env);

  // The causal-LM task's defaults where the arguments named nothing: TRL SFTConfig's, which
  // differ from TrainingArguments' (learning_rate 2e-05, logging_steps 10, gradient_checkpointing
  // True, bf16 True unless fp16). Returns what it set ("learning_rate=2e-05", ...).
  std::vector<std::string> ApplySftConfigDefaults();
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_FINETUNE_ARGS_H_
