// From encoded examples to batches: an epoch's batch order (Trainer's randperm(N) seeded
// seed + epoch, optionally grouped by length), sharded over data-parallel ranks, and collation
// into padded tensors on the training device. Tasks make the EncodedSet (task/task.h).
#ifndef TRAINRT_TRAINER_DATA_BATCHING_H_
#define TRAINRT_TRAINER_DATA_BATCHING_H_

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "trainer/model/model.h"
#include "trainer/tokenizer/tokenizer.h"

namespace trainrt::trainer {

// Label id of positions that teach nothing (padding, prompts): torch's ignore_index.
inline constexpr int32_t kIgnoreIndex = -100;

// A task's examples, encoded. Targets are one label per example (sequence-level tasks) or one per
// input id (token-level tasks, kIgnoreIndex where nothing is learned).
struct EncodedSet {
  std::vector<Encoding> inputs;                    // unpadded
  std::vector<int64_t> labels;                     // sequence-level: one per example
  std::vector<std::vector<int32_t>> token_labels;  // token-level: one per input id
  // Packed rows (data/packing.h): the lengths of the examples each row concatenates, in order;
  // empty when every row is one example. Collation restarts positions at each example and keeps
  // attention inside it.
  std::vector<std::vector<int32_t>> segment_lengths;
  // Token-level examples whose attention stays inside them (causal LMs) may share a padded row of
  // their batch: Collate fills one example's padding with others, as segments. The batch, its
  // targets and its loss are the same; the padding computed is less.
  bool share_rows = false;
  // Token-level examples whose loss needs the head only where there are targets (causal LMs:
  // prompts, padding and each example's last position have none): Collate marks those positions
  // (ModelInputs::head_positions) and keeps only their labels, [1, N]; the head computes nothing
  // else, which the loss never read.
  bool head_on_targets_only = false;

  size_t size() const { return inputs.size(); }
  // How many targets example `i` has (labels that are not kIgnoreIndex).
  int64_t TargetCount(size_t i) const;
};

struct Batch {
  // [R, T] each, padded to the longest example; R rows hold the batch's examples, one each or, when
  // rows are shared, several (then with position and segment ids, as packed rows have).
  ModelInputs inputs;
  at::Tensor labels;   // [B] (sequence-level) or [B, T] (token-level, kIgnoreIndex on padding), or
                       // [1, N] with head_on_targets_only: the targets alone
  int64_t targets = 0;  // labels that are not kIgnoreIndex
};

// The rows `index` of `set`, padded with `pad_id` to the longest, on `device` (through pinned
// memory for CUDA).
Batch Collate(const EncodedSet& set, const std::vector<int64_t>& index, int32_t pad_id, const c10::Device& device);

// Epoch `epoch`'s batches: randperm(N) from a CPU generator seeded seed + epoch, cut into batches.
// With group_by_length, each window of 50 (global) batches is sorted by length first (less padding).
// Data parallel (accelerate's sharding with even batches): the order is completed from its start
// to a whole number of world_size x batch_size, and rank r takes batches r, r + world_size, ...;
// so one step of all ranks covers the same examples as one step of a single process with
// world_size times the batch.
std::vector<std::vector<int64_t>> EpochBatches(const EncodedSet& set, int64_t batch_size, int64_t seed, int64_t epoch,
                                               bool group_by_length, int rank = 0, int world_size = 1);

// The targets of each of an epoch's batch steps over all `world_size` ranks: element b counts
// the targets of batch b of every rank. Computed on the host from the same orders every rank
// draws, so the loss divisor of an accumulation window needs no communication.
std::vector<int64_t> StepTargetCounts(const EncodedSet& set, int64_t batch_size, int64_t seed, int64_t epoch,
                                      bool group_by_length, int world_size);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DATA_BATCHING_H_
