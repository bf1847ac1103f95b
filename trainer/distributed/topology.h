// Topology: where this process stands in the job, in one value: the world (every rank), the
// data-parallel replicas it averages gradients with, and, with pipeline parallelism, its stage.
// Made once, at setup (MakeTopology); the rest of the job asks it rather than comparing ranks.
#ifndef TRAINRT_TRAINER_DISTRIBUTED_TOPOLOGY_H_
#define TRAINRT_TRAINER_DISTRIBUTED_TOPOLOGY_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "runtime/status.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/distributed_env.h"
#include "trainer/distributed/pipeline.h"
#include "trainer/finetune_args.h"

namespace trainrt::trainer {

struct Topology {
  DistributedEnv env;                           // rank, world size, local rank, master
  std::unique_ptr<Collectives> world;           // every rank; null for one process
  std::optional<PipelinePlan> pipeline;         // this rank's stage, with pipeline parallelism
  std::unique_ptr<Collectives> stage_replicas;  // the ranks holding this stage (pipeline with ddp)
  int dp_rank = 0, dp_size = 1;                 // among the data-parallel replicas

  int rank() const { return env.rank; }
  int world_size() const { return env.world_size; }
  bool main() const { return env.rank == 0; }
  // Where gradients are averaged: the stage's replicas with a pipeline, else the world (null: alone).
  Collectives* gradient_group() const { return pipeline ? stage_replicas.get() : world.get(); }
  // For the start-up line: "data parallel over 2 ranks (...)".
  std::string Describe(const std::chrono::seconds& timeout) const;
};

// Joins the process group (several ranks) and, when `pipeline` asks for stages, plans them over
// a model of `num_layers` layers. InvalidArgument names the setting that does not fit the world.
// clip_grad_norm_ over this rank's `params`, across the stages when there are several: scales
// the gradients to a total norm of at most `max_norm` (when > 0); returns the norm before clipping.
at::Tensor ClipGradients(const Topology& topology, const std::vector<at::Tensor>& params, double max_norm);

runtime::Result<Topology> MakeTopology(const DistributedEnv& env, const c10::Device& device,
                                       std::chrono::seconds collective_timeout, const PipelineArgs& pipeline,
                                       int64_t num_layers);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DISTRIBUTED_TOPOLOGY_H_
