// An epoch's batches: every example once, length grouping that saves padding, and data-parallel
// shards whose union per step is a single process's batch of world_size times the size.
#include "trainer/data/batching.h"

#include <ATen/ATen.h>

#include "trainer/model/layers.h"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

namespace trainrt::trainer {
namespace {

// `n` examples whose lengths follow no order (3..66 tokens).
EncodedSet Examples(int n) {
  EncodedSet set;
  for (int i = 0; i < n; ++i) {
    const size_t length = 3 + static_cast<size_t>((i * 37) % 64);
    set.inputs.push_back(Encoding{std::vector<int32_t>(length, 5), std::vector<int32_t>(length, 1),
                                  std::vector<int32_t>(length, 0), std::vector<int32_t>(length, 0)});
    set.labels.push_back(i % 2);
  }
  return set;
}

std::map<int64_t, int> Counts(const std::vector<std::vector<int64_t>>& batches) {
  std::map<int64_t, int> counts;
  for (const auto& b : batches) {
    for (int64_t i : b) ++counts[i];
  }
  return counts;
}

int64_t Padding(const EncodedSet& set, const std::vector<std::vector<int64_t>>& batches) {
  int64_t padding = 0;
  for (const auto& b : batches) {
    size_t longest = 0;
    for (int64_t i : b) longest = std::max(longest, set.inputs[static_cast<size_t>(i)].input_ids.size());
    for (int64_t i : b) padding += static_cast<int64_t>(longest - set.inputs[static_cast<size_t>(i)].input_ids.size());
  }
  return padding;
}

TEST(EpochBatches, EveryExampleOncePerEpochInASeededOrder) {
  const EncodedSet set = Examples(1003);
  const auto batches = EpochBatches(set, 16, 42, 0, false);
  ASSERT_EQ(batches.size(), 63u);  // ceil(1003 / 16)
  EXPECT_EQ(batches.back().size(), 1003u % 16);
  const auto counts = Counts(batches);
  EXPECT_EQ(counts.size(), 1003u);
  EXPECT_TRUE(std::all_of(counts.begin(), counts.end(), [](const auto& c) { return c.second == 1; }));
  EXPECT_EQ(EpochBatches(set, 16, 42, 0, false), batches);  // resume recomputes the same order
  EXPECT_NE(EpochBatches(set, 16, 42, 1, false), batches);  // each epoch reshuffles
  EXPECT_NE(EpochBatches(set, 16, 43, 0, false), batches);
}

TEST(EpochBatches, GroupingByLengthKeepsEveryExampleAndCutsPadding) {
  const EncodedSet set = Examples(2000);
  const auto random = EpochBatches(set, 16, 42, 0, false);
  const auto grouped = EpochBatches(set, 16, 42, 0, true);
  EXPECT_EQ(Counts(grouped), Counts(random));
  // Windows of 50 batches, longest first within each.
  for (size_t start = 0; start < grouped.size(); start += 50) {
    size_t previous = SIZE_MAX;
    for (size_t b = start; b < std::min(grouped.size(), start + 50); ++b) {
      for (int64_t i : grouped[b]) {
        const size_t length = set.inputs[static_cast<size_t>(i)].input_ids.size();
        EXPECT_LE(length, previous) << "batch " << b;
        previous = length;
      }
    }
  }
  EXPECT_LT(Padding(set, grouped) * 10, Padding(set, random)) << "grouping should cut padding tenfold here";
  EXPECT_NE(EpochBatches(set, 16, 42, 1, true), grouped);  // other windows each epoch
}

TEST(EpochBatches, RankShardsOfAStepAreOneProcessBatchOfWorldSizeTimesTheSize) {
  const EncodedSet set = Examples(1003);  // several length-grouping windows
  for (int world : {2, 3}) {
    for (bool grouped : {false, true}) {
      const auto single = EpochBatches(set, 4 * world, 7, 1, grouped);
      std::vector<std::vector<std::vector<int64_t>>> ranks;
      for (int r = 0; r < world; ++r) ranks.push_back(EpochBatches(set, 4, 7, 1, grouped, r, world));
      ASSERT_EQ(ranks[0].size(), single.size()) << world;
      for (size_t step = 0; step < single.size(); ++step) {
        std::vector<int64_t> together;
        for (int r = 0; r < world; ++r) {
          ASSERT_EQ(ranks[static_cast<size_t>(r)][step].size(), 4u) << "every rank gets full batches";
          together.insert(together.end(), ranks[static_cast<size_t>(r)][step].begin(),
                          ranks[static_cast<size_t>(r)][step].end());
        }
        std::vector<int64_t> expected = single[step];
        if (step + 1 == single.size()) {  // the single process's short last batch, completed from the start
          for (size_t i = 0; expected.size() < together.size(); ++i) expected.push_back(single[0][i]);
        }
        EXPECT_EQ(together, expected) << world << " ranks, step " << step << (grouped ? ", grouped" : "");
      }
    }
  }
}

}  // namespace
}  // namespace trainrt::trainer

