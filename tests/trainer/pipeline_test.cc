// PipelinePlan as SMP places stages: cluster and spread placement, layers spread evenly (earlier
// stages take one more), the pieces each stage holds, and plans the world cannot hold refused.
#include "trainer/distributed/pipeline.h"

#include <gtest/gtest.h>

namespace trainrt::trainer {
namespace {

PipelineArgs Args(int64_t partitions, bool ddp, const std::string& placement = "cluster") {
  PipelineArgs a;
  a.partitions = partitions;
  a.microbatches = 4;
  a.ddp = ddp;
  a.placement_strategy = placement;
  return a;
}

TEST(PipelinePlan, ClusterPutsAPipelineOnConsecutiveRanksSpreadAStagesReplicas) {
  for (int rank = 0; rank < 4; ++rank) {
    auto cluster = PlanPipeline(Args(2, true), rank, 4, 6);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    EXPECT_EQ(cluster->stage, rank % 2);
    EXPECT_EQ(cluster->replica, rank / 2);
    EXPECT_EQ(cluster->RankOf(cluster->stage, cluster->replica), rank);
    auto spread = PlanPipeline(Args(2, true, "spread"), rank, 4, 6);
    ASSERT_TRUE(spread.ok());
    EXPECT_EQ(spread->stage, rank / 2);
    EXPECT_EQ(spread->replica, rank % 2);
    EXPECT_EQ(spread->RankOf(spread->stage, spread->replica), rank);
    EXPECT_EQ(spread->StageOf(rank), spread->stage);
  }
}

TEST(PipelinePlan, LayersSpreadEvenlyWithEmbeddingsFirstAndHeadLast) {
  // 5 layers over 3 stages: 2, 2, 1.
  std::vector<PipelinePlan> plans;
  for (int rank = 0; rank < 3; ++rank) plans.push_back(*PlanPipeline(Args(3, false), rank, 3, 5));
  EXPECT_EQ(plans[0].FirstLayerOf(0), 0);
  EXPECT_EQ(plans[0].FirstLayerOf(1), 2);
  EXPECT_EQ(plans[0].FirstLayerOf(2), 4);
  EXPECT_EQ(plans[0].FirstLayerOf(3), 5);
  const std::vector<int> stage_of_piece = {0, 0, 0, 1, 1, 2, 2};  // pieces -1 (embeddings) .. 5 (head)
  for (int64_t piece = -1; piece <= 5; ++piece) {
    EXPECT_EQ(plans[0].StageOfPiece(piece), stage_of_piece[static_cast<size_t>(piece + 1)]) << piece;
    for (const auto& p : plans) EXPECT_EQ(p.Holds(piece), p.stage == stage_of_piece[static_cast<size_t>(piece + 1)]);
  }
  EXPECT_TRUE(plans[0].first());
  EXPECT_TRUE(plans[2].last());
  EXPECT_EQ(plans[1].Describe(),
            "pipeline of 3 stages x 1 replica(s), 4 microbatches, schedule interleaved, placement cluster; this rank: "
            "stage 1 (layers 2-3), replica 0");
}

TEST(PipelinePlan, PlansTheWorldCannotHoldAreRefusedNamingTheSetting) {
  EXPECT_EQ(PlanPipeline(Args(3, false), 0, 4, 6).status().ToString(),
            "mp_parameters partitions=3: expected a divisor of the 4 processes");
  EXPECT_EQ(PlanPipeline(Args(4, false), 0, 4, 3).status().ToString(),
            "mp_parameters partitions=4: the model has only 3 encoder layers");
  EXPECT_EQ(PlanPipeline(Args(2, false), 0, 4, 6).status().ToString(),
            "mp_parameters: 4 processes for 2 partitions make 2 pipeline replicas: set ddp=True");
}

}  // namespace
}  // namespace trainrt::trainer
