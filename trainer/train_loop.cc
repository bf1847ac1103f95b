#include "trainer/train_loop.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
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
#include "trainer/stall_watchdog.h"
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

namespace {

// One fine-tuning job, in the order it runs: Prepare (model, data, ranks, stages, optimizer),
// Resume, Train (the loop; AfterStep holds its logs, evaluations, checkpoints and stops), Finish
// (summary, best model, final evaluation, export). The members are the job's state, set once by
// Prepare unless they say otherwise.
class FinetuneJob {
 public:
  FinetuneJob(const FinetuneArgs& args, const runtime::EnvMap& env) : args_(args), env_(env) {}

  Status Run() {
    TRAINRT_RETURN_IF_ERROR(LoadModelAndData());
    TRAINRT_RETURN_IF_ERROR(JoinProcessGroup());
    TRAINRT_RETURN_IF_ERROR(SplitIntoStages());
    PrepareOptimization();
    TRAINRT_RETURN_IF_ERROR(Resume());
    TRAINRT_RETURN_IF_ERROR(StartTraining());
    TRAINRT_RETURN_IF_ERROR(Train());
    return Finish();
  }

 private:
  // ---- setup ----
  Status LoadModelAndData() {
    auto dist = ReadDistributedEnv(env_);
    if (!dist.ok()) return dist.status();
    dist_ = *dist;
    if (main_rank()) {
      for (const auto& arg : args_.ignored) std::fprintf(stderr, "trainrt-finetune: ignoring argument %s\n", arg.c_str());
      for (const auto& w : args_.warnings) std::fprintf(stderr, "trainrt-finetune: warning: %s\n", w.c_str());
    }
    // From SIGTERM to a forced exit: inside the launcher's 90 s grace and SageMaker's 120 s.
    auto stop_deadline = runtime::EnvInt(env_, "TRAINRT_STOP_DEADLINE_SECONDS", 85, 1, 3600, "seconds from 1 to 3600");
    if (!stop_deadline.ok()) return stop_deadline.status();
    InstallStopHandlers(static_cast<unsigned>(*stop_deadline));

    auto model_path = ResolveModelPath(args_.model_name_or_path, env_);
    if (!model_path.ok()) return model_path.status();
    model_path_ = *model_path;
    auto tokenizer = WordPieceTokenizer::Load(model_path_);
    if (!tokenizer.ok()) return tokenizer.status();
    tokenizer_.emplace(std::move(*tokenizer));
    auto config = ModelConfig::Load(model_path_ + "/config.json");
    if (!config.ok()) return config.status();
    config_ = *config;

    Columns columns{args_.text_column, args_.text_pair_column, args_.label_column};
    auto train_examples = ReadTextClassificationChannel(args_.training_dir, columns);
    if (!train_examples.ok()) return train_examples.status();
    std::vector<TextExample> eval_examples;
    if (!args_.test_dir.empty() && runtime::PathExists(args_.test_dir)) {
      auto read = ReadTextClassificationChannel(args_.test_dir, columns);
      if (!read.ok()) return read.status();
      eval_examples = std::move(*read);
    }
    auto labels = BuildLabelMap(*train_examples, eval_examples, args_.num_labels);
    if (!labels.ok()) return labels.status();
    labels_ = *labels;
    config_.num_labels = static_cast<int64_t>(labels_.names.size());
    const int max_length = static_cast<int>(std::min(args_.max_seq_length, config_.max_position_embeddings));
    train_ = Encode(*train_examples, labels_, *tokenizer_, max_length);
    eval_ = Encode(eval_examples, labels_, *tokenizer_, max_length);
    pad_id_ = tokenizer_->pad_id();

    at::manual_seed(static_cast<uint64_t>(args_.seed));
    auto model = BuildSequenceClassifier(config_);
    if (!model.ok()) return model.status();
    model_ = *model;
    auto weights = LoadModelWeights(model_path_);
    if (!weights.ok()) return weights.status();
    auto report = LoadWeights(*model_, *weights);
    if (!report.ok()) return report.status().WithContext(model_path_);
    if (!report->missing.empty() && main_rank()) {
      std::fprintf(stderr, "Some weights of %s were not initialized from the model checkpoint at %s and are newly "
                   "initialized: %s\n", model_->architecture().c_str(), args_.model_name_or_path.c_str(),
                   Join(report->missing).c_str());
    }
    if (!report->unexpected.empty() && main_rank()) {
      std::fprintf(stderr, "Some weights of the model checkpoint at %s were not used when initializing %s: %s\n",
                   args_.model_name_or_path.c_str(), model_->architecture().c_str(), Join(report->unexpected).c_str());
    }
    for (const auto& item : model_->named_parameters()) {
      if (item.key().find("embeddings") == std::string::npos) non_embedding_params_ += static_cast<double>(item.value().numel());
      model_bytes_ += static_cast<uint64_t>(item.value().numel()) * item.value().element_size();
    }

    const bool cuda = torch::cuda::is_available();
    if (cuda && dist_.local_rank >= static_cast<int>(torch::cuda::device_count())) {
      return Status::InvalidArgument("LOCAL_RANK " + std::to_string(dist_.local_rank) + ": this host shows only " +
                                     std::to_string(torch::cuda::device_count()) + " GPU(s) (CUDA_VISIBLE_DEVICES='" +
                                     runtime::EnvOr(env_, "CUDA_VISIBLE_DEVICES", "") +
                                     "'): start at most one process per GPU");
    }
    device_ = cuda ? at::Device(at::kCUDA, static_cast<at::DeviceIndex>(dist_.local_rank)) : at::Device(at::kCPU);
#ifdef TRAINRT_HAVE_CUDA
    if (cuda) c10::cuda::set_device(static_cast<c10::DeviceIndex>(dist_.local_rank));
#endif
    model_->to(device_);
    model_->train();
    return Status::Ok();
  }

