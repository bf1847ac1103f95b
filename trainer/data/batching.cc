#include "trainer/data/batching.h"

#include <algorithm>
#include <optional>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace trainrt::trainer {

EncodedSet Encode(const std::vector<TextExample>& examples, const LabelMap& labels, const WordPieceTokenizer& tokenizer,
                  int max_length) {
  EncodedSet set;
  EncodeOptions options;
  options.max_length = max_length;
  for (const TextExample& ex : examples) {
    if (!ex.input_ids.empty()) {  // pre-tokenized: keep the ids, cut to max_length
      Encoding e;
      e.input_ids.assign(ex.input_ids.begin(),
                         ex.input_ids.begin() + std::min<std::ptrdiff_t>(max_length, ex.input_ids.size()));
      if (ex.attention_mask.empty()) {
        e.attention_mask.assign(e.input_ids.size(), 1);
      } else {
        e.attention_mask.assign(ex.attention_mask.begin(), ex.attention_mask.begin() + e.input_ids.size());
      }
      e.token_type_ids.assign(e.input_ids.size(), 0);
      set.inputs.push_back(std::move(e));
    } else {
      set.inputs.push_back(tokenizer.Encode(ex.text, ex.pair ? std::optional<std::string_view>(*ex.pair) : std::nullopt,
                                            options));
    }
    set.labels.push_back(labels.ids.at(ex.label));
  }
  return set;
}

Batch Collate(const EncodedSet& set, const std::vector<int64_t>& index, int32_t pad_id, const c10::Device& device) {
  size_t longest = 0;
  for (int64_t i : index) longest = std::max(longest, set.inputs[static_cast<size_t>(i)].input_ids.size());
  const int64_t b = static_cast<int64_t>(index.size()), l = static_cast<int64_t>(longest);
  at::Tensor ids = at::full({b, l}, pad_id, at::kLong), mask = at::zeros({b, l}, at::kLong),
             types = at::zeros({b, l}, at::kLong), labels = at::empty({b}, at::kLong);
  auto ids_a = ids.accessor<int64_t, 2>(), mask_a = mask.accessor<int64_t, 2>(), types_a = types.accessor<int64_t, 2>();
  auto labels_a = labels.accessor<int64_t, 1>();
  for (int64_t r = 0; r < b; ++r) {
    const Encoding& e = set.inputs[static_cast<size_t>(index[static_cast<size_t>(r)])];
    for (size_t t = 0; t < e.input_ids.size(); ++t) {
      ids_a[r][static_cast<int64_t>(t)] = e.input_ids[t];
      mask_a[r][static_cast<int64_t>(t)] = e.attention_mask[t];
      types_a[r][static_cast<int64_t>(t)] = e.token_type_ids[t];
    }
    labels_a[r] = set.labels[static_cast<size_t>(index[static_cast<size_t>(r)])];
  }
  const bool pin = device.is_cuda();
  auto move = [&](const at::Tensor& t) { return (pin ? t.pin_memory() : t).to(device, /*non_blocking=*/pin); };
  return {move(ids), move(mask), move(types), move(labels)};
}

std::vector<std::vector<int64_t>> EpochBatches(const EncodedSet& set, int64_t batch_size, int64_t seed, int64_t epoch,
                                               bool group_by_length, int rank, int world_size) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed + epoch));
  at::Tensor perm = at::randperm(static_cast<int64_t>(set.labels.size()), gen, at::kLong);
  std::vector<int64_t> order(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + perm.numel());
  if (group_by_length) {
    // Windows of 50 global batches, so N ranks group as one process with N times the batch does.
    const size_t window = static_cast<size_t>(batch_size) * static_cast<size_t>(world_size) * 50;
    for (size_t start = 0; start < order.size(); start += window) {
      auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + window));
      std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start), end, [&](int64_t a, int64_t b) {
        return set.inputs[static_cast<size_t>(a)].input_ids.size() > set.inputs[static_cast<size_t>(b)].input_ids.size();
      });
    }
  }
  if (world_size > 1 && !order.empty()) {
    // Every rank gets the same number of full batches: complete the order from its start.
    const size_t global = static_cast<size_t>(batch_size) * static_cast<size_t>(world_size);
    const size_t target = (order.size() + global - 1) / global * global;
    for (size_t i = 0; order.size() < target; ++i) order.push_back(order[i]);
  }
  std::vector<std::vector<int64_t>> batches;
  size_t index = 0;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size), ++index) {
    if (static_cast<int>(index % static_cast<size_t>(world_size)) != rank) continue;
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + batch_size)));
  }
  return batches;
}

}  // namespace trainrt::trainer
