// Evaluate: the eval pass Trainer.evaluate runs (loss, accuracy, F1, precision, recall, runtime),
// also under data parallel (rows sharded over the replicas) and pipelines (the last stage's logits),
// every rank ending with the metrics of the whole set.
#ifndef TRAINRT_TRAINER_EVALUATE_H_
#define TRAINRT_TRAINER_EVALUATE_H_

#include <cstdint>
#include <functional>

#include <c10/core/Device.h>

#include "trainer/data/batching.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/pipeline.h"
#include "trainer/model/sequence_classifier.h"
#include "trainer/trainer_log.h"

namespace trainrt::trainer {

// Replica `shard` of `shards` takes rows shard, shard + shards, ...; its predictions go to every
// rank through one all-reduce over `group` (nullptr: one process). `pipeline` nullptr: the whole
// model is here. The model is left in training mode.
LogDict Evaluate(SequenceClassifier& model, const EncodedSet& set, int64_t batch_size, int64_t num_labels,
                 int32_t pad_id, const c10::Device& device, Collectives* group, int shard, int shards,
                 PipelineRunner* pipeline, const std::function<void()>& after_batch = [] {});

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_EVALUATE_H_
