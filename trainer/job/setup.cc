// SetUp and PrepareTraining: everything the step loop needs, in the order it is made.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#ifdef TRAINRT_HAVE_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

#include "runtime/file_util.h"
#include "runtime/strings.h"
#include "trainer/checkpoint/checkpoint_folder.h"
#include "trainer/job/job.h"
#include "trainer/model/model_path.h"
#include "trainer/optim/lr_schedule.h"
#include "trainer/stop_signal.h"

namespace trainrt::trainer {
namespace {

using runtime::Status;

// The model folder's family, tokenizer and weights; the task's data; the device.
Status LoadModelAndData(Job& job) {
  const FinetuneArgs& args = job.args;
  auto model_path = ResolveModelPath(args.model_name_or_path, job.env);
  if (!model_path.ok()) return model_path.status();
  job.model_path = *model_path;
  auto tokenizer = LoadTokenizer(job.model_path);
  if (!tokenizer.ok()) return tokenizer.status();
  job.tokenizer = std::move(*tokenizer);
  auto family = LoadModelFamily(job.model_path + "/config.json");
  if (!family.ok()) return family.status();
  job.family = std::move(*family);
  auto task = NewTask(args, *job.family, job.model_path);
  if (!task.ok()) return task.status();
  job.task = std::move(*task);
  if (job.task->head().kind == HeadKind::kCausalLM) {
    // Causal LMs train as TRL's SFTTrainer does: its SFTConfig's defaults where the job set nothing.
    const std::vector<std::string> set = job.args.ApplySftConfigDefaults();
    if (!set.empty() && job.main_rank()) {
      std::fprintf(stderr, "trainrt-finetune: causal LM: TRL SFTConfig's defaults for what the job did not set: %s\n",
                   runtime::JoinComma(set).c_str());
    }
  }
  const int64_t wanted = args.max_seq_length_given ? args.max_seq_length : job.task->default_max_length();
  const int max_length = static_cast<int>(std::min(wanted, job.family->dims().max_position_embeddings));
  // Padding: the tokenizer's pad token, else its EOS (TRL's fallback); padded positions are masked.
  const SpecialTokens& special = job.tokenizer->special_tokens();
  job.pad_id = special.pad >= 0 ? special.pad : special.eos >= 0 ? special.eos : 0;
  TRAINRT_RETURN_IF_ERROR(job.task->LoadData(args.training_dir, args.test_dir, *job.tokenizer, max_length, job.train, job.eval));
  if (args.pipeline.enabled()) {  // microbatches split rows and their labels
    job.train.share_rows = job.eval.share_rows = false;
    job.train.head_on_targets_only = job.eval.head_on_targets_only = false;
  }

  at::manual_seed(static_cast<uint64_t>(args.seed));
  auto model = job.family->Build(job.task->head());
  if (!model.ok()) return model.status();
  job.model = *model;
  job.model->set_gradient_checkpointing(args.gradient_checkpointing);
  auto weights = LoadModelWeights(job.model_path);
  if (!weights.ok()) return weights.status();
  auto report = LoadWeights(*job.family, *job.model, *weights);
  if (!report.ok()) return report.status().WithContext(job.model_path);
  const std::string architecture = job.model->architecture();
  if (!report->missing.empty() && job.main_rank()) {
    std::fprintf(stderr, "Some weights of %s were not initialized from the model checkpoint at %s and are newly "
                 "initialized: %s\n", architecture.c_str(), args.model_name_or_path.c_str(), PythonList(report->missing).c_str());
  }
  if (!report->unexpected.empty() && job.main_rank()) {
    std::fprintf(stderr, "Some weights of the model checkpoint at %s were not used when initializing %s: %s\n",
                 args.model_name_or_path.c_str(), architecture.c_str(), PythonList(report->unexpected).c_str());
  }
  job.non_embedding_params = static_cast<double>(NonEmbeddingParameterCount(*job.model));
  for (const auto& p : job.model->parameters()) job.model_bytes += static_cast<uint64_t>(p.numel()) * p.element_size();

  const bool cuda = torch::cuda::is_available();
  const int local_rank = job.topology.env.local_rank;
  if (cuda && local_rank >= static_cast<int>(torch::cuda::device_count())) {
    return Status::InvalidArgument("LOCAL_RANK " + std::to_string(local_rank) + ": this host shows only " +
                                   std::to_string(torch::cuda::device_count()) + " GPU(s) (CUDA_VISIBLE_DEVICES='" +
                                   runtime::EnvOr(job.env, "CUDA_VISIBLE_DEVICES", "") +
                                   "'): start at most one process per GPU");
  }
  job.device = cuda ? at::Device(at::kCUDA, static_cast<at::DeviceIndex>(local_rank)) : at::Device(at::kCPU);
#ifdef TRAINRT_HAVE_CUDA
  if (cuda) c10::cuda::set_device(static_cast<c10::DeviceIndex>(local_rank));
#endif
  job.model->to(job.device);
  job.model->train();
  return Status::Ok();
}

// The process group and, with a pipeline, this rank's stage: it keeps only its stage's pieces
// (stage_tensors lists the whole model's, with their stages).
Status JoinRanks(Job& job, const DistributedEnv& env) {
  const std::chrono::seconds seconds(job.args.collective_timeout);
  auto topology = MakeTopology(env, job.device, seconds, job.args.pipeline, job.model->num_layers());
  if (!topology.ok()) return topology.status();
  job.topology = std::move(*topology);
  const Topology& t = job.topology;
  if (t.world && t.main()) std::fprintf(stderr, "trainrt-finetune: %s\n", t.Describe(seconds).c_str());
  if (t.pipeline && job.family->ties_embeddings()) {
    return Status::InvalidArgument("mp_parameters partitions=" + std::to_string(t.pipeline->partitions) + ": this " +
                                   job.family->model_type() + " model ties its output layer to the input embeddings "
                                   "(tie_word_embeddings), which pipeline stages cannot share yet: use data parallelism");
  }
  if (!t.pipeline) return Status::Ok();
  at::NoGradGuard no_grad;
  for (const auto& item : job.model->named_parameters()) {
    const int stage = t.pipeline->StageOfPiece(job.family->PieceOf(item.key()));
    job.stage_tensors.push_back({item.key(), item.value().sizes().vec(), item.value().scalar_type(), stage});
    if (stage != t.pipeline->stage) item.value().set_data(at::empty({0}, item.value().options()));  // not ours: freed
  }
  if (t.main()) std::fprintf(stderr, "trainrt-finetune: %s\n", t.pipeline->Describe().c_str());
  int64_t held = 0;
  for (const auto& p : job.model->parameters()) held += p.numel();
  std::fprintf(stderr, "trainrt-finetune: rank %d holds %lld parameters (stage %d)\n", t.rank(),
               static_cast<long long>(held), t.pipeline->stage);
  // The optimizer state that goes with each stage's parameters (AdamW's names).
  for (const auto& e : job.stage_tensors) {
    for (const char* suffix : {".exp_avg", ".exp_avg_sq"}) job.optimizer_entries.push_back({e.name + suffix, e.shape, e.dtype, e.stage});
    job.optimizer_entries.push_back({e.name + ".step", {}, at::kFloat, e.stage});
  }
  return Status::Ok();
}

// The optimizer over this rank's parameters, the step counts of the schedule, the layout a
// checkpoint must match.
void PrepareOptimization(Job& job) {
  const FinetuneArgs& args = job.args;
  std::vector<std::pair<std::string, at::Tensor>> decay, no_decay;
  for (const auto& item : job.model->named_parameters()) {
    if (job.topology.pipeline && item.value().numel() == 0) continue;  // another stage's
    (job.family->DecaysWeight(item.key()) ? decay : no_decay).emplace_back(item.key(), item.value());
    job.params.push_back(item.value());
    job.param_refs[item.key()] = item.value();
  }
  job.optimizer = std::make_unique<AdamW>(AdamWOptions{args.adam_beta1, args.adam_beta2, args.adam_epsilon});
  job.optimizer->AddGroup(decay, args.weight_decay);  // transformers' order: the decay group first
  job.optimizer->AddGroup(no_decay, 0.0);

  Schedule& s = job.schedule;
  s.examples = static_cast<int64_t>(job.train.size());
  s.global_batch = args.per_device_train_batch_size * job.topology.dp_size;
  const int64_t batches_per_epoch = (s.examples + s.global_batch - 1) / s.global_batch;  // per rank
  s.accumulation = args.gradient_accumulation_steps;
  s.updates_per_epoch = std::max<int64_t>(batches_per_epoch / s.accumulation + (batches_per_epoch % s.accumulation > 0), 1);
  const int64_t max_steps = args.max_steps > 0 ? args.max_steps
                                               : static_cast<int64_t>(std::ceil(args.num_train_epochs * s.updates_per_epoch));
  const int64_t num_epochs = args.max_steps > 0 ? max_steps / s.updates_per_epoch + (max_steps % s.updates_per_epoch > 0)
                                                : static_cast<int64_t>(std::ceil(args.num_train_epochs));
  s.warmup = args.warmup_steps > 0 ? StepsFor(args.warmup_steps, max_steps)
                                   : static_cast<int64_t>(std::ceil(static_cast<double>(max_steps) * args.warmup_ratio));
  const int64_t logging_steps = std::max<int64_t>(1, StepsFor(args.logging_steps, max_steps));
  const int64_t eval_steps = args.eval_steps > 0 ? std::max<int64_t>(1, StepsFor(args.eval_steps, max_steps)) : logging_steps;
  const int64_t save_steps = std::max<int64_t>(1, StepsFor(args.save_steps, max_steps));
  s.steps = StepSettings{max_steps, num_epochs, logging_steps, eval_steps, save_steps};
  job.scaler = std::make_unique<LossScaler>(args.fp16, job.device);
  job.layout = DataLayout{job.model->architecture(), job.task->LayoutNames(), job.topology.world_size(),
                          args.per_device_train_batch_size, s.accumulation, args.seed, s.examples, args.group_by_length,
                          job.topology.pipeline ? job.topology.pipeline->partitions : 1};
  job.loss_since_log = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(job.device));
}

}  // namespace

