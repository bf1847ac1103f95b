// Pipeline model parallelism, as SageMaker's model-parallel library (SMP v1) configures it:
// `partitions` stages over the ranks, each holding consecutive pieces of the model (stage 0 the
// embeddings, the last the classification head, the encoder layers spread evenly), replicated
// `replicas` times for data parallelism (`ddp`). `placement_strategy` maps (stage, replica) to
// ranks as SMP does: "cluster" puts a pipeline on consecutive ranks (rank = replica * partitions +
// stage), "spread" puts a stage's replicas on consecutive ranks (rank = stage * replicas + replica).
// Each batch is split into `microbatches`; schedule "simple" runs every forward then every
// backward (GPipe), "interleaved" runs 1F1B (each stage does `partitions - stage - 1` forwards
// ahead, then alternates one forward and one backward). Activations go forward and their
// gradients back with c10d send/recv. The gradients of the microbatches add up to the batch's.
#ifndef TRAINRT_TRAINER_DISTRIBUTED_PIPELINE_H_
#define TRAINRT_TRAINER_DISTRIBUTED_PIPELINE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "runtime/status.h"
#include "trainer/data/batching.h"
#include "trainer/distributed/collectives.h"
#include "trainer/finetune_args.h"
#include "trainer/model/safetensors.h"
#include "trainer/model/model.h"

namespace trainrt::trainer {

class Task;

struct PipelinePlan {
  int partitions = 1, replicas = 1;
  int stage = 0, replica = 0;
  int64_t microbatches = 1;
  std::string schedule = "interleaved";   // interleaved | simple
  std::string placement = "cluster";      // cluster | spread
  int64_t num_layers = 0;
  int64_t first_piece = -1, last_piece = 0;  // pieces of the model this stage holds (ModelFamily::PieceOf)

  int RankOf(int stage_index, int replica_index) const;
  int StageOf(int rank) const;
  int64_t FirstLayerOf(int stage_index) const;  // stage_index may be `partitions` (one past the end)
  int StageOfPiece(int64_t piece) const;        // the stage that holds a piece (ModelFamily::PieceOf)
  bool first() const { return stage == 0; }
  bool last() const { return stage == partitions - 1; }
  bool Holds(int64_t piece) const { return StageOfPiece(piece) == stage; }
  std::string Describe() const;  // for the start-up line
};

// InvalidArgument names the setting when the world does not divide, or there are more stages
// than encoder layers, or replicas without ddp.
runtime::Result<PipelinePlan> PlanPipeline(const PipelineArgs& args, int rank, int world_size, int64_t num_layers);

// A tensor of the whole model and the stage that holds it (parameters, optimizer state).
struct StageTensor {
  std::string name;
  std::vector<int64_t> shape;
  at::ScalarType dtype;
  int stage;
};

// Checkpoints and exports gather every stage's tensors on rank 0 (from each stage's replica 0),
// so that one writer, on one host, writes one consistent checkpoint. `mine` holds this rank's
// tensors (any device); the result (rank 0 only; empty elsewhere) is on the CPU.
TensorMap GatherToRank0(Collectives& world, const PipelinePlan& plan, const TensorMap& mine,
                        const std::vector<StageTensor>& all, const std::string& what);
// The reverse, for resume: rank 0 sends each rank its stage's tensors from `all`, and every rank
// copies them into `mine` (live tensors: parameters or optimizer state).
void ScatterFromRank0(Collectives& world, const PipelinePlan& plan, const TensorMap& all, TensorMap& mine,
                      const std::vector<StageTensor>& entries, const std::string& what);

// clip_grad_norm_ over a pipeline: the squared norms of every stage's gradients add up over the
// world (all replicas hold the same averaged gradients, so the sum counts each stage `replicas`
// times). Returns the total norm, the same on every rank.
at::Tensor ClipGradNormAcrossStages(const std::vector<at::Tensor>& params, double max_norm, Collectives& world,
                                    int replicas);

class PipelineRunner {
 public:
  // `model` runs its Embed, Layer and Head pieces here; `task` gives the loss on the last stage.
  PipelineRunner(const PipelinePlan& plan, Collectives& world, Model& model, const Task& task, int64_t hidden_size);

  // Forward and backward of this replica's `batch` over the microbatches; the stage's parameters
  // accumulate their gradients of the batch's loss sum / `divisor`. Returns that loss on the last
  // stage (a scalar tensor), zero elsewhere.
  at::Tensor TrainBatch(const Batch& batch, double divisor);
  // Forward only (evaluation): logits on the last stage, an undefined tensor elsewhere.
  at::Tensor Logits(const Batch& batch);

 private:
  struct Micro {
    at::Tensor input;   // received activation (requires grad) on later stages
    at::Tensor output;  // sent activation, or the loss on the last stage
  };
  Micro Forward(const Batch& b, int64_t index, double divisor, bool train);
  void Backward(Micro& m, int64_t index, int64_t rows, int64_t length);
  Batch Slice(const Batch& b, int64_t begin, int64_t rows) const;

  PipelinePlan plan_;
  Collectives& world_;
  Model& model_;
  const Task& task_;
  int64_t hidden_size_;
  std::vector<Collectives::Pending> sends_;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DISTRIBUTED_PIPELINE_H_
