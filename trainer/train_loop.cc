#include "trainer/train_loop.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <optional>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#ifdef TRAINRT_HAVE_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

#include "runtime/file_util.h"
#include "trainer/checkpoint/checkpoint_folder.h"
#include "trainer/checkpoint/training_checkpoint.h"
#include "trainer/checkpoint/training_progress.h"
#include "trainer/data/batching.h"
#include "trainer/data/text_classification_data.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/distributed_env.h"
#include "trainer/distributed/gradient_sync.h"
#include "trainer/distributed/pipeline.h"
#include "trainer/evaluate.h"
#include "trainer/export_model.h"
#include "trainer/model/hub_download.h"
#include "trainer/model/model_config.h"
#include "trainer/model/safetensors.h"
#include "trainer/model/sequence_classifier.h"
#include "trainer/optim/adamw.h"
#include "trainer/optim/grad_clip.h"
#include "trainer/optim/lr_schedule.h"
#include "trainer/optim/loss_scaler.h"
#include "trainer/stop_signal.h"
#include "trainer/tokenizer/wordpiece_tokenizer.h"
#include "trainer/trainer_log.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;
using Clock = std::chrono::steady_clock;

void PrintLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "'" : ", '") + s + "'";
  return "[" + out + "]";
}

// A string from rank 0 to every rank (length, then bytes).
std::string BroadcastString(Collectives& group, const std::string& text, const std::string& what) {
  at::Tensor length = at::full({1}, static_cast<int64_t>(text.size()), at::kLong);
  std::vector<at::Tensor> one{length};
  group.Broadcast(one, 0, what);
  at::Tensor bytes = at::zeros({one[0].item<int64_t>()}, at::kByte);
  if (group.rank() == 0) std::memcpy(bytes.data_ptr(), text.data(), text.size());
  std::vector<at::Tensor> payload{bytes};
  if (bytes.numel() > 0) group.Broadcast(payload, 0, what);
  return std::string(reinterpret_cast<const char*>(payload[0].data_ptr()), static_cast<size_t>(payload[0].numel()));
}

// SIGTERM under data parallel: the launcher signals every rank, but not at the same step. The
// first rank to notice proposes "stop after step S + 2" in the store (compare-and-set: the first
// proposal wins); every rank checks the store after each step and stops after that step. Ranks
// are at most one step apart (each step's all-reduce needs every rank), so no rank is past it.
class StopAgreement {
 public:
  explicit StopAgreement(Collectives* group) : group_(group) {}
  // True when training should stop after `step` (just completed).
  bool StopAfter(int64_t step) {
    if (group_ == nullptr) return StopRequested();
    c10d::Store& store = group_->store();
    if (StopRequested() && !proposed_) {
      proposed_ = true;
      const std::string mine = std::to_string(step + 2);
      const std::vector<uint8_t> expected, desired(mine.begin(), mine.end());
      (void)store.compareSet("stop_after", expected, desired);
    }
    if (target_ < 0 && store.check({"stop_after"})) {
      const std::vector<uint8_t> v = store.get("stop_after");
      target_ = std::stoll(std::string(v.begin(), v.end()));
    }
    return target_ >= 0 && step >= target_;
  }

 private:
  Collectives* group_;
  bool proposed_ = false;
  int64_t target_ = -1;
};

}  // namespace

Result<std::string> ResolveModelPath(const std::string& name, const runtime::EnvMap& env) {
  if (runtime::PathExists(name + "/config.json")) return name;
  const std::string channel = runtime::EnvOr(env, "SM_CHANNEL_MODEL", "");
  if (!channel.empty() && runtime::PathExists(channel + "/config.json")) return channel;
  std::string hub = runtime::EnvOr(env, "HF_HUB_CACHE", "");
  if (hub.empty()) {
    const std::string hf_home = runtime::EnvOr(env, "HF_HOME", runtime::EnvOr(env, "HOME", "/root") + "/.cache/huggingface");
    hub = hf_home + "/hub";
  }
  // org/name -> models--org--name
  const std::string repo_dir = hub + "/models--" + (name.find('/') != std::string::npos
                                                        ? name.substr(0, name.find('/')) + "--" + name.substr(name.find('/') + 1)
                                                        : name);
  auto ref = runtime::ReadFileToString(repo_dir + "/refs/main");
  if (ref.ok()) {
    std::string rev = *ref;
    while (!rev.empty() && (rev.back() == '\n' || rev.back() == ' ')) rev.pop_back();
    if (runtime::PathExists(repo_dir + "/snapshots/" + rev + "/config.json")) return repo_dir + "/snapshots/" + rev;
  }
  if (DIR* d = opendir((repo_dir + "/snapshots").c_str())) {
    std::string found;
    while (dirent* e = readdir(d)) {
      const std::string snapshot = repo_dir + "/snapshots/" + e->d_name;
      if (e->d_name[0] != '.' && runtime::PathExists(snapshot + "/config.json")) found = snapshot;
    }
    closedir(d);
    if (!found.empty()) return found;
  }
  // Not here: a Hub repository id ("org/name" or "name") is downloaded into that cache, unless
  // the job is offline (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, as huggingface_hub reads them).
  const bool offline = runtime::EnvOr(env, "HF_HUB_OFFLINE", "0") != "0" || runtime::EnvOr(env, "TRANSFORMERS_OFFLINE", "0") != "0";
  const bool repo_id = !name.empty() && name[0] != '/' && name[0] != '.' &&
                       std::count(name.begin(), name.end(), '/') <= 1 &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' || c == '.';
                       });
  if (repo_id && !offline) {
    HubOptions hub_options;
    hub_options.endpoint = runtime::EnvOr(env, "HF_ENDPOINT", hub_options.endpoint);
    hub_options.token = runtime::EnvOr(env, "HF_TOKEN", runtime::EnvOr(env, "HUGGING_FACE_HUB_TOKEN", ""));
    hub_options.cache_dir = hub;
    std::fprintf(stderr, "trainrt-finetune: model '%s' is not local: downloading it from %s into %s\n", name.c_str(),
                 hub_options.endpoint.c_str(), hub.c_str());
    return DownloadFromHub(name, hub_options);
  }
  return Status::NotFound("model '" + name + "': not a folder with config.json, not in the model channel, not in " +
                          "the Hugging Face cache " + hub + (offline ? " (offline: HF_HUB_OFFLINE is set)" : ""));
}