Status SetUp(Job& job) {
  auto env = ReadDistributedEnv(job.env);
  if (!env.ok()) return env.status();
  job.topology.env = *env;  // the rank, for the lines printed before the ranks join
  if (job.main_rank()) {
    for (const auto& arg : job.args.ignored) std::fprintf(stderr, "trainrt-finetune: ignoring argument %s\n", arg.c_str());
    for (const auto& w : job.args.warnings) std::fprintf(stderr, "trainrt-finetune: warning: %s\n", w.c_str());
  }
  InstallStopHandlers(static_cast<unsigned>(job.args.stop_deadline));
  TRAINRT_RETURN_IF_ERROR(LoadModelAndData(job));
  TRAINRT_RETURN_IF_ERROR(JoinRanks(job, *env));
  PrepareOptimization(job);
  return Status::Ok();
}

Status PrepareTraining(Job& job) {
  const FinetuneArgs& args = job.args;
  const Topology& t = job.topology;
  if (Collectives* group = t.gradient_group()) {
    // The input embeddings' gradient travels as rows when the family allows it and this rank holds them.
    std::optional<size_t> rows;
    if (const auto table = job.family->RowSparseEmbedding(); table && job.param_refs.count(*table)) {
      const at::TensorImpl* impl = job.param_refs.at(*table).unsafeGetTensorImpl();
      for (size_t k = 0; k < job.params.size(); ++k) {
        if (job.params[k].unsafeGetTensorImpl() == impl) rows = k;
      }
    }
    job.sync = std::make_unique<GradientSynchronizer>(*group, job.params, rows);
    if (job.main_rank()) {
      std::fprintf(stderr, "trainrt-finetune: gradients all-reduced in %zu buckets%s\n", job.sync->num_buckets(),
                   rows ? ", the word embeddings' as the rows some rank looked up" : "");
    }
  }
  if (t.pipeline) {
    job.pipeline = std::make_unique<PipelineRunner>(*t.pipeline, *t.world, *job.model, *job.task,
                                                    job.family->dims().hidden_size);
  }
  if (args.bf16 || args.fp16) {
    at::autocast::set_autocast_dtype(job.device.type(), args.bf16 ? at::kBFloat16 : at::kHalf);
    at::autocast::set_autocast_enabled(job.device.type(), true);
  }
  const Schedule& s = job.schedule;
  if (job.main_rank()) {
    std::fprintf(stderr, "trainrt-finetune: %s from %s on %s, %lld train / %zu eval examples, %s, %lld steps "
                 "(%lld epochs x %lld), batch %lld x %lld accumulation x %d data-parallel replica(s)%s%s, checkpoints in %s\n",
                 job.model->architecture().c_str(), job.model_path.c_str(), job.device.str().c_str(),
                 static_cast<long long>(s.examples), job.eval.size(), job.task->Describe().c_str(),
                 static_cast<long long>(s.steps.max_steps), static_cast<long long>(s.steps.num_epochs),
                 static_cast<long long>(s.updates_per_epoch), static_cast<long long>(args.per_device_train_batch_size),
                 static_cast<long long>(s.accumulation), t.dp_size,
                 args.bf16 ? ", bf16 autocast" : args.fp16 ? ", fp16 autocast with loss scaling" : "",
                 args.gradient_checkpointing ? ", gradient checkpointing" : "", args.output_dir.c_str());
    // Hours of training should not end at the first checkpoint for want of room.
    if (args.save_strategy != "no") {
      TRAINRT_RETURN_IF_ERROR(CheckFreeSpace(args.output_dir, job.model_bytes * 3 / 5 * 6,
                                             "1.2x a checkpoint's tensors: the weights and AdamW's two moments"));
      ModelFiles files{job.family.get(), job.model->architecture(), job.task.get(), job.tokenizer.get(), job.model_path,
                        job.args.chat_template_path};
      job.writer = std::make_unique<CheckpointWriter>(args.output_dir, files, args.save_total_limit);
      job.writer->set_best_step(job.progress.best_global_step);
    }
  }
  job.last_saved_step = job.resume_path.empty() ? -1 : job.progress.global_step;
  return Status::Ok();
}

}  // namespace trainrt::trainer
