#include "trainer/data/packing.h"

#include <gtest/gtest.h>

namespace trainrt::trainer {
namespace {

using Bins = std::vector<std::vector<size_t>>;

// trl.pack_dataset's documented example: [[1..5], [6, 7], [8, 9, 10], [11]] at seq_length 4.
TEST(Packing, BestFitDecreasingAsTrlsDocumentedExample) {
  // bfd: the 5-id example keeps 4 ids; rows [[1, 2, 3, 4], [8, 9, 10, 11], [6, 7]].
  EXPECT_EQ(BestFitDecreasing({4, 2, 3, 1}, 4), (Bins{{0}, {2, 3}, {1}}));
  // bfd_split: fragments [1..4], [5], [6, 7], [8, 9, 10], [11];
  // rows [[1, 2, 3, 4], [8, 9, 10, 5], [6, 7, 11]].
  EXPECT_EQ(BestFitDecreasing({4, 1, 2, 3, 1}, 4), (Bins{{0}, {3, 1}, {2, 4}}));
}

TEST(Packing, EachExampleGoesToTheTightestBinThatFitsTheEarliestOnTies) {
  // The two 6s open two bins with room 4 each; the 4 fills the first; the 3, then the 1, go to the second.
  EXPECT_EQ(BestFitDecreasing({3, 6, 1, 6, 4}, 10), (Bins{{1, 4}, {3, 0, 2}}));
  // A bin with room 2 is preferred over one with room 5 for an example of 2.
  EXPECT_EQ(BestFitDecreasing({5, 8, 2}, 10), (Bins{{1, 2}, {0}}));
  // Equal lengths keep their input order.
  EXPECT_EQ(BestFitDecreasing({2, 2, 2}, 3), (Bins{{0}, {1}, {2}}));
}

TEST(Packing, EveryExampleIsPlacedOnceAndNoBinOverflows) {
  std::vector<size_t> lengths;
  for (size_t i = 0; i < 500; ++i) lengths.push_back(1 + (i * 7919) % 64);
  const Bins bins = BestFitDecreasing(lengths, 64);
  std::vector<int> seen(lengths.size(), 0);
  for (const auto& bin : bins) {
    size_t sum = 0;
    for (size_t i : bin) sum += lengths[i], ++seen[i];
    EXPECT_LE(sum, 64u);
  }
  for (int s : seen) EXPECT_EQ(s, 1);
}

TEST(Packing, PiecesAreRowSizedWithAShorterLast) {
  using Pieces = std::vector<std::pair<size_t, size_t>>;
  EXPECT_EQ(CutIntoPieces(10, 4), (Pieces{{0, 4}, {4, 8}, {8, 10}}));
  EXPECT_EQ(CutIntoPieces(8, 4), (Pieces{{0, 4}, {4, 8}}));
  EXPECT_EQ(CutIntoPieces(0, 4), Pieces{});
}

TEST(Packing, StrategiesHaveSftConfigsNames) {
  PackingStrategy s;
  ASSERT_TRUE(ParsePackingStrategy("bfd", s));
  EXPECT_EQ(s, PackingStrategy::kBfd);
  ASSERT_TRUE(ParsePackingStrategy("bfd_split", s));
  EXPECT_EQ(s, PackingStrategy::kBfdSplit);
  ASSERT_TRUE(ParsePackingStrategy("wrapped", s));
  EXPECT_EQ(s, PackingStrategy::kWrapped);
  EXPECT_FALSE(ParsePackingStrategy("ffd", s));
}

}  // namespace
}  // namespace trainrt::trainer