  Status JoinProcessGroup() {
    if (dist_.world_size == 1) return Status::Ok();
    auto timeout = runtime::EnvInt(env_, "TRAINRT_COLLECTIVE_TIMEOUT_SECONDS", 600, 1, 86400, "seconds from 1 to 86400");
    if (!timeout.ok()) return timeout.status();
    const int64_t seconds = args_.ddp_timeout > 0 ? args_.ddp_timeout : *timeout;
    auto connected = Collectives::Connect(dist_, device_, std::chrono::seconds(seconds));
    if (!connected.ok()) return connected.status();
    group_ = std::move(*connected);
    if (main_rank()) {
      std::fprintf(stderr, "trainrt-finetune: %s over %d ranks (%s, %s, collective timeout %lld s), "
                   "rank 0 at %s:%d\n", args_.pipeline.enabled() ? "pipeline parallel" : "data parallel",
                   dist_.world_size,
                   dist_.source.c_str(), device_.is_cuda() ? "NCCL" : "Gloo",
                   static_cast<long long>(seconds), dist_.master_addr.c_str(), dist_.master_port);
    }
    return Status::Ok();
  }

  // With a pipeline, this rank keeps only its stage's pieces of the model.
  Status SplitIntoStages() {
    if (args_.pipeline.enabled()) {
      if (!group_) {
        return Status::InvalidArgument("mp_parameters partitions=" + std::to_string(args_.pipeline.partitions) +
                                       ": pipeline parallelism needs that many processes (this is one); run under train "
                                       "with MPI or TRAINRT_NPROC_PER_HOST, or trainrt launch");
      }
      auto planned = PlanPipeline(args_.pipeline, dist_.rank, dist_.world_size, model_->num_layers());
      if (!planned.ok()) return planned.status();
      plan_ = *planned;
      at::NoGradGuard no_grad;
      for (const auto& item : model_->named_parameters()) {
        const int stage = plan_->StageOfPiece(PieceOf(item.key(), model_->num_layers()));
        stage_tensors_.push_back({item.key(), item.value().sizes().vec(), item.value().scalar_type(), stage});
        if (stage != plan_->stage) item.value().set_data(at::empty({0}, item.value().options()));  // not ours: freed
      }
      if (plan_->replicas > 1) {
        auto made = group_->NewGroup("stage" + std::to_string(plan_->stage), plan_->replica, plan_->replicas);
        if (!made.ok()) return made.status();
        replica_group_ = std::move(*made);
      }
      if (main_rank()) std::fprintf(stderr, "trainrt-finetune: %s\n", plan_->Describe().c_str());
      int64_t held = 0;
      for (const auto& item : model_->named_parameters()) held += item.value().numel();
      std::fprintf(stderr, "trainrt-finetune: rank %d holds %lld parameters (stage %d)\n", dist_.rank,
                   static_cast<long long>(held), plan_->stage);
    }
    // The optimizer state that goes with each stage's parameters (AdamW's names).
    for (const auto& e : stage_tensors_) {
      for (const char* suffix : {".exp_avg", ".exp_avg_sq"}) optimizer_entries_.push_back({e.name + suffix, e.shape, e.dtype, e.stage});
      optimizer_entries_.push_back({e.name + ".step", {}, at::kFloat, e.stage});
    }
    // Data parallel ranks: the replicas (the pipelines, or every rank without one).
    dp_rank_ = plan_ ? plan_->replica : dist_.rank;
    dp_size_ = plan_ ? plan_->replicas : dist_.world_size;
    grad_group_ = plan_ ? replica_group_.get() : group_.get();
    return Status::Ok();
  }

