// Task: what the model is trained to do, as one piece the job composes with a model family and
// a tokenizer. A task owns its head, how examples become model inputs and targets, its loss, its
// evaluation metrics and what it adds to the exported config. Sequence classification is the
// first (sequence_classification.h); NewTask picks one. Immutable after LoadData.
//
// The loss is a sum over targets plus their count. The loop divides the sum by the number of
// targets in the whole accumulation window over every data-parallel rank, so gradient accumulation
// and data parallelism change how work is split, never what is learned.
#ifndef TRAINRT_TRAINER_TASK_TASK_H_
#define TRAINRT_TRAINER_TASK_TASK_H_

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "runtime/status.h"
#include "trainer/data/batching.h"
#include "trainer/finetune_args.h"
#include "trainer/model/model.h"
#include "trainer/tokenizer/tokenizer.h"
#include "trainer/trainer_log.h"

namespace trainrt::trainer {

struct LossTerms {
  at::Tensor sum;    // float32 scalar: the loss summed over the batch's targets
  at::Tensor count;  // int64 scalar: how many targets it sums over (labels that are not -100)
};

class Task {
 public:
  virtual ~Task() = default;

  // Reads the train channel and, unless `test_dir` is "", the test channel, and makes model
  // inputs (cut to `max_length` ids) and targets of them. Errors name the file, row and column.
  virtual runtime::Status LoadData(const std::string& train_dir, const std::string& test_dir, const Tokenizer& tokenizer,
                                   int max_length, EncodedSet& train, EncodedSet& eval) = 0;
  // The head the model family builds for this task (after LoadData).
  virtual HeadSpec head() const = 0;
  // The ids an example is cut to when --max_length is not given (the peer's default).
  virtual int default_max_length() const { return 512; }

  // `output`: the head's output (float32) for a batch whose targets are `labels` (Batch::labels).
  virtual LossTerms Loss(const at::Tensor& output, const at::Tensor& labels) const = 0;

  // Evaluation keeps per-set state in doubles that add up over ranks (each rank evaluates some
  // rows): EvalStateSize values, to which AddToEval adds a batch's `output` for the set's `rows`.
  virtual size_t EvalStateSize(const EncodedSet& set) const = 0;
  virtual void AddToEval(const at::Tensor& output, const std::vector<int64_t>& rows, std::vector<double>& state) const = 0;
  // The metrics Trainer.evaluate logs after eval_loss ("eval_accuracy", ...), from the summed state
  // (followed by Evaluate's two values: the loss weighted by rows, and the rows).
  virtual LogDict EvalMetrics(const std::vector<double>& state, const EncodedSet& set) const = 0;

  // What the exported config.json gains (id2label, label2id, problem_type).
  virtual void AddToExportConfig(nlohmann::json& config) const = 0;
  // What a checkpoint's data position depends on besides the batching (the label names).
  virtual std::vector<std::string> LayoutNames() const = 0;
  // For the start-up line: "2 labels".
  virtual std::string Describe() const = 0;
};

class ModelFamily;

// The task --task names (sequence-classification, causal-lm, and their transformers and PEFT
// spellings), else the one `family` is trained for by default. `model_dir`: the model folder (a
// causal LM reads its chat template there).
runtime::Result<std::unique_ptr<Task>> NewTask(const FinetuneArgs& args, const ModelFamily& family,
                                               const std::string& model_dir);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TASK_TASK_H_
