#include "trainer/data/batching.h"

#include <algorithm>
#include <optional>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "trainer/data/packing.h"

namespace trainrt::trainer {

int64_t EncodedSet::TargetCount(size_t i) const {
  if (token_labels.empty()) return labels[i] == kIgnoreIndex ? 0 : 1;
  int64_t n = 0;
  for (int32_t label : token_labels[i]) n += label != kIgnoreIndex;
  return n;
}

Batch Collate(const EncodedSet& set, const std::vector<int64_t>& index, int32_t pad_id, const c10::Device& device) {
  const bool token_level = !set.token_labels.empty();
  auto length = [&](int64_t i) { return set.inputs[static_cast<size_t>(i)].input_ids.size(); };
  size_t longest = 0;
  for (int64_t i : index) longest = std::max(longest, length(i));
  // The rows: the examples each holds. Shared rows fill the padding of a row with other examples
  // of the batch (best-fit decreasing into the longest example's length).
  std::vector<std::vector<int64_t>> rows;
  if (set.share_rows && token_level) {
    std::vector<size_t> lengths;
    for (int64_t i : index) lengths.push_back(std::max<size_t>(length(i), 1));
    for (const auto& bin : BestFitDecreasing(lengths, std::max<size_t>(longest, 1))) {
      rows.emplace_back();
      for (size_t k : bin) rows.back().push_back(index[k]);
    }
  } else {
    for (int64_t i : index) rows.push_back({i});
  }
  const bool segmented = !set.segment_lengths.empty() || rows.size() < index.size();
  const int64_t b = static_cast<int64_t>(rows.size()), l = static_cast<int64_t>(longest);
  at::Tensor ids = at::full({b, l}, pad_id, at::kLong), mask = at::zeros({b, l}, at::kLong),
             types = at::zeros({b, l}, at::kLong);
  at::Tensor labels = token_level ? at::full({b, l}, kIgnoreIndex, at::kLong) : at::empty({b}, at::kLong);
  // Segmented rows: positions restart per example, which is numbered 1, 2, ...; padding is
  // position 0 of segment 0 (TRL pads position_ids with 0).
  at::Tensor positions, segments;
  if (segmented) positions = at::zeros({b, l}, at::kLong), segments = at::zeros({b, l}, at::kLong);
  auto ids_a = ids.accessor<int64_t, 2>(), mask_a = mask.accessor<int64_t, 2>(), types_a = types.accessor<int64_t, 2>();
  Batch batch;
  for (int64_t r = 0; r < b; ++r) {
    int64_t t0 = 0, segment = 0;
    for (int64_t example : rows[static_cast<size_t>(r)]) {
      const size_t row = static_cast<size_t>(example);
      const Encoding& e = set.inputs[row];
      for (size_t t = 0; t < e.input_ids.size(); ++t) {
        ids_a[r][t0 + static_cast<int64_t>(t)] = e.input_ids[t];
        mask_a[r][t0 + static_cast<int64_t>(t)] = e.attention_mask[t];
        types_a[r][t0 + static_cast<int64_t>(t)] = e.token_type_ids[t];
      }
      if (token_level) {
        auto labels_a = labels.accessor<int64_t, 2>();
        for (size_t t = 0; t < set.token_labels[row].size(); ++t) {
          labels_a[r][t0 + static_cast<int64_t>(t)] = set.token_labels[row][t];
        }
      } else {
        labels.accessor<int64_t, 1>()[r] = set.labels[row];
      }
      if (segmented) {
        auto positions_a = positions.accessor<int64_t, 2>(), segments_a = segments.accessor<int64_t, 2>();
        const std::vector<int32_t> whole{static_cast<int32_t>(e.input_ids.size())};
        int64_t t = t0;
        for (int32_t n : set.segment_lengths.empty() ? whole : set.segment_lengths[row]) {
          ++segment;
          for (int64_t p = 0; p < n; ++p, ++t) positions_a[r][t] = p, segments_a[r][t] = segment;
        }
      }
      t0 += static_cast<int64_t>(e.input_ids.size());
      batch.targets += set.TargetCount(row);
    }
  }
  const bool pin = device.is_cuda();
  auto move = [&](const at::Tensor& t) {
    return t.defined() ? (pin ? t.pin_memory() : t).to(device, /*non_blocking=*/pin) : t;
  };
  batch.inputs = {move(ids), move(mask), move(types), move(positions), move(segments), /*head_positions=*/{}};
  if (set.head_on_targets_only && token_level) {
    const at::Tensor where = labels.ne(kIgnoreIndex);
    batch.inputs.head_positions = move(where);
    labels = labels.masked_select(where).unsqueeze(0);
  }
  batch.labels = move(labels);
  return batch;
}

std::vector<std::vector<int64_t>> EpochBatches(const EncodedSet& set, int64_t batch_size, int64_t seed, int64_t epoch,
                                               bool group_by_length, int rank, int world_size) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed + epoch));
  at::Tensor perm = at::randperm(static_cast<int64_t>(set.size()), gen, at::kLong);
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

std::vector<int64_t> StepTargetCounts(const EncodedSet& set, int64_t batch_size, int64_t seed, int64_t epoch,
                                      bool group_by_length, int world_size) {
  std::vector<int64_t> counts;
  for (int rank = 0; rank < world_size; ++rank) {
    const auto batches = EpochBatches(set, batch_size, seed, epoch, group_by_length, rank, world_size);
    counts.resize(std::max(counts.size(), batches.size()), 0);
    for (size_t b = 0; b < batches.size(); ++b) {
      for (int64_t i : batches[b]) counts[b] += set.TargetCount(static_cast<size_t>(i));
    }
  }
  return counts;
}

}  // namespace trainrt::trainer