Status RunFinetune(const FinetuneArgs& args, const runtime::EnvMap& env) {
  // ---- setup ----
  auto dist = ReadDistributedEnv(env);
  if (!dist.ok()) return dist.status();
  const int rank = dist->rank, world = dist->world_size;
  const bool main_rank = rank == 0;
  if (main_rank) {
    for (const auto& arg : args.ignored) std::fprintf(stderr, "trainrt-finetune: ignoring argument %s\n", arg.c_str());
    for (const auto& w : args.warnings) std::fprintf(stderr, "trainrt-finetune: warning: %s\n", w.c_str());
  }
  // From SIGTERM to a forced exit: inside the launcher's 90 s grace and SageMaker's 120 s.
  auto stop_deadline = runtime::EnvInt(env, "TRAINRT_STOP_DEADLINE_SECONDS", 85, 1, 3600, "seconds from 1 to 3600");
  if (!stop_deadline.ok()) return stop_deadline.status();
  InstallStopHandlers(static_cast<unsigned>(*stop_deadline));

  auto model_path = ResolveModelPath(args.model_name_or_path, env);
  if (!model_path.ok()) return model_path.status();
  auto tokenizer = WordPieceTokenizer::Load(*model_path);
  if (!tokenizer.ok()) return tokenizer.status();
  auto config = ModelConfig::Load(*model_path + "/config.json");
  if (!config.ok()) return config.status();

  Columns columns{args.text_column, args.text_pair_column, args.label_column};
  auto train_examples = ReadTextClassificationChannel(args.training_dir, columns);
  if (!train_examples.ok()) return train_examples.status();
  std::vector<TextExample> eval_examples;
  if (!args.test_dir.empty() && runtime::PathExists(args.test_dir)) {
    auto read = ReadTextClassificationChannel(args.test_dir, columns);
    if (!read.ok()) return read.status();
    eval_examples = std::move(*read);
  }
  auto labels = BuildLabelMap(*train_examples, eval_examples, args.num_labels);
  if (!labels.ok()) return labels.status();
  config->num_labels = static_cast<int64_t>(labels->names.size());

  at::manual_seed(static_cast<uint64_t>(args.seed));
  auto model_or = BuildSequenceClassifier(*config);
  if (!model_or.ok()) return model_or.status();
  SequenceClassifier& model = **model_or;
  auto weights = LoadModelWeights(*model_path);
  if (!weights.ok()) return weights.status();
  auto report = LoadWeights(model, *weights);
  if (!report.ok()) return report.status().WithContext(*model_path);
  if (!report->missing.empty() && main_rank) {
    std::fprintf(stderr, "Some weights of %s were not initialized from the model checkpoint at %s and are newly "
                 "initialized: %s\n", model.architecture().c_str(), args.model_name_or_path.c_str(),
                 Join(report->missing).c_str());
  }
  if (!report->unexpected.empty() && main_rank) {
    std::fprintf(stderr, "Some weights of the model checkpoint at %s were not used when initializing %s: %s\n",
                 args.model_name_or_path.c_str(), model.architecture().c_str(), Join(report->unexpected).c_str());
  }
  const bool cuda = torch::cuda::is_available();
  const at::Device device = cuda ? at::Device(at::kCUDA, static_cast<at::DeviceIndex>(dist->local_rank))
                                 : at::Device(at::kCPU);
#ifdef TRAINRT_HAVE_CUDA
  if (cuda) c10::cuda::set_device(static_cast<c10::DeviceIndex>(dist->local_rank));
#endif
  model.to(device);
  model.train();

  // ---- the process group (data parallel) ----
  std::unique_ptr<Collectives> group;
  if (world > 1) {
    auto timeout = runtime::EnvInt(env, "TRAINRT_COLLECTIVE_TIMEOUT_SECONDS", 600, 1, 86400, "seconds from 1 to 86400");
    if (!timeout.ok()) return timeout.status();
    const int64_t seconds = args.ddp_timeout > 0 ? args.ddp_timeout : *timeout;
    auto connected = Collectives::Connect(*dist, device, std::chrono::seconds(seconds));
    if (!connected.ok()) return connected.status();
    group = std::move(*connected);
    if (main_rank) {
      std::fprintf(stderr, "trainrt-finetune: %s over %d ranks (%s, %s, collective timeout %lld s), "
                   "rank 0 at %s:%d\n", args.pipeline.enabled() ? "pipeline parallel" : "data parallel", world,
                   dist->source.c_str(), device.is_cuda() ? "NCCL" : "Gloo",
                   static_cast<long long>(seconds), dist->master_addr.c_str(), dist->master_port);
    }
  }

  // ---- pipeline stages: this rank keeps only its pieces of the model ----
  std::optional<PipelinePlan> plan;
  std::unique_ptr<Collectives> replica_group;  // the ranks holding the same stage (pipeline + ddp)
  std::vector<StageTensor> stage_tensors;      // every parameter of the model, with its stage
  double non_embedding_params = 0;             // of the whole model, for total_flos
  uint64_t model_bytes = 0;                    // of the whole model, for the free-space check
  for (const auto& item : model.named_parameters()) {
    if (item.key().find("embeddings") == std::string::npos) non_embedding_params += static_cast<double>(item.value().numel());
    model_bytes += static_cast<uint64_t>(item.value().numel()) * item.value().element_size();
  }
  if (args.pipeline.enabled()) {
    if (!group) {
      return Status::InvalidArgument("mp_parameters partitions=" + std::to_string(args.pipeline.partitions) +
                                     ": pipeline parallelism needs that many processes (this is one); run under train "
                                     "with MPI or TRAINRT_NPROC_PER_HOST, or trainrt launch");
    }
    auto planned = PlanPipeline(args.pipeline, rank, world, model.num_layers());
    if (!planned.ok()) return planned.status();
    plan = *planned;
    at::NoGradGuard no_grad;
    for (const auto& item : model.named_parameters()) {
      const int stage = plan->StageOfPiece(PieceOf(item.key(), model.num_layers()));
      stage_tensors.push_back({item.key(), item.value().sizes().vec(), item.value().scalar_type(), stage});
      if (stage != plan->stage) item.value().set_data(at::empty({0}, item.value().options()));  // not ours: freed
    }
    if (plan->replicas > 1) {
      auto made = group->NewGroup("stage" + std::to_string(plan->stage), plan->replica, plan->replicas);
      if (!made.ok()) return made.status();
      replica_group = std::move(*made);
    }
    if (main_rank) std::fprintf(stderr, "trainrt-finetune: %s\n", plan->Describe().c_str());
    int64_t held = 0;
    for (const auto& item : model.named_parameters()) held += item.value().numel();
    std::fprintf(stderr, "trainrt-finetune: rank %d holds %lld parameters (stage %d)\n", rank,
                 static_cast<long long>(held), plan->stage);
  }
  // The optimizer state that goes with each stage's parameters (AdamW's names).
  std::vector<StageTensor> optimizer_entries;
  for (const auto& e : stage_tensors) {
    for (const char* suffix : {".exp_avg", ".exp_avg_sq"}) optimizer_entries.push_back({e.name + suffix, e.shape, e.dtype, e.stage});
    optimizer_entries.push_back({e.name + ".step", {}, at::kFloat, e.stage});
  }
  // Data parallel ranks: the replicas (the pipelines, or every rank without one).
  const int dp_rank = plan ? plan->replica : rank, dp_size = plan ? plan->replicas : world;
  Collectives* grad_group = plan ? replica_group.get() : group.get();

  const int max_length = static_cast<int>(std::min(args.max_seq_length, config->max_position_embeddings));
  const EncodedSet train = Encode(*train_examples, *labels, *tokenizer, max_length);
  const EncodedSet eval = Encode(eval_examples, *labels, *tokenizer, max_length);
  const int32_t pad_id = tokenizer->pad_id();

  std::vector<std::pair<std::string, at::Tensor>> decay, no_decay;
  std::vector<at::Tensor> all_params;  // this rank's (its stage's, with a pipeline)
  std::optional<size_t> word_embeddings;  // its index in all_params, if this rank holds it
  TensorMap param_refs;
  for (const auto& item : model.named_parameters()) {
    if (plan && item.value().numel() == 0) continue;
    (DecaysWeight(item.key()) ? decay : no_decay).emplace_back(item.key(), item.value());
    if (item.key() == model.base_prefix() + ".embeddings.word_embeddings.weight") word_embeddings = all_params.size();
    all_params.push_back(item.value());
    param_refs[item.key()] = item.value();
  }
  AdamW optimizer(AdamWOptions{args.adam_beta1, args.adam_beta2, args.adam_epsilon});
  optimizer.AddGroup(decay, args.weight_decay);  // transformers' order: the decay group first
  optimizer.AddGroup(no_decay, 0.0);

  const int64_t n = static_cast<int64_t>(train.labels.size());
  const int64_t global_batch = args.per_device_train_batch_size * dp_size;
  const int64_t batches_per_epoch = (n + global_batch - 1) / global_batch;  // per rank
  const int64_t ga = args.gradient_accumulation_steps;
  const int64_t updates_per_epoch = std::max<int64_t>(batches_per_epoch / ga + (batches_per_epoch % ga > 0), 1);
  const int64_t max_steps = args.max_steps > 0 ? args.max_steps
                                               : static_cast<int64_t>(std::ceil(args.num_train_epochs * updates_per_epoch));
  const int64_t num_epochs = args.max_steps > 0 ? max_steps / updates_per_epoch + (max_steps % updates_per_epoch > 0)
                                                : static_cast<int64_t>(std::ceil(args.num_train_epochs));
  const int64_t warmup = args.warmup_steps > 0 ? StepsFor(args.warmup_steps, max_steps)
                                               : static_cast<int64_t>(std::ceil(static_cast<double>(max_steps) * args.warmup_ratio));
  const int64_t logging_steps = std::max<int64_t>(1, StepsFor(args.logging_steps, max_steps));
  const int64_t eval_steps = args.eval_steps > 0 ? std::max<int64_t>(1, StepsFor(args.eval_steps, max_steps)) : logging_steps;
  const int64_t save_steps = std::max<int64_t>(1, StepsFor(args.save_steps, max_steps));
  const StepSettings step_settings{max_steps, num_epochs, logging_steps, eval_steps, save_steps};
  const double progress_seconds = std::stod(runtime::EnvOr(env, "TRAINRT_PROGRESS_SECONDS", "30"));
  LossScaler scaler(args.fp16, device);
  const DataLayout layout{model.architecture(), labels->names, world, args.per_device_train_batch_size, ga, args.seed, n,
                          args.group_by_length, plan ? plan->partitions : 1};

  // This rank's RNG, loss-scaler and pending-loss state, as checkpoints keep it.
  at::Tensor loss_since_log = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device));
  auto rank_state = [&] {
    TensorMap state;
    SaveRngState(device, state);
    state["loss_since_log"] = loss_since_log.to(at::kCPU, false, true);
    if (scaler.enabled()) {
      state["loss_scale.scale"] = scaler.scale().to(at::kCPU, false, true);
      state["loss_scale.growth_tracker"] = scaler.growth_tracker().to(at::kCPU, false, true);
    }
    return state;
  };
  auto restore_rank_state = [&](const TensorMap& state) -> Status {
    TRAINRT_RETURN_IF_ERROR(RestoreRngState(device, state));
    if (auto it = state.find("loss_since_log"); it != state.end()) loss_since_log.copy_(it->second);
    auto scale = state.find("loss_scale.scale"), tracker = state.find("loss_scale.growth_tracker");
    if (scaler.enabled() && scale != state.end() && tracker != state.end()) scaler.Restore(scale->second, tracker->second);
    return Status::Ok();
  };

  // ---- resume: rank 0 picks the newest valid checkpoint (unless told otherwise) and hands the
  // state to the other ranks through the process group: no other host needs the files ----
  Progress progress;
  std::string resume_path;
  {
    LoadedCheckpoint loaded;
    nlohmann::json shared = {{"path", ""}};
    if (main_rank) {
      Status s = [&]() -> Status {
        auto chosen = ChooseCheckpoint(args);
        if (!chosen.ok()) return chosen.status();
        if (chosen->empty()) return Status::Ok();
        auto read = LoadTrainingCheckpoint(*chosen);
        if (!read.ok()) return read.status();
        loaded = std::move(*read);
        Progress check;  // a checkpoint of another layout is refused before anything is loaded
        TRAINRT_RETURN_IF_ERROR(RestoreProgress(loaded.trainrt_state, loaded.trainer_state, *chosen, layout, check));
        for (const auto& entry : stage_tensors) {
          if (!loaded.model.count(entry.name)) return Status::InvalidArgument(*chosen + ": weight '" + entry.name + "' missing");
        }
        if (!plan) {
          auto restored = LoadWeights(model, loaded.model);
          if (!restored.ok()) return restored.status().WithContext(*chosen);
          if (!restored->missing.empty()) return Status::InvalidArgument(*chosen + ": weights missing: " + Join(restored->missing));
          TRAINRT_RETURN_IF_ERROR(optimizer.LoadState(loaded.optimizer).WithContext(*chosen + "/optimizer.safetensors"));
        }
        shared = {{"path", *chosen}, {"trainrt_state", loaded.trainrt_state}, {"trainer_state", loaded.trainer_state},
                  {"optimizer", !loaded.optimizer.empty()}};
        return Status::Ok();
      }();
      if (!s.ok()) shared = {{"error", s.ToString()}};
    }
    if (group) shared = nlohmann::json::parse(BroadcastString(*group, shared.dump(), "broadcast of the resume state"));
    if (shared.contains("error")) {
      return main_rank ? Status::InvalidArgument(shared["error"].get<std::string>())
                       : Status::InvalidArgument("rank 0 could not resume: " + shared["error"].get<std::string>());
    }
    resume_path = shared["path"].get<std::string>();
    if (!resume_path.empty()) {
      TRAINRT_RETURN_IF_ERROR(RestoreProgress(shared["trainrt_state"], shared["trainer_state"], resume_path, layout, progress));
    }
    if (plan) {  // each stage gets its weights (and optimizer state) from rank 0's checkpoint
      if (!resume_path.empty()) {
        ScatterFromRank0(*group, *plan, loaded.model, param_refs, stage_tensors, "sending the resumed weights");
        if (shared["optimizer"].get<bool>()) {
          TensorMap live = optimizer.LiveState();
          ScatterFromRank0(*group, *plan, loaded.optimizer, live, optimizer_entries,
                           "sending the resumed optimizer state");
        }
      } else if (replica_group) {
        std::vector<at::Tensor> params = all_params;
        replica_group->Broadcast(params, 0, "broadcast of the stage's parameters");
      }
    } else if (group) {  // the replicas start equal: rank 0's weights (and optimizer state)
      std::vector<at::Tensor> params = all_params;
      group->Broadcast(params, 0, "broadcast of the parameters");
      if (!resume_path.empty() && shared["optimizer"].get<bool>()) {
        std::vector<at::Tensor> state;
        for (auto& [name, tensor] : optimizer.LiveState()) state.push_back(tensor);  // the same names on every rank
        group->Broadcast(state, 0, "broadcast of the optimizer state");
      }
    }
    if (!resume_path.empty()) {  // each rank's own RNG and pending loss
      if (!group) {
        TRAINRT_RETURN_IF_ERROR(restore_rank_state(loaded.rank_states[0]).WithContext(resume_path));
      } else {
        TensorMap mine = rank_state();
        for (int r = 0; r < world; ++r) {
          TensorMap sent = main_rank ? loaded.rank_states[static_cast<size_t>(r)] : mine;
          std::vector<at::Tensor> tensors;
          for (auto& [key, value] : mine) {
            auto it = sent.find(key);
            if (it == sent.end() || it->second.sizes() != value.sizes()) {
              return Status::InvalidArgument(resume_path + "/" + RankStateFile(r, world) + ": '" + key +
                                             "' missing or of another shape");
            }
            tensors.push_back(it->second.to(device, value.scalar_type(), false, true));
          }
          group->Broadcast(tensors, 0, "broadcast of rank " + std::to_string(r) + "'s RNG state");
          if (r == rank) {
            size_t k = 0;
            for (auto& [key, value] : mine) value = tensors[k++].to(at::kCPU);
            TRAINRT_RETURN_IF_ERROR(restore_rank_state(mine));
          }
        }
      }
    }
    if (main_rank) {
      if (resume_path.empty()) {
        std::fprintf(stderr, "trainrt-finetune: no checkpoint to resume from in %s: starting fresh\n", args.output_dir.c_str());
      } else {
        std::fprintf(stderr, "trainrt-finetune: resuming from %s (written %s ago): step %lld of %lld, epoch %lld, batch %lld\n",
                     resume_path.c_str(), AgeOf(resume_path + "/" + kCheckpointManifest).c_str(),
                     static_cast<long long>(progress.global_step), static_cast<long long>(max_steps),
                     static_cast<long long>(progress.epoch), static_cast<long long>(progress.next_batch));
      }
    }
  }
  std::unique_ptr<GradientSynchronizer> sync;
  if (grad_group) {
    sync = std::make_unique<GradientSynchronizer>(*grad_group, all_params, word_embeddings);
    if (main_rank) {
      std::fprintf(stderr, "trainrt-finetune: gradients all-reduced in %zu buckets%s\n", sync->num_buckets(),
                   word_embeddings ? ", the word embeddings' as the rows some rank looked up" : "");
    }
  }
  std::unique_ptr<PipelineRunner> pipeline;
  if (plan) pipeline = std::make_unique<PipelineRunner>(*plan, *group, model, config->hidden_size);
  // The whole model's weights (and optimizer state) on rank 0: gathered from the stages.
  auto full_weights = [&]() -> std::vector<TensorMap> {
    if (!plan) return {ModelWeights(model)};
    TensorMap all = GatherToRank0(*group, *plan, param_refs, stage_tensors, "gathering the weights");
    std::vector<TensorMap> shards(static_cast<size_t>(plan->partitions));
    for (const auto& e : stage_tensors) {
      if (all.count(e.name)) shards[static_cast<size_t>(e.stage)][e.name] = all[e.name].to(at::kFloat);
    }
    return shards;
  };
  auto full_optimizer_state = [&]() -> TensorMap {
    if (!plan) return optimizer.SaveState();
    return GatherToRank0(*group, *plan, optimizer.LiveState(), optimizer_entries, "gathering the optimizer state");
  };
  if (args.bf16 || args.fp16) {
    at::autocast::set_autocast_dtype(device.type(), args.bf16 ? at::kBFloat16 : at::kHalf);
    at::autocast::set_autocast_enabled(device.type(), true);
  }
  if (main_rank) {
    std::fprintf(stderr, "trainrt-finetune: %s from %s on %s, %lld train / %zu eval examples, %zu labels, %lld steps "
                 "(%lld epochs x %lld), batch %lld x %lld accumulation x %d data-parallel replica(s)%s, checkpoints in %s\n",
                 model.architecture().c_str(), model_path->c_str(), device.str().c_str(), static_cast<long long>(n),
                 eval.labels.size(), labels->names.size(), static_cast<long long>(max_steps),
                 static_cast<long long>(num_epochs), static_cast<long long>(updates_per_epoch),
                 static_cast<long long>(args.per_device_train_batch_size), static_cast<long long>(ga), dp_size,
                 args.bf16 ? ", bf16 autocast" : args.fp16 ? ", fp16 autocast with loss scaling" : "",
                 args.output_dir.c_str());
  }

  ModelFilesInfo files{model.architecture(), &*config, &labels->names, &*tokenizer, *model_path};
  std::unique_ptr<CheckpointWriter> writer;
  if (main_rank) {
    // Hours of training should not end at the first checkpoint for want of room.
    if (args.save_strategy != "no") {
      TRAINRT_RETURN_IF_ERROR(CheckFreeSpace(args.output_dir, model_bytes * 3 / 5 * 6,
                                             "1.2x a checkpoint's tensors: the weights and AdamW's two moments"));
    }
    writer = std::make_unique<CheckpointWriter>(args.output_dir, files, args.save_total_limit);
    writer->set_best_step(progress.best_global_step);
  }
  int64_t last_saved_step = resume_path.empty() ? -1 : progress.global_step;
  // Snapshots the state after an optimizer step (every rank's RNG gathered on rank 0) and has rank
  // 0 write it, in the background unless `wait`.
  auto save_checkpoint = [&](bool wait) -> Status {
    last_saved_step = progress.global_step;
    CheckpointSnapshot snap;
    snap.step = progress.global_step;
    TensorMap mine = rank_state();
    snap.rank_states.assign(static_cast<size_t>(world), TensorMap());
    if (!group) {
      snap.rank_states[0] = std::move(mine);
    } else {
      for (auto& [key, value] : mine) {
        std::vector<at::Tensor> gathered;
        group->AllGather(gathered, value.to(device), "all_gather of the RNG states for checkpoint-" +
                                                         std::to_string(progress.global_step));
        for (int r = 0; r < world; ++r) snap.rank_states[static_cast<size_t>(r)][key] = gathered[static_cast<size_t>(r)].to(at::kCPU);
      }
    }
    if (plan || main_rank) {  // gathering the stages is a collective; without stages only rank 0 copies
      snap.model = full_weights();
      snap.optimizer = full_optimizer_state();
    }
    if (!main_rank) return Status::Ok();
    if (progress.best_global_step == progress.global_step) {
      progress.best_model_checkpoint = args.output_dir + "/checkpoint-" + std::to_string(progress.global_step);
      writer->set_best_step(progress.best_global_step);
    }
    snap.trainer_state = TrainerState(progress, args, step_settings);
    snap.trainrt_state = TrainrtState(progress, layout);
    TRAINRT_RETURN_IF_ERROR(writer->Save(std::move(snap), /*background=*/!wait));
    return wait ? writer->Wait() : Status::Ok();
  };

  // Trainer logs the mean loss over the replicas (with a pipeline, only last stages hold one).
  auto average_pending_loss = [&](const std::string& what) {
    if (!group) return;
    std::vector<at::Tensor> pending{loss_since_log};
    group->AllReduceSum(pending, what);  // in place
    loss_since_log.div_(static_cast<double>(dp_size));
  };

  // ---- training loop ----
  const auto start = Clock::now();
  auto last_progress = start;
  const int64_t first_step = progress.global_step;
  StopAgreement stop(group.get());
  bool stopped = false;
  // Evaluates on the test channel (every rank) and prints Trainer's eval dict (rank 0); `record`
  // adds it to log_history and tracks the best metric.
  auto evaluate = [&](bool record) {
    LogDict metrics = Evaluate(model, eval, args.per_device_eval_batch_size, config->num_labels, pad_id, device,
                               group.get(), dp_rank, dp_size, pipeline.get());
    if (record) {
      progress.log_history.push_back(HistoryEntry(metrics, progress.epoch_progress, progress.global_step));
      if (!args.metric_for_best_model.empty()) {
        const std::string key = args.metric_for_best_model.rfind("eval_", 0) == 0 ? args.metric_for_best_model
                                                                                 : "eval_" + args.metric_for_best_model;
        const bool greater = key.size() < 4 || key.compare(key.size() - 4, 4, "loss") != 0;
        for (const auto& [k, v] : metrics) {
          if (k != key || !std::holds_alternative<double>(v)) continue;
          const double value = std::get<double>(v);
          if (!progress.best_metric || (greater ? value > *progress.best_metric : value < *progress.best_metric)) {
            progress.best_metric = value;
            progress.best_global_step = progress.global_step;
          }
        }
      }
    }
    metrics.emplace_back("epoch", PyRound(progress.epoch_progress, 2));
    if (main_rank) PrintLine(PythonDictLine(metrics));
    return metrics;
  };
  for (int64_t epoch = progress.epoch; epoch < num_epochs && progress.global_step < max_steps && !stopped; ++epoch) {
    if (!group && StopRequested()) break;
    const auto batches = EpochBatches(train, args.per_device_train_batch_size, args.seed, epoch, args.group_by_length,
                                      dp_rank, dp_size);
    // A resumed epoch starts at the saved position: seeking, not replaying.
    const size_t first_batch = epoch == progress.epoch ? static_cast<size_t>(progress.next_batch) : 0;
    if (first_batch >= batches.size()) continue;
    // The next batch is collated (and copied to the device) on a helper thread while this one runs.
    auto collate = [&](size_t i) { return Collate(train, batches[i], pad_id, device); };
    std::future<Batch> next = std::async(std::launch::async, collate, first_batch);
    for (size_t b = first_batch; b < batches.size() && progress.global_step < max_steps; ++b) {
      // The accumulation window this batch belongs to (the last one of an epoch may be shorter).
      const int64_t window_start = static_cast<int64_t>(b) / ga * ga;
      const int64_t window = std::min<int64_t>(ga, static_cast<int64_t>(batches.size()) - window_start);
      const bool window_done = static_cast<int64_t>(b) - window_start + 1 == window;
      if (group) group->set_step(progress.global_step + 1);
      Batch batch = next.get();
      if (b + 1 < batches.size()) next = std::async(std::launch::async, collate, b + 1);
      // Accumulation micro-steps do not all-reduce; a pipeline's many backwards (one per
      // microbatch) neither: its gradients are all-reduced whole, after the last.
      if (sync) {
        sync->set_sync(window_done && !pipeline);
        sync->NoteLookups(batch.input_ids);  // only these rows of the embedding table get gradients
      }
      if (pipeline) {
        loss_since_log.add_(pipeline->TrainBatch(batch, static_cast<double>(window)));
      } else {
        at::Tensor logits = model.forward(batch.input_ids, batch.attention_mask, batch.token_type_ids).to(at::kFloat);
        at::Tensor loss = at::cross_entropy_loss(logits, batch.labels).div(static_cast<double>(window));
        scaler.Scale(loss).backward();
        loss_since_log.add_(loss.detach());
      }
      // Autocast caches the low-precision copies of the weights; Python's autocast drops them when
      // each forward's region ends, so must we, or later steps would see stale weights.
      if (args.bf16 || args.fp16) at::autocast::clear_cache();
      progress.total_flos += 6.0 * non_embedding_params * static_cast<double>(batch.input_ids.numel()) * dp_size;
      if (!window_done) continue;  // more micro-batches to accumulate
      if (sync) sync->Finish();    // the gradients, averaged over the ranks

      const bool finite = scaler.Unscale(all_params);  // fp16: gradients back to their true scale
      at::Tensor grad_norm = plan ? ClipGradNormAcrossStages(all_params, args.max_grad_norm, *group, dp_size)
                                  : ClipGradNorm(all_params, args.max_grad_norm);
      const double lr = args.learning_rate * LinearSchedule(progress.scheduler_step, warmup, max_steps);
      if (finite) {  // an overflowed fp16 step is skipped, and so is its schedule step (Trainer)
        optimizer.Step(lr);
        ++progress.scheduler_step;
      }
      scaler.Update();
      optimizer.ZeroGrad();
      ++progress.global_step;
      const bool epoch_done = b + 1 == batches.size();
      progress.epoch = epoch_done ? epoch + 1 : epoch;
      progress.next_batch = epoch_done ? 0 : static_cast<int64_t>(b) + 1;
      progress.epoch_progress = static_cast<double>(epoch) + static_cast<double>(b + 1) / static_cast<double>(batches.size());
      const int64_t step = progress.global_step;

      // ---- logs, evaluation, checkpoints, progress (the only host synchronisations) ----
      if (step % logging_steps == 0 || (args.logging_first_step && step == 1)) {
        average_pending_loss("all_reduce of the logged loss");
        const double loss_value = loss_since_log.item<double>() / static_cast<double>(step - progress.last_logged_step);
        progress.total_loss += loss_value * static_cast<double>(step - progress.last_logged_step);
        loss_since_log.zero_();
        progress.last_logged_step = step;
        LogDict line = {{"loss", PyRound(loss_value, 4)}};
        nlohmann::json entry = {{"loss", loss_value}};
        if (args.max_grad_norm > 0) {
          line.emplace_back("grad_norm", grad_norm.item<double>());
          entry["grad_norm"] = std::get<double>(line.back().second);
        }
        line.emplace_back("learning_rate", lr);
        line.emplace_back("epoch", PyRound(progress.epoch_progress, 2));
        if (main_rank) PrintLine(PythonDictLine(line));
        entry["learning_rate"] = lr;
        entry["epoch"] = progress.epoch_progress;
        entry["step"] = step;
        progress.log_history.push_back(entry);
      }
      const bool last_step = step == max_steps;
      if (!eval.labels.empty() && ((args.eval_strategy == "steps" && step % eval_steps == 0) ||
                                   (args.eval_strategy == "epoch" && (epoch_done || last_step)))) {
        evaluate(true);
      }
      const bool save_now = (args.save_strategy == "steps" && (step % save_steps == 0 || last_step)) ||
                            (args.save_strategy == "epoch" && (epoch_done || last_step));
      if (stop.StopAfter(step)) {  // SIGTERM: this step is done; checkpoint it and stop
        if (last_saved_step != step) TRAINRT_RETURN_IF_ERROR(save_checkpoint(/*wait=*/true));
        if (writer) TRAINRT_RETURN_IF_ERROR(writer->Wait());
        if (group) group->Barrier("barrier after the stop checkpoint");
        return Status::Cancelled("stopped by " + std::string(StopSignal() == SIGINT ? "SIGINT" : "SIGTERM") +
                                 " after step " + std::to_string(step) + " of " + std::to_string(max_steps) + "; " +
                                 args.output_dir + "/checkpoint-" + std::to_string(step) +
                                 " is complete: run the same command again to resume");
      }
      if (save_now) TRAINRT_RETURN_IF_ERROR(save_checkpoint(/*wait=*/false));
      const auto now = Clock::now();
      if (main_rank && std::chrono::duration<double>(now - last_progress).count() >= progress_seconds) {
        last_progress = now;
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const double rate = static_cast<double>((step - first_step) * global_batch * ga) / elapsed;
        const double eta = elapsed / static_cast<double>(step - first_step) * static_cast<double>(max_steps - step);
        std::fprintf(stderr, "trainrt-finetune: step %lld/%lld (%.0f%%), %.1f samples/s, ETA %d:%02d:%02d\n",
                     static_cast<long long>(step), static_cast<long long>(max_steps),
                     100.0 * static_cast<double>(step) / static_cast<double>(max_steps), rate,
                     static_cast<int>(eta) / 3600, static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60);
      }
    }
  }
  if (writer) TRAINRT_RETURN_IF_ERROR(writer->Wait());
  if (!group && StopRequested() && progress.global_step < max_steps) {  // stopped before the first step of this run
    return Status::Cancelled("stopped by a signal before training step " + std::to_string(progress.global_step + 1) +
                             "; nothing new to checkpoint");
  }
  average_pending_loss("all_reduce of the remaining loss");
  if (progress.global_step > progress.last_logged_step) progress.total_loss += loss_since_log.item<double>();

  // ---- summary, best model, final evaluation, export ----
  const double runtime = std::chrono::duration<double>(Clock::now() - start).count();
  const double samples = args.max_steps > 0 ? static_cast<double>(max_steps * global_batch * ga)
                                            : static_cast<double>(n) * args.num_train_epochs;
  LogDict summary = {{"train_runtime", PyRound(runtime, 4)},
                     {"train_samples_per_second", PyRound(samples / runtime, 3)},
                     {"train_steps_per_second", PyRound(static_cast<double>(max_steps) / runtime, 3)},
                     {"total_flos", progress.total_flos},
                     {"train_loss", progress.total_loss / std::max<double>(static_cast<double>(progress.global_step), 0.001)},
                     {"epoch", PyRound(progress.epoch_progress, 2)}};
  progress.log_history.push_back(HistoryEntry(summary, progress.epoch_progress, progress.global_step));
  if (main_rank) {
    PrintLine(PythonDictLine(summary));
    PrintLine(ResultsBlock("train results", summary));
    TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(args.output_data_dir));
    TRAINRT_RETURN_IF_ERROR(runtime::WriteFileAtomically(
        args.output_data_dir + "/trainer_state.json",
        HfJsonText(TrainerState(progress, args, step_settings))));
  }
  if (args.load_best_model_at_end && progress.best_global_step >= 0) {
    const std::string best_path = args.output_dir + "/checkpoint-" + std::to_string(progress.best_global_step);
    TensorMap best_weights;
    if (main_rank && runtime::PathExists(best_path)) {
      std::fprintf(stderr, "Loading best model from %s (score: %s).\n", best_path.c_str(),
                   PythonDictLine({{"", *progress.best_metric}}).substr(6).c_str());
      auto best = LoadModelWeights(best_path);
      if (!best.ok()) return best.status();
      best_weights = std::move(*best);
      if (!plan) {
        auto loaded = LoadWeights(model, best_weights);
        if (!loaded.ok()) return loaded.status().WithContext(best_path);
      }
    }
    if (plan) {
      ScatterFromRank0(*group, *plan, best_weights, param_refs, stage_tensors, "sending the best model");
    } else if (group) {
      std::vector<at::Tensor> params = all_params;
      group->Broadcast(params, 0, "broadcast of the best model");
    }
  }
  if (!eval.labels.empty()) {
    const LogDict final_metrics = evaluate(false);
    if (main_rank) {
      const std::string block = ResultsBlock("eval results", final_metrics);
      PrintLine(block);
      TRAINRT_RETURN_IF_ERROR(
          runtime::WriteFileAtomically(args.output_data_dir + "/eval_results.txt", block.substr(block.find('\n') + 1)));
    }
  }
  if (args.bf16 || args.fp16) at::autocast::set_autocast_enabled(device.type(), false);
  std::vector<TensorMap> final_weights = plan || main_rank ? full_weights() : std::vector<TensorMap>();
  if (main_rank) {
    TensorMap whole;  // the exported model is one file, whatever the stages
    for (auto& shard : final_weights) whole.insert(shard.begin(), shard.end());
    TRAINRT_RETURN_IF_ERROR(ExportModel(args.model_dir, whole, model.architecture(), *config, labels->names,
                                        *tokenizer, *model_path));
    // The job succeeds only with an export that reads back as written (a full disk, a flaky mount).
    auto reread = LoadModelWeights(args.model_dir);
    if (!reread.ok()) return reread.status().WithContext("verifying the exported model");
    for (const auto& [name, tensor] : whole) {
      auto it = reread->find(name);
      if (it == reread->end() || !at::equal(it->second, tensor)) {
        return Status::Corruption(args.model_dir + "/model.safetensors: tensor '" + name + "' does not read back as written");
      }
    }
    std::fprintf(stderr, "trainrt-finetune: model saved to %s (%zu tensors read back and verified)\n",
                 args.model_dir.c_str(), whole.size());
  }
  if (group) group->Barrier("final barrier");  // rank 0 may serve the store: nobody leaves before it is done
  return Status::Ok();
}

}  // namespace trainrt::trainer
