// Evaluate: the eval pass Trainer.evaluate runs (eval_loss, the task's metrics, runtime), also
// under data parallel (rows sharded over the replicas) and pipelines (the last stage's outputs),
// every rank ending with the metrics of the whole set.
#ifndef TRAINRT_TRAINER_EVALUATE_H_
#define TRAINRT_TRAINER_EVALUATE_H_

#include <cstdint>
#include <functional>

#include <c10/core/Device.h>

#include "trainer/data/batching.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/pipeline.h"
#include "trainer/model/model.h"
#include "trainer/task/task.h"
#include "trainer/trainer_log.h"

namespace trainrt::trainer {

struct EvalOptions {
  int64_t batch_size = 8;
  int32_t pad_id = 0;
  c10::Device device{c10::kCPU};
  Collectives* group = nullptr;  // the ranks the rows are sharded over; nullptr: one process
  int shard = 0, shards = 1;     // replica `shard` of `shards` takes rows shard, shard + shards, ...
  PipelineRunner* pipeline = nullptr;  // nullptr: the whole model is here
  std::function<void()> after_batch = [] {};
};

// The model is left in training mode.
LogDict Evaluate(Model& model, const Task& task, const EncodedSet& set, const EvalOptions& options);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_EVALUATE_H_
