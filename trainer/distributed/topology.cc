#include "trainer/distributed/topology.h"

#include "trainer/optim/grad_clip.h"

namespace trainrt::trainer {

std::string Topology::Describe(const std::chrono::seconds& timeout) const {
  return std::string(pipeline ? "pipeline parallel" : "data parallel") + " over " + std::to_string(env.world_size) +
         " ranks (" + env.source + ", " + (world && world->cuda() ? "NCCL" : "Gloo") + ", collective timeout " +
         std::to_string(timeout.count()) + " s), rank 0 at " + env.master_addr + ":" + std::to_string(env.master_port);
}

at::Tensor ClipGradients(const Topology& topology, const std::vector<at::Tensor>& params, double max_norm) {
  if (topology.pipeline) return ClipGradNormAcrossStages(params, max_norm, *topology.world, topology.dp_size);
  return ClipGradNorm(params, max_norm);
}

runtime::Result<Topology> MakeTopology(const DistributedEnv& env, const c10::Device& device,
                                       std::chrono::seconds collective_timeout, const PipelineArgs& pipeline,
                                       int64_t num_layers) {
  Topology t;
  t.env = env;
  if (env.world_size > 1) {
    auto connected = Collectives::Connect(env, device, collective_timeout);
    if (!connected.ok()) return connected.status();
    t.world = std::move(*connected);
  }
  t.dp_rank = env.rank;
  t.dp_size = env.world_size;
  if (!pipeline.enabled()) return t;
  if (!t.world) {
    return runtime::Status::InvalidArgument(
        "mp_parameters partitions=" + std::to_string(pipeline.partitions) +
        ": pipeline parallelism needs that many processes (this is one); run under train with MPI or "
        "TRAINRT_NPROC_PER_HOST, or trainrt launch");
  }
  auto planned = PlanPipeline(pipeline, env.rank, env.world_size, num_layers);
  if (!planned.ok()) return planned.status();
  t.pipeline = *planned;
  t.dp_rank = t.pipeline->replica;
  t.dp_size = t.pipeline->replicas;
  if (t.pipeline->replicas > 1) {
    auto made = t.world->NewGroup("stage" + std::to_string(t.pipeline->stage), t.pipeline->replica, t.pipeline->replicas);
    if (!made.ok()) return made.status();
    t.stage_replicas = std::move(*made);
  }
  return t;
}

}  // namespace trainrt::trainer