  // The optimizer over this rank's parameters, the step counts of the schedule, the layout a
  // checkpoint must match.
  void PrepareOptimization() {
    std::vector<std::pair<std::string, at::Tensor>> decay, no_decay;
    for (const auto& item : model_->named_parameters()) {
      if (plan_ && item.value().numel() == 0) continue;
      (DecaysWeight(item.key()) ? decay : no_decay).emplace_back(item.key(), item.value());
      if (item.key() == model_->base_prefix() + ".embeddings.word_embeddings.weight") word_embeddings_ = all_params_.size();
      all_params_.push_back(item.value());
      param_refs_[item.key()] = item.value();
    }
    optimizer_ = std::make_unique<AdamW>(AdamWOptions{args_.adam_beta1, args_.adam_beta2, args_.adam_epsilon});
    optimizer_->AddGroup(decay, args_.weight_decay);  // transformers' order: the decay group first
    optimizer_->AddGroup(no_decay, 0.0);

    n_ = static_cast<int64_t>(train_.labels.size());
    global_batch_ = args_.per_device_train_batch_size * dp_size_;
    const int64_t batches_per_epoch = (n_ + global_batch_ - 1) / global_batch_;  // per rank
    ga_ = args_.gradient_accumulation_steps;
    updates_per_epoch_ = std::max<int64_t>(batches_per_epoch / ga_ + (batches_per_epoch % ga_ > 0), 1);
    const int64_t max_steps = args_.max_steps > 0
                                  ? args_.max_steps
                                  : static_cast<int64_t>(std::ceil(args_.num_train_epochs * updates_per_epoch_));
    const int64_t num_epochs = args_.max_steps > 0 ? max_steps / updates_per_epoch_ + (max_steps % updates_per_epoch_ > 0)
                                                   : static_cast<int64_t>(std::ceil(args_.num_train_epochs));
    warmup_ = args_.warmup_steps > 0 ? StepsFor(args_.warmup_steps, max_steps)
                                     : static_cast<int64_t>(std::ceil(static_cast<double>(max_steps) * args_.warmup_ratio));
    const int64_t logging_steps = std::max<int64_t>(1, StepsFor(args_.logging_steps, max_steps));
    const int64_t eval_steps = args_.eval_steps > 0 ? std::max<int64_t>(1, StepsFor(args_.eval_steps, max_steps)) : logging_steps;
    const int64_t save_steps = std::max<int64_t>(1, StepsFor(args_.save_steps, max_steps));
    steps_ = StepSettings{max_steps, num_epochs, logging_steps, eval_steps, save_steps};
    scaler_ = std::make_unique<LossScaler>(args_.fp16, device_);
    layout_ = DataLayout{model_->architecture(), labels_.names, dist_.world_size,
                         args_.per_device_train_batch_size, ga_, args_.seed,
                         n_, args_.group_by_length, plan_ ? plan_->partitions : 1};
    loss_since_log_ = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device_));
  }

  // This rank's RNG, loss-scaler and pending-loss state, as checkpoints keep it.
  TensorMap RankState() const {
    TensorMap state;
    SaveRngState(device_, state);
    state["loss_since_log"] = loss_since_log_.to(at::kCPU, false, true);
    if (scaler_->enabled()) {
      state["loss_scale.scale"] = scaler_->scale().to(at::kCPU, false, true);
      state["loss_scale.growth_tracker"] = scaler_->growth_tracker().to(at::kCPU, false, true);
    }
    return state;
  }

  Status RestoreRankState(const TensorMap& state) {
    TRAINRT_RETURN_IF_ERROR(RestoreRngState(device_, state));
    if (auto it = state.find("loss_since_log"); it != state.end()) loss_since_log_.copy_(it->second);
    auto scale = state.find("loss_scale.scale"), tracker = state.find("loss_scale.growth_tracker");
    if (scaler_->enabled() && scale != state.end() && tracker != state.end()) scaler_->Restore(scale->second, tracker->second);
    return Status::Ok();
  }

  // ---- resume: rank 0 picks the newest valid checkpoint (unless told otherwise) and hands the
  // state to the other ranks through the process group: no other host needs the files ----
  Status Resume() {
    LoadedCheckpoint loaded;
    nlohmann::json shared = {{"path", ""}};
    if (main_rank()) {
      Status s = ReadCheckpointOnRank0(loaded, shared);
      if (!s.ok()) shared = {{"error", s.ToString()}};
    }
    if (group_) shared = nlohmann::json::parse(BroadcastString(*group_, shared.dump(), "broadcast of the resume state"));
    if (shared.contains("error")) {
      return main_rank() ? Status::InvalidArgument(shared["error"].get<std::string>())
                        : Status::InvalidArgument("rank 0 could not resume: " + shared["error"].get<std::string>());
    }
    resume_path_ = shared["path"].get<std::string>();
    if (!resume_path_.empty()) {
      TRAINRT_RETURN_IF_ERROR(RestoreProgress(shared["trainrt_state"], shared["trainer_state"], resume_path_, layout_, progress_));
    }
    const bool resumed_optimizer = !resume_path_.empty() && shared["optimizer"].get<bool>();
    if (plan_) {  // each stage gets its weights (and optimizer state) from rank 0's checkpoint
      if (!resume_path_.empty()) {
        ScatterFromRank0(*group_, *plan_, loaded.model, param_refs_, stage_tensors_, "sending the resumed weights");
        if (resumed_optimizer) {
          TensorMap live = optimizer_->LiveState();
          ScatterFromRank0(*group_, *plan_, loaded.optimizer, live, optimizer_entries_, "sending the resumed optimizer state");
        }
      } else if (replica_group_) {
        std::vector<at::Tensor> params = all_params_;
        replica_group_->Broadcast(params, 0, "broadcast of the stage's parameters");
      }
    } else if (group_) {  // the replicas start equal: rank 0's weights (and optimizer state)
      std::vector<at::Tensor> params = all_params_;
      group_->Broadcast(params, 0, "broadcast of the parameters");
      if (resumed_optimizer) {
        std::vector<at::Tensor> state;
        for (auto& [name, tensor] : optimizer_->LiveState()) state.push_back(tensor);  // the same names on every rank
        group_->Broadcast(state, 0, "broadcast of the optimizer state");
      }
    }
    if (!resume_path_.empty()) TRAINRT_RETURN_IF_ERROR(RestoreEveryRanksState(loaded));
    if (main_rank()) {
      if (resume_path_.empty()) {
        std::fprintf(stderr, "trainrt-finetune: no checkpoint to resume from in %s: starting fresh\n", args_.output_dir.c_str());
      } else {
        std::fprintf(stderr, "trainrt-finetune: resuming from %s (written %s ago): step %lld of %lld, epoch %lld, batch %lld\n",
                     resume_path_.c_str(), AgeOf(resume_path_ + "/" + kCheckpointManifest).c_str(),
                     static_cast<long long>(progress_.global_step), static_cast<long long>(steps_.max_steps),
                     static_cast<long long>(progress_.epoch), static_cast<long long>(progress_.next_batch));
      }
    }
    return Status::Ok();
  }

  // Rank 0: the checkpoint to resume from, if any, checked against this job's layout and loaded
  // into the model and optimizer (without stages); `shared` is what the other ranks get.
  Status ReadCheckpointOnRank0(LoadedCheckpoint& loaded, nlohmann::json& shared) {
    auto chosen = ChooseCheckpoint(args_);
    if (!chosen.ok()) return chosen.status();
    if (chosen->empty()) return Status::Ok();
    auto read = LoadTrainingCheckpoint(*chosen);
    if (!read.ok()) return read.status();
    loaded = std::move(*read);
    Progress check;  // a checkpoint of another layout is refused before anything is loaded
    TRAINRT_RETURN_IF_ERROR(RestoreProgress(loaded.trainrt_state, loaded.trainer_state, *chosen, layout_, check));
    for (const auto& entry : stage_tensors_) {
      if (!loaded.model.count(entry.name)) return Status::InvalidArgument(*chosen + ": weight '" + entry.name + "' missing");
    }
    if (!plan_) {
      auto restored = LoadWeights(*model_, loaded.model);
      if (!restored.ok()) return restored.status().WithContext(*chosen);
      if (!restored->missing.empty()) return Status::InvalidArgument(*chosen + ": weights missing: " + Join(restored->missing));
      TRAINRT_RETURN_IF_ERROR(optimizer_->LoadState(loaded.optimizer).WithContext(*chosen + "/optimizer.safetensors"));
    }
    shared = {{"path", *chosen}, {"trainrt_state", loaded.trainrt_state}, {"trainer_state", loaded.trainer_state},
              {"optimizer", !loaded.optimizer.empty()}};
    return Status::Ok();
  }

  // Each rank's own RNG and pending loss, from rank 0's checkpoint.
  Status RestoreEveryRanksState(const LoadedCheckpoint& loaded) {
    if (!group_) return RestoreRankState(loaded.rank_states[0]).WithContext(resume_path_);
    TensorMap mine = RankState();
    for (int r = 0; r < dist_.world_size; ++r) {
      TensorMap sent = main_rank() ? loaded.rank_states[static_cast<size_t>(r)] : mine;
      std::vector<at::Tensor> tensors;
      for (auto& [key, value] : mine) {
        auto it = sent.find(key);
        if (it == sent.end() || it->second.sizes() != value.sizes()) {
          return Status::InvalidArgument(resume_path_ + "/" + RankStateFile(r, dist_.world_size) + ": '" + key +
                                         "' missing or of another shape");
        }
        tensors.push_back(it->second.to(device_, value.scalar_type(), false, true));
      }
      group_->Broadcast(tensors, 0, "broadcast of rank " + std::to_string(r) + "'s RNG state");
      if (r == dist_.rank) {
        size_t k = 0;
        for (auto& [key, value] : mine) value = tensors[k++].to(at::kCPU);
        TRAINRT_RETURN_IF_ERROR(RestoreRankState(mine));
      }
    }
    return Status::Ok();
  }

  // Gradient synchronisation, the pipeline runner, autocast, the checkpoint writer; one line
  // saying what runs.
  Status StartTraining() {
    if (grad_group_) {
      sync_ = std::make_unique<GradientSynchronizer>(*grad_group_, all_params_, word_embeddings_);
      if (main_rank()) {
        std::fprintf(stderr, "trainrt-finetune: gradients all-reduced in %zu buckets%s\n", sync_->num_buckets(),
                     word_embeddings_ ? ", the word embeddings' as the rows some rank looked up" : "");
      }
    }
    if (plan_) pipeline_ = std::make_unique<PipelineRunner>(*plan_, *group_, *model_, config_.hidden_size);
    if (args_.bf16 || args_.fp16) {
      at::autocast::set_autocast_dtype(device_.type(), args_.bf16 ? at::kBFloat16 : at::kHalf);
      at::autocast::set_autocast_enabled(device_.type(), true);
    }
    if (main_rank()) {
      std::fprintf(stderr, "trainrt-finetune: %s from %s on %s, %lld train / %zu eval examples, %zu labels, %lld steps "
                   "(%lld epochs x %lld), batch %lld x %lld accumulation x %d data-parallel replica(s)%s, checkpoints in %s\n",
                   model_->architecture().c_str(), model_path_.c_str(), device_.str().c_str(), static_cast<long long>(n_),
                   eval_.labels.size(), labels_.names.size(), static_cast<long long>(steps_.max_steps),
                   static_cast<long long>(steps_.num_epochs), static_cast<long long>(updates_per_epoch_),
                   static_cast<long long>(args_.per_device_train_batch_size), static_cast<long long>(ga_), dp_size_,
                   args_.bf16 ? ", bf16 autocast" : args_.fp16 ? ", fp16 autocast with loss scaling" : "",
                   args_.output_dir.c_str());
      // Hours of training should not end at the first checkpoint for want of room.
      if (args_.save_strategy != "no") {
        TRAINRT_RETURN_IF_ERROR(CheckFreeSpace(args_.output_dir, model_bytes_ * 3 / 5 * 6,
                                               "1.2x a checkpoint's tensors: the weights and AdamW's two moments"));
      }
      ModelFilesInfo files{model_->architecture(), &config_, &labels_.names, &*tokenizer_, model_path_};
      writer_ = std::make_unique<CheckpointWriter>(args_.output_dir, files, args_.save_total_limit);
      writer_->set_best_step(progress_.best_global_step);
    }
    last_saved_step_ = resume_path_.empty() ? -1 : progress_.global_step;
    stop_ = std::make_unique<StopAgreement>(group_.get());
    return Status::Ok();
  }

  // The whole model's weights (and optimizer state) on rank 0: gathered from the stages.
  std::vector<TensorMap> FullWeights() {
    if (!plan_) return {ModelWeights(*model_)};
    TensorMap all = GatherToRank0(*group_, *plan_, param_refs_, stage_tensors_, "gathering the weights");
    std::vector<TensorMap> shards(static_cast<size_t>(plan_->partitions));
    for (const auto& e : stage_tensors_) {
      if (all.count(e.name)) shards[static_cast<size_t>(e.stage)][e.name] = all[e.name].to(at::kFloat);
    }
    return shards;
  }

  TensorMap FullOptimizerState() {
    if (!plan_) return optimizer_->SaveState();
    return GatherToRank0(*group_, *plan_, optimizer_->LiveState(), optimizer_entries_, "gathering the optimizer state");
  }

  // Snapshots the state after an optimizer step (every rank's RNG gathered on rank 0) and has rank
  // 0 write it, in the background unless `wait`.
  Status SaveCheckpoint(bool wait) {
    last_saved_step_ = progress_.global_step;
    CheckpointSnapshot snap;
    snap.step = progress_.global_step;
    TensorMap mine = RankState();
    snap.rank_states.assign(static_cast<size_t>(dist_.world_size), TensorMap());
    if (!group_) {
      snap.rank_states[0] = std::move(mine);
    } else {
      for (auto& [key, value] : mine) {
        std::vector<at::Tensor> gathered;
        group_->AllGather(gathered, value.to(device_), "all_gather of the RNG states for checkpoint-" +
                                                          std::to_string(progress_.global_step));
        for (int r = 0; r < dist_.world_size; ++r) {
          snap.rank_states[static_cast<size_t>(r)][key] = gathered[static_cast<size_t>(r)].to(at::kCPU);
        }
      }
    }
    if (plan_ || main_rank()) {  // gathering the stages is a collective; without stages only rank 0 copies
      snap.model = FullWeights();
      snap.optimizer = FullOptimizerState();
    }
    if (!main_rank()) return Status::Ok();
    if (progress_.best_global_step == progress_.global_step) {
      progress_.best_model_checkpoint = args_.output_dir + "/checkpoint-" + std::to_string(progress_.global_step);
      writer_->set_best_step(progress_.best_global_step);
    }
    snap.trainer_state = TrainerState(progress_, args_, steps_);
    snap.trainrt_state = TrainrtState(progress_, layout_);
    TRAINRT_RETURN_IF_ERROR(writer_->Save(std::move(snap), /*background=*/!wait));
    return wait ? writer_->Wait() : Status::Ok();
  }

  // Trainer logs the mean loss over the replicas (with a pipeline, only last stages hold one).
  void AveragePendingLoss(const std::string& what) {
    if (!group_) return;
    std::vector<at::Tensor> pending{loss_since_log_};
    group_->AllReduceSum(pending, what);  // in place
    loss_since_log_.div_(static_cast<double>(dp_size_));
  }

  // Evaluates on the test channel (every rank) and prints Trainer's eval dict (rank 0); `record`
  // adds it to log_history and tracks the best metric.
  LogDict EvaluateNow(bool record) {
    LogDict metrics = Evaluate(*model_, eval_, args_.per_device_eval_batch_size, config_.num_labels, pad_id_, device_,
                               group_.get(), dp_rank_, dp_size_, pipeline_.get(), [this] {
                                 if (watchdog_) watchdog_->Beat("evaluation", progress_.global_step);
                               });
    if (record) {
      progress_.log_history.push_back(HistoryEntry(metrics, progress_.epoch_progress, progress_.global_step));
      if (!args_.metric_for_best_model.empty()) {
        const std::string key = args_.metric_for_best_model.rfind("eval_", 0) == 0 ? args_.metric_for_best_model
                                                                                   : "eval_" + args_.metric_for_best_model;
        const bool greater = key.size() < 4 || key.compare(key.size() - 4, 4, "loss") != 0;
        for (const auto& [k, v] : metrics) {
          if (k != key || !std::holds_alternative<double>(v)) continue;
          const double value = std::get<double>(v);
          if (!progress_.best_metric || (greater ? value > *progress_.best_metric : value < *progress_.best_metric)) {
            progress_.best_metric = value;
            progress_.best_global_step = progress_.global_step;
          }
        }
      }
    }
    metrics.emplace_back("epoch", PyRound(progress_.epoch_progress, 2));
    if (main_rank()) PrintLine(PythonDictLine(metrics));
    return metrics;
  }

  // ---- training loop ----
  Status Train() {
    start_ = last_progress_ = Clock::now();
    first_step_ = progress_.global_step;
    int64_t stall_seconds = args_.stall_timeout;
    if (stall_seconds < 0) {
      auto from_env = runtime::EnvInt(env_, "TRAINRT_STALL_SECONDS", 600, 0, 86400 * 30, "seconds (0: never)");
      if (!from_env.ok()) return from_env.status();
      stall_seconds = *from_env;
    }
    watchdog_ = std::make_unique<StallWatchdog>(stall_seconds, [this](const std::string& line) {
      ReportFailure(env_, "rank " + std::to_string(dist_.rank) + ": " + line);  // the last line, after the stack
    });
    for (int64_t epoch = progress_.epoch; epoch < steps_.num_epochs && progress_.global_step < steps_.max_steps; ++epoch) {
      if (!group_ && StopRequested()) break;
      const auto batches = EpochBatches(train_, args_.per_device_train_batch_size, args_.seed, epoch,
                                        args_.group_by_length, dp_rank_, dp_size_);
      // A resumed epoch starts at the saved position: seeking, not replaying.
      const size_t first_batch = epoch == progress_.epoch ? static_cast<size_t>(progress_.next_batch) : 0;
      if (first_batch >= batches.size()) continue;
      // The next batch is collated (and copied to the device) on a helper thread while this one runs.
      auto collate = [&](size_t i) { return Collate(train_, batches[i], pad_id_, device_); };
      std::future<Batch> next = std::async(std::launch::async, collate, first_batch);
      for (size_t b = first_batch; b < batches.size() && progress_.global_step < steps_.max_steps; ++b) {
        // The accumulation window this batch belongs to (the last one of an epoch may be shorter).
        const int64_t window_start = static_cast<int64_t>(b) / ga_ * ga_;
        const int64_t window = std::min<int64_t>(ga_, static_cast<int64_t>(batches.size()) - window_start);
        const bool window_done = static_cast<int64_t>(b) - window_start + 1 == window;
        if (group_) group_->set_step(progress_.global_step + 1);
        Batch batch = next.get();
        if (b + 1 < batches.size()) next = std::async(std::launch::async, collate, b + 1);
        ForwardBackward(batch, window, window_done);
        watchdog_->Beat("training", progress_.global_step);
        if (!window_done) continue;  // more micro-batches to accumulate
        const at::Tensor grad_norm = OptimizerStep();
        watchdog_->Beat("training", progress_.global_step);
        const bool epoch_done = b + 1 == batches.size();
        progress_.epoch = epoch_done ? epoch + 1 : epoch;
        progress_.next_batch = epoch_done ? 0 : static_cast<int64_t>(b) + 1;
        progress_.epoch_progress = static_cast<double>(epoch) + static_cast<double>(b + 1) / static_cast<double>(batches.size());
        TRAINRT_RETURN_IF_ERROR(AfterStep(grad_norm, epoch_done));
      }
    }
    if (writer_) TRAINRT_RETURN_IF_ERROR(writer_->Wait());
    if (!group_ && StopRequested() && progress_.global_step < steps_.max_steps) {  // stopped before this run's first step
      return Status::Cancelled("stopped by a signal before training step " + std::to_string(progress_.global_step + 1) +
                               "; nothing new to checkpoint");
    }
    AveragePendingLoss("all_reduce of the remaining loss");
    if (progress_.global_step > progress_.last_logged_step) progress_.total_loss += loss_since_log_.item<double>();
    return Status::Ok();
  }

  // One micro-batch's forward and backward; its loss is added to the pending loss.
  void ForwardBackward(const Batch& batch, int64_t window, bool window_done) {
    // Accumulation micro-steps do not all-reduce; a pipeline's many backwards (one per
    // microbatch) neither: its gradients are all-reduced whole, after the last.
    if (sync_) {
      sync_->set_sync(window_done && !pipeline_);
      sync_->NoteLookups(batch.input_ids);  // only these rows of the embedding table get gradients
    }
    if (pipeline_) {
      loss_since_log_.add_(pipeline_->TrainBatch(batch, static_cast<double>(window)));
    } else {
      at::Tensor logits = model_->forward(batch.input_ids, batch.attention_mask, batch.token_type_ids).to(at::kFloat);
      at::Tensor loss = at::cross_entropy_loss(logits, batch.labels).div(static_cast<double>(window));
      scaler_->Scale(loss).backward();
      loss_since_log_.add_(loss.detach());
    }
    // Autocast caches the low-precision copies of the weights; Python's autocast drops them when
    // each forward's region ends, so must we, or later steps would see stale weights.
    if (args_.bf16 || args_.fp16) at::autocast::clear_cache();
    progress_.total_flos += 6.0 * non_embedding_params_ * static_cast<double>(batch.input_ids.numel()) * dp_size_;
  }

  // The accumulated gradients (averaged over the ranks) applied: unscale, clip, step, schedule.
  // Returns the gradient norm before clipping.
  at::Tensor OptimizerStep() {
    if (sync_) sync_->Finish();
    const bool finite = scaler_->Unscale(all_params_);  // fp16: gradients back to their true scale
    at::Tensor grad_norm = plan_ ? ClipGradNormAcrossStages(all_params_, args_.max_grad_norm, *group_, dp_size_)
                                 : ClipGradNorm(all_params_, args_.max_grad_norm);
    lr_ = args_.learning_rate * LinearSchedule(progress_.scheduler_step, warmup_, steps_.max_steps);
    if (finite) {  // an overflowed fp16 step is skipped, and so is its schedule step (Trainer)
      optimizer_->Step(lr_);
      ++progress_.scheduler_step;
    }
    scaler_->Update();
    optimizer_->ZeroGrad();
    ++progress_.global_step;
    return grad_norm;
  }

  // Logs, evaluation, checkpoints, stops and progress after optimizer step progress_.global_step
  // (the only host synchronisations of the loop).
  Status AfterStep(const at::Tensor& grad_norm, bool epoch_done) {
    const int64_t step = progress_.global_step;
    if (step % steps_.logging_steps == 0 || (args_.logging_first_step && step == 1)) LogLoss(grad_norm);
    const bool last_step = step == steps_.max_steps;
    if (!eval_.labels.empty() && ((args_.eval_strategy == "steps" && step % steps_.eval_steps == 0) ||
                                  (args_.eval_strategy == "epoch" && (epoch_done || last_step)))) {
      EvaluateNow(true);
    }
    const bool save_now = (args_.save_strategy == "steps" && (step % steps_.save_steps == 0 || last_step)) ||
                          (args_.save_strategy == "epoch" && (epoch_done || last_step));
    if (stop_->StopAfter(step)) {  // SIGTERM: this step is done; checkpoint it and stop
      if (last_saved_step_ != step) TRAINRT_RETURN_IF_ERROR(SaveCheckpoint(/*wait=*/true));
      if (writer_) TRAINRT_RETURN_IF_ERROR(writer_->Wait());
      if (group_) group_->Barrier("barrier after the stop checkpoint");
      return Status::Cancelled("stopped by " + std::string(StopSignal() == SIGINT ? "SIGINT" : "SIGTERM") +
                               " after step " + std::to_string(step) + " of " + std::to_string(steps_.max_steps) + "; " +
                               args_.output_dir + "/checkpoint-" + std::to_string(step) +
                               " is complete: run the same command again to resume");
    }
    if (save_now) TRAINRT_RETURN_IF_ERROR(SaveCheckpoint(/*wait=*/false));
    const auto now = Clock::now();
    if (main_rank() && std::chrono::duration<double>(now - last_progress_).count() >= progress_seconds_) {
      last_progress_ = now;
      const double elapsed = std::chrono::duration<double>(now - start_).count();
      const double rate = static_cast<double>((step - first_step_) * global_batch_ * ga_) / elapsed;
      const double eta = elapsed / static_cast<double>(step - first_step_) * static_cast<double>(steps_.max_steps - step);
      std::fprintf(stderr, "trainrt-finetune: step %lld/%lld (%.0f%%), %.1f samples/s, ETA %d:%02d:%02d\n",
                   static_cast<long long>(step), static_cast<long long>(steps_.max_steps),
                   100.0 * static_cast<double>(step) / static_cast<double>(steps_.max_steps), rate,
                   static_cast<int>(eta) / 3600, static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60);
    }
    return Status::Ok();
  }

  // Trainer's loss line: the mean loss since the last one, the gradient norm, the learning rate.
  void LogLoss(const at::Tensor& grad_norm) {
    const int64_t step = progress_.global_step;
    AveragePendingLoss("all_reduce of the logged loss");
    const double loss_value = loss_since_log_.item<double>() / static_cast<double>(step - progress_.last_logged_step);
    progress_.total_loss += loss_value * static_cast<double>(step - progress_.last_logged_step);
    loss_since_log_.zero_();
    progress_.last_logged_step = step;
    LogDict line = {{"loss", PyRound(loss_value, 4)}};
    nlohmann::json entry = {{"loss", loss_value}};
    if (args_.max_grad_norm > 0) {
      line.emplace_back("grad_norm", grad_norm.item<double>());
      entry["grad_norm"] = std::get<double>(line.back().second);
    }
    line.emplace_back("learning_rate", lr_);
    line.emplace_back("epoch", PyRound(progress_.epoch_progress, 2));
    if (main_rank()) PrintLine(PythonDictLine(line));
    entry["learning_rate"] = lr_;
    entry["epoch"] = progress_.epoch_progress;
    entry["step"] = step;
    progress_.log_history.push_back(entry);
  }

  // ---- summary, best model, final evaluation, export ----
  Status Finish() {
    const double runtime = std::chrono::duration<double>(Clock::now() - start_).count();
    const double samples = args_.max_steps > 0 ? static_cast<double>(steps_.max_steps * global_batch_ * ga_)
                                               : static_cast<double>(n_) * args_.num_train_epochs;
    LogDict summary = {{"train_runtime", PyRound(runtime, 4)},
                       {"train_samples_per_second", PyRound(samples / runtime, 3)},
                       {"train_steps_per_second", PyRound(static_cast<double>(steps_.max_steps) / runtime, 3)},
                       {"total_flos", progress_.total_flos},
                       {"train_loss", progress_.total_loss / std::max<double>(static_cast<double>(progress_.global_step), 0.001)},
                       {"epoch", PyRound(progress_.epoch_progress, 2)}};
    progress_.log_history.push_back(HistoryEntry(summary, progress_.epoch_progress, progress_.global_step));
    if (main_rank()) {
      PrintLine(PythonDictLine(summary));
      PrintLine(ResultsBlock("train results", summary));
      TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(args_.output_data_dir));
      TRAINRT_RETURN_IF_ERROR(runtime::WriteFileAtomically(args_.output_data_dir + "/trainer_state.json",
                                                           HfJsonText(TrainerState(progress_, args_, steps_))));
    }
    if (args_.load_best_model_at_end && progress_.best_global_step >= 0) TRAINRT_RETURN_IF_ERROR(LoadBestModel());
    if (!eval_.labels.empty()) {
      const LogDict final_metrics = EvaluateNow(false);
      if (main_rank()) {
        const std::string block = ResultsBlock("eval results", final_metrics);
        PrintLine(block);
        TRAINRT_RETURN_IF_ERROR(
            runtime::WriteFileAtomically(args_.output_data_dir + "/eval_results.txt", block.substr(block.find('\n') + 1)));
      }
    }
    watchdog_.reset();  // the export that follows is one long write, and the other ranks wait for it
    if (args_.bf16 || args_.fp16) at::autocast::set_autocast_enabled(device_.type(), false);
    std::vector<TensorMap> final_weights = plan_ || main_rank() ? FullWeights() : std::vector<TensorMap>();
    if (main_rank()) TRAINRT_RETURN_IF_ERROR(Export(final_weights));
    if (group_) group_->Barrier("final barrier");  // rank 0 may serve the store: nobody leaves before it is done
    return Status::Ok();
  }

  Status LoadBestModel() {
    const std::string best_path = args_.output_dir + "/checkpoint-" + std::to_string(progress_.best_global_step);
    TensorMap best_weights;
    if (main_rank() && runtime::PathExists(best_path)) {
      std::fprintf(stderr, "Loading best model from %s (score: %s).\n", best_path.c_str(),
                   PythonDictLine({{"", *progress_.best_metric}}).substr(6).c_str());
      auto best = LoadModelWeights(best_path);
      if (!best.ok()) return best.status();
      best_weights = std::move(*best);
      if (!plan_) {
        auto loaded = LoadWeights(*model_, best_weights);
        if (!loaded.ok()) return loaded.status().WithContext(best_path);
      }
    }
    if (plan_) {
      ScatterFromRank0(*group_, *plan_, best_weights, param_refs_, stage_tensors_, "sending the best model");
    } else if (group_) {
      std::vector<at::Tensor> params = all_params_;
      group_->Broadcast(params, 0, "broadcast of the best model");
    }
    return Status::Ok();
  }

  // Rank 0: the model dir gets the model, its config and tokenizer; the job succeeds only with an
  // export that reads back as written (a full disk, a flaky mount).
  Status Export(const std::vector<TensorMap>& weights) {
    TensorMap whole;  // the exported model is one file, whatever the stages
    for (const auto& shard : weights) whole.insert(shard.begin(), shard.end());
    TRAINRT_RETURN_IF_ERROR(ExportModel(args_.model_dir, whole, model_->architecture(), config_, labels_.names,
                                        *tokenizer_, model_path_));
    auto reread = LoadModelWeights(args_.model_dir);
    if (!reread.ok()) return reread.status().WithContext("verifying the exported model");
    for (const auto& [name, tensor] : whole) {
      auto it = reread->find(name);
      if (it == reread->end() || !at::equal(it->second, tensor)) {
        return Status::Corruption(args_.model_dir + "/model.safetensors: tensor '" + name + "' does not read back as written");
      }
    }
    std::fprintf(stderr, "trainrt-finetune: model saved to %s (%zu tensors read back and verified)\n",
                 args_.model_dir.c_str(), whole.size());
    return Status::Ok();
  }

  bool main_rank() const { return dist_.rank == 0; }

  const FinetuneArgs& args_;
  const runtime::EnvMap& env_;

  // The job: ranks, model, data (LoadModelAndData, JoinProcessGroup).
  DistributedEnv dist_;
  std::string model_path_;
  std::optional<WordPieceTokenizer> tokenizer_;
  ModelConfig config_;
  LabelMap labels_;
  EncodedSet train_, eval_;
  int32_t pad_id_ = 0;
  std::shared_ptr<SequenceClassifier> model_;
  double non_embedding_params_ = 0;  // of the whole model, for total_flos
  uint64_t model_bytes_ = 0;         // of the whole model, for the free-space check
  at::Device device_{at::kCPU};
  std::unique_ptr<Collectives> group_;

  // Stages (SplitIntoStages).
  std::optional<PipelinePlan> plan_;
  std::unique_ptr<Collectives> replica_group_;  // the ranks holding the same stage (pipeline + ddp)
  std::vector<StageTensor> stage_tensors_;      // every parameter of the model, with its stage
  std::vector<StageTensor> optimizer_entries_;  // the optimizer state that goes with them
  int dp_rank_ = 0, dp_size_ = 1;               // among the data-parallel replicas
  Collectives* grad_group_ = nullptr;           // where gradients are averaged

  // Optimization (PrepareOptimization).
  std::vector<at::Tensor> all_params_;      // this rank's (its stage's, with a pipeline)
  std::optional<size_t> word_embeddings_;   // its index in all_params_, if this rank holds it
  TensorMap param_refs_;
  std::unique_ptr<AdamW> optimizer_;
  int64_t n_ = 0, global_batch_ = 0, ga_ = 1, updates_per_epoch_ = 1, warmup_ = 0;
  StepSettings steps_{};
  std::unique_ptr<LossScaler> scaler_;
  DataLayout layout_;
  const double progress_seconds_ = std::stod(runtime::EnvOr(env_, "TRAINRT_PROGRESS_SECONDS", "30"));

  // Training state: progress_ is what checkpoints keep; the rest changes every step.
  Progress progress_;
  std::string resume_path_;  // "" for a fresh start
  at::Tensor loss_since_log_;
  double lr_ = 0;  // of the last optimizer step
  std::unique_ptr<GradientSynchronizer> sync_;
  std::unique_ptr<PipelineRunner> pipeline_;
  std::unique_ptr<CheckpointWriter> writer_;  // rank 0's
  int64_t last_saved_step_ = -1;
  std::unique_ptr<StopAgreement> stop_;
  std::unique_ptr<StallWatchdog> watchdog_;  // from the first step on
  Clock::time_point start_, last_progress_;
  int64_t first_step_ = 0;
};

}  // namespace

Status RunFinetune(const FinetuneArgs& args, const runtime::EnvMap& env) { return FinetuneJob(args, env).Run(); }

}  // namespace trainrt::trainer