namespace trainrt::trainer {
namespace {

// A packed row restarts positions at each example and numbers the examples; padding is position
// 0 of segment 0 (TRL's padding-free position_ids). The causal mask then keeps every query inside
// its own example.
TEST(Collate, PackedRowsRestartPositionsAndAttentionStaysInsideEachExample) {
  EncodedSet set;
  for (size_t n : {5u, 2u}) {
    set.inputs.push_back(Encoding{std::vector<int32_t>(n, 7), std::vector<int32_t>(n, 1), std::vector<int32_t>(n, 0),
                                  std::vector<int32_t>(n, -1)});
    set.token_labels.push_back(std::vector<int32_t>(n, kIgnoreIndex));
  }
  set.segment_lengths = {{3, 2}, {2}};
  const Batch b = Collate(set, {0, 1}, 0, c10::Device(c10::kCPU));
  ASSERT_TRUE(b.inputs.position_ids.defined() && b.inputs.segment_ids.defined());
  auto pos = b.inputs.position_ids.accessor<int64_t, 2>(), seg = b.inputs.segment_ids.accessor<int64_t, 2>();
  const std::vector<int64_t> pos0{0, 1, 2, 0, 1}, seg0{1, 1, 1, 2, 2}, pos1{0, 1, 0, 0, 0}, seg1{1, 1, 0, 0, 0};
  for (int64_t t = 0; t < 5; ++t) {
    EXPECT_EQ(pos[0][t], pos0[static_cast<size_t>(t)]) << t;
    EXPECT_EQ(seg[0][t], seg0[static_cast<size_t>(t)]) << t;
    EXPECT_EQ(pos[1][t], pos1[static_cast<size_t>(t)]) << t;
    EXPECT_EQ(seg[1][t], seg1[static_cast<size_t>(t)]) << t;
  }
  const at::Tensor allowed = CausalPaddingBias(b.inputs, at::kFloat).eq(0).squeeze(1);  // [B, T, T]
  auto a = allowed.accessor<bool, 3>();
  for (int64_t q = 0; q < 5; ++q) {
    for (int64_t k = 0; k < 5; ++k) {
      EXPECT_EQ(a[0][q][k], k <= q && seg0[static_cast<size_t>(q)] == seg0[static_cast<size_t>(k)]) << q << "," << k;
    }
  }
  // Rows of single examples get neither: the families count positions 0..T-1 themselves.
  set.segment_lengths.clear();
  EXPECT_FALSE(Collate(set, {0, 1}, 0, c10::Device(c10::kCPU)).inputs.segment_ids.defined());
}

}  // namespace
}  // namespace trainrt::trainer

namespace trainrt::trainer {
namespace {

// Shared rows: a batch's short examples fill the padding of another's row, each as a segment;
// every id and target is kept, the rows are fewer.
TEST(Collate, SharedRowsKeepEveryTargetInFewerRows) {
  EncodedSet set;
  for (int32_t n : {6, 2, 3, 1}) {
    const size_t len = static_cast<size_t>(n);
    std::vector<int32_t> ids(len), targets(len, kIgnoreIndex);
    for (size_t t = 0; t < len; ++t) ids[t] = n * 10 + static_cast<int32_t>(t);
    for (size_t t = 0; t + 1 < len; ++t) targets[t] = ids[t + 1];
    set.inputs.push_back(Encoding{ids, std::vector<int32_t>(len, 1), std::vector<int32_t>(len, 0), std::vector<int32_t>(len, -1)});
    set.token_labels.push_back(targets);
  }
  set.share_rows = true;
  const Batch b = Collate(set, {0, 1, 2, 3}, 0, c10::Device(c10::kCPU));
  ASSERT_EQ(b.inputs.input_ids.size(0), 2);  // [6] and [3, 2, 1]
  EXPECT_EQ(b.targets, 5 + 1 + 2 + 0);
  EXPECT_EQ(b.labels.ne(kIgnoreIndex).sum().item<int64_t>(), 8);
  EXPECT_EQ(b.inputs.attention_mask.sum().item<int64_t>(), 12);
  const std::vector<int64_t> ids1{30, 31, 32, 20, 21, 10}, pos1{0, 1, 2, 0, 1, 0}, seg1{1, 1, 1, 2, 2, 3};
  for (int64_t t = 0; t < 6; ++t) {
    EXPECT_EQ(b.inputs.input_ids[1][t].item<int64_t>(), ids1[static_cast<size_t>(t)]) << t;
    EXPECT_EQ(b.inputs.position_ids[1][t].item<int64_t>(), pos1[static_cast<size_t>(t)]) << t;
    EXPECT_EQ(b.inputs.segment_ids[1][t].item<int64_t>(), seg1[static_cast<size_t>(t)]) << t;
  }

  // Head on the targets only: the same targets, alone and in row-major order, and where they are.
  set.head_on_targets_only = true;
  const Batch h = Collate(set, {0, 1, 2, 3}, 0, c10::Device(c10::kCPU));
  ASSERT_TRUE(h.inputs.head_positions.defined());
  EXPECT_TRUE(h.inputs.head_positions.equal(b.labels.ne(kIgnoreIndex)));
  EXPECT_TRUE(h.labels.equal(b.labels.masked_select(b.labels.ne(kIgnoreIndex)).unsqueeze(0)));
  EXPECT_EQ(h.labels.size(1), h.targets);
}

}  // namespace
}  // namespace trainrt::trainer
