#include "trainer/distributed/pipeline.h"

#include <algorithm>

#include <ATen/ATen.h>

#include "trainer/task/task.h"

namespace trainrt::trainer {

int PipelinePlan::RankOf(int stage_index, int replica_index) const {
  return placement == "spread" ? stage_index * replicas + replica_index : replica_index * partitions + stage_index;
}

int PipelinePlan::StageOf(int rank) const { return placement == "spread" ? rank / replicas : rank % partitions; }

int64_t PipelinePlan::FirstLayerOf(int stage_index) const {
  // Encoder layers spread evenly, the earlier stages taking one more when they do not divide.
  const int64_t base = num_layers / partitions, extra = num_layers % partitions;
  return stage_index * base + std::min<int64_t>(stage_index, extra);
}

int PipelinePlan::StageOfPiece(int64_t piece) const {
  if (piece < 0) return 0;
  if (piece >= num_layers) return partitions - 1;
  int s = partitions - 1;
  while (piece < FirstLayerOf(s)) --s;
  return s;
}

std::string PipelinePlan::Describe() const {
  const int64_t first_layer = first() ? 0 : first_piece, last_layer = last() ? last_piece - 1 : last_piece;
  return "pipeline of " + std::to_string(partitions) + " stages x " + std::to_string(replicas) + " replica(s), " +
         std::to_string(microbatches) + " microbatches, schedule " + schedule + ", placement " + placement +
         "; this rank: stage " + std::to_string(stage) + " (" + (first() ? "embeddings, " : "") + "layers " +
         std::to_string(first_layer) + "-" + std::to_string(last_layer) + (last() ? ", head" : "") + "), replica " +
         std::to_string(replica);
}

runtime::Result<PipelinePlan> PlanPipeline(const PipelineArgs& args, int rank, int world_size, int64_t num_layers) {
  PipelinePlan p;
  p.partitions = static_cast<int>(args.partitions);
  p.microbatches = args.microbatches;
  p.schedule = args.pipeline;
  p.placement = args.placement_strategy;
  if (p.partitions < 1 || world_size % p.partitions != 0) {
    return runtime::Status::InvalidArgument("mp_parameters partitions=" + std::to_string(args.partitions) +
                                            ": expected a divisor of the " + std::to_string(world_size) + " processes");
  }
  if (p.partitions > num_layers) {
    return runtime::Status::InvalidArgument("mp_parameters partitions=" + std::to_string(args.partitions) +
                                            ": the model has only " + std::to_string(num_layers) + " encoder layers");
  }
  p.replicas = world_size / p.partitions;
  if (p.replicas > 1 && !args.ddp) {
    return runtime::Status::InvalidArgument("mp_parameters: " + std::to_string(world_size) + " processes for " +
                                            std::to_string(p.partitions) + " partitions make " +
                                            std::to_string(p.replicas) + " pipeline replicas: set ddp=True");
  }
  p.num_layers = num_layers;
  p.stage = p.StageOf(rank);
  p.replica = p.placement == "spread" ? rank % p.replicas : rank / p.partitions;
  p.first_piece = p.first() ? -1 : p.FirstLayerOf(p.stage);
  p.last_piece = p.last() ? num_layers : p.FirstLayerOf(p.stage + 1) - 1;
  return p;
}

TensorMap GatherToRank0(Collectives& world, const PipelinePlan& plan, const TensorMap& mine,
                        const std::vector<StageTensor>& all, const std::string& what) {
  TensorMap out;
  std::vector<Collectives::Pending> sends;
  at::NoGradGuard no_grad;
  for (const StageTensor& e : all) {
    const int source = plan.RankOf(e.stage, 0);
    if (world.rank() == 0 && source == 0) {
      out[e.name] = mine.at(e.name).detach().to(at::kCPU, /*non_blocking=*/false, /*copy=*/true);
    } else if (world.rank() == source) {
      sends.push_back(world.Send(mine.at(e.name).detach(), 0, 0, what + " (" + e.name + ")"));
    } else if (world.rank() == 0) {
      at::Tensor t = at::empty(e.shape, mine.begin()->second.options().dtype(e.dtype));
      world.Recv(t, source, 0, what + " (" + e.name + ")");
      out[e.name] = t.to(at::kCPU);
    }
  }
  for (auto& s : sends) s.Wait();
  return out;
}

void ScatterFromRank0(Collectives& world, const PipelinePlan& plan, const TensorMap& all, TensorMap& mine,
                      const std::vector<StageTensor>& entries, const std::string& what) {
  at::NoGradGuard no_grad;
  for (int r = 0; r < world.size(); ++r) {
    const int stage = plan.StageOf(r);
    std::vector<Collectives::Pending> sends;
    for (const StageTensor& e : entries) {
      if (e.stage != stage) continue;
      if (r == 0 && world.rank() == 0) {
        mine.at(e.name).copy_(all.at(e.name));
      } else if (world.rank() == 0) {
        sends.push_back(world.Send(all.at(e.name).to(mine.begin()->second.device(), e.dtype), r, 0, what + " (" + e.name + ")"));
      } else if (world.rank() == r) {
        at::Tensor target = mine.at(e.name).detach();
        world.Recv(target, 0, 0, what + " (" + e.name + ")");
      }
    }
    for (auto& s : sends) s.Wait();
  }
}

at::Tensor ClipGradNormAcrossStages(const std::vector<at::Tensor>& params, double max_norm, Collectives& world,
                                    int replicas) {
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  at::Tensor squares = grads.empty() ? at::zeros({1}, params.front().options().dtype(at::kFloat))
                                     : at::stack(at::_foreach_norm(grads, 2)).pow(2).sum().reshape({1}).to(at::kFloat);
  std::vector<at::Tensor> one{squares};
  world.AllReduceSum(one, "all_reduce of the gradient norm");
  at::Tensor total = one[0].div(static_cast<double>(replicas)).sqrt().squeeze();
  if (max_norm > 0 && !grads.empty()) at::_foreach_mul_(grads, (max_norm / (total + 1e-6)).clamp_max(1.0));
  return total;
}

PipelineRunner::PipelineRunner(const PipelinePlan& plan, Collectives& world, Model& model, const Task& task,
                               int64_t hidden_size)
    : plan_(plan), world_(world), model_(model), task_(task), hidden_size_(hidden_size) {}

Batch PipelineRunner::Slice(const Batch& b, int64_t begin, int64_t rows) const {
  Batch slice;
  slice.inputs = b.inputs.Narrow(begin, rows);
  slice.labels = b.labels.narrow(0, begin, rows);
  return slice;
}

PipelineRunner::Micro PipelineRunner::Forward(const Batch& b, int64_t index, double divisor, bool train) {
  Micro m;
  const at::Tensor& ids = b.inputs.input_ids;
  const int64_t rows = ids.size(0), length = ids.size(1);
  at::Tensor h;
  if (plan_.first()) {
    h = model_.Embed(b.inputs);
  } else {
    m.input = at::empty({rows, length, hidden_size_}, ids.options().dtype(at::kFloat));
    world_.Recv(m.input, plan_.RankOf(plan_.stage - 1, plan_.replica), static_cast<int>(index * 2),
                "recv of microbatch " + std::to_string(index) + "'s activations");
    if (train) m.input.requires_grad_(true);
    h = m.input;
  }
  const LayerContext context = model_.LayerContextFor(b.inputs, h.scalar_type());
  const int64_t first_layer = plan_.first() ? 0 : plan_.first_piece;
  const int64_t end_layer = plan_.last() ? plan_.last_piece : plan_.last_piece + 1;
  for (int64_t i = first_layer; i < end_layer; ++i) h = model_.RunLayer(i, h, context);
  if (plan_.last()) {
    at::Tensor logits = model_.Head(h).to(at::kFloat);
    if (!train) {
      m.output = logits;
      return m;
    }
    // The microbatch's loss sum over the batch's divisor: the microbatch losses add up to the
    // batch's, whatever the split.
    m.output = task_.Loss(logits, b.labels).sum.div(divisor);
  } else {
    m.output = h;
    sends_.push_back(world_.Send(h.detach().to(at::kFloat), plan_.RankOf(plan_.stage + 1, plan_.replica),
                                 static_cast<int>(index * 2), "send of microbatch " + std::to_string(index) + "'s activations"));
  }
  return m;
}

void PipelineRunner::Backward(Micro& m, int64_t index, int64_t rows, int64_t length) {
  if (plan_.last()) {
    m.output.backward();
  } else {
    at::Tensor grad = at::empty({rows, length, hidden_size_}, m.output.options().dtype(at::kFloat));
    world_.Recv(grad, plan_.RankOf(plan_.stage + 1, plan_.replica), static_cast<int>(index * 2 + 1),
                "recv of microbatch " + std::to_string(index) + "'s gradients");
    m.output.backward(grad.to(m.output.scalar_type()));
  }
  if (!plan_.first()) {
    sends_.push_back(world_.Send(m.input.grad(), plan_.RankOf(plan_.stage - 1, plan_.replica),
                                 static_cast<int>(index * 2 + 1), "send of microbatch " + std::to_string(index) + "'s gradients"));
  }
  m = Micro();  // activations freed as soon as their backward is done
}

at::Tensor PipelineRunner::TrainBatch(const Batch& batch, double divisor) {
  const int64_t rows = batch.inputs.input_ids.size(0), length = batch.inputs.input_ids.size(1);
  const int64_t count = std::min<int64_t>(plan_.microbatches, rows);
  std::vector<int64_t> begin(static_cast<size_t>(count) + 1, 0);
  for (int64_t i = 0; i < count; ++i) begin[static_cast<size_t>(i) + 1] = begin[static_cast<size_t>(i)] + rows / count + (i < rows % count ? 1 : 0);
  auto rows_of = [&](int64_t i) { return begin[static_cast<size_t>(i) + 1] - begin[static_cast<size_t>(i)]; };
  std::vector<Micro> micro(static_cast<size_t>(count));
  at::Tensor loss = at::zeros({}, batch.labels.options().dtype(at::kFloat));
  auto forward = [&](int64_t i) {
    micro[static_cast<size_t>(i)] = Forward(Slice(batch, begin[static_cast<size_t>(i)], rows_of(i)), i, divisor, true);
    if (plan_.last()) loss = loss + micro[static_cast<size_t>(i)].output.detach();
  };
  auto backward = [&](int64_t i) { Backward(micro[static_cast<size_t>(i)], i, rows_of(i), length); };
  if (plan_.schedule == "simple") {  // GPipe: every forward, then every backward
    for (int64_t i = 0; i < count; ++i) forward(i);
    for (int64_t i = 0; i < count; ++i) backward(i);
  } else {  // 1F1B: warm up, then one forward and one backward in turn, then drain
    const int64_t warmup = std::min<int64_t>(plan_.partitions - plan_.stage - 1, count);
    for (int64_t i = 0; i < warmup; ++i) forward(i);
    for (int64_t i = warmup; i < count; ++i) {
      forward(i);
      backward(i - warmup);
    }
    for (int64_t i = count - warmup; i < count; ++i) backward(i);
  }
  for (auto& s : sends_) s.Wait();
  sends_.clear();
  return loss;
}

at::Tensor PipelineRunner::Logits(const Batch& batch) {
  Micro m = Forward(batch, 0, 1.0, false);
  for (auto& s : sends_) s.Wait();
  sends_.clear();
  return plan_.last() ? m.output : at::Tensor();
}

}  // namespace trainrt::trainer
