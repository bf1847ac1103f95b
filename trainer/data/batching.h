// From examples to batches: tokenized examples (EncodedSet), an epoch's batch order (Trainer's
// randperm(N) seeded seed + epoch, optionally grouped by length), and collation into padded
// tensors on the training device.
#ifndef TRAINRT_TRAINER_DATA_BATCHING_H_
#define TRAINRT_TRAINER_DATA_BATCHING_H_

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "trainer/data/text_classification_data.h"
#include "trainer/tokenizer/wordpiece_tokenizer.h"

namespace trainrt::trainer {

struct EncodedSet {
  std::vector<Encoding> inputs;  // unpadded
  std::vector<int64_t> labels;
};

// Tokenizes text rows (pre-tokenized rows keep their ids), cut to `max_length`.
EncodedSet Encode(const std::vector<TextExample>& examples, const LabelMap& labels, const WordPieceTokenizer& tokenizer,
                  int max_length);

struct Batch {
  at::Tensor input_ids, attention_mask, token_type_ids, labels;  // [B, L] x3 (padded to the longest), [B]
};

// The rows `index` of `set`, padded to the longest, on `device` (through pinned memory for CUDA).
Batch Collate(const EncodedSet& set, const std::vector<int64_t>& index, int32_t pad_id, const c10::Device& device);

// Epoch `epoch`'s batches: randperm(N) from a CPU generator seeded seed + epoch, cut into batches.
// With group_by_length, each window of 50 (global) batches is sorted by length first (less padding).
// Data parallel (accelerate's sharding with even batches): the order is completed from its start
// to a whole number of world_size x batch_size, and rank r takes batches r, r + world_size, ...;
// so one step of all ranks covers the same examples as one step of a single process with
// world_size times the batch.
std::vector<std::vector<int64_t>> EpochBatches(const EncodedSet& set, int64_t batch_size, int64_t seed, int64_t epoch,
                                               bool group_by_length, int rank = 0, int world_size = 1);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DATA_BATCHING_H_
