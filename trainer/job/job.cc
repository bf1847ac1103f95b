// RunFinetune, and what several of the job's phases use: rank state, checkpoints, evaluation and
// the pending loss.
#include "trainer/job/job.h"

#include <cstdio>
#include <cstring>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "trainer/evaluate.h"
#include "trainer/finetune_job.h"

namespace trainrt::trainer {

using runtime::Status;

Status RunFinetune(const FinetuneArgs& args, const runtime::EnvMap& env) {
  Job job(args, env);
  TRAINRT_RETURN_IF_ERROR(SetUp(job));
  TRAINRT_RETURN_IF_ERROR(Resume(job));
  TRAINRT_RETURN_IF_ERROR(PrepareTraining(job));
  TRAINRT_RETURN_IF_ERROR(Train(job));
  return Finish(job);
}

void PrintLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string PythonList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "'" : ", '") + s + "'";
  return "[" + out + "]";
}

std::string BroadcastString(Collectives& group, const std::string& text, const std::string& what) {
  at::Tensor length = at::full({1}, static_cast<int64_t>(text.size()), at::kLong);  // the length, then the bytes
  std::vector<at::Tensor> one{length};
  group.Broadcast(one, 0, what);
  at::Tensor bytes = at::zeros({one[0].item<int64_t>()}, at::kByte);
  if (group.rank() == 0) std::memcpy(bytes.data_ptr(), text.data(), text.size());
  std::vector<at::Tensor> payload{bytes};
  if (bytes.numel() > 0) group.Broadcast(payload, 0, what);
  return std::string(reinterpret_cast<const char*>(payload[0].data_ptr()), static_cast<size_t>(payload[0].numel()));
}

TensorMap RankState(const Job& job) {
  TensorMap state;
  SaveRngState(job.device, state);
  state["loss_since_log"] = job.loss_since_log.to(at::kCPU, false, true);
  if (job.scaler->enabled()) {
    state["loss_scale.scale"] = job.scaler->scale().to(at::kCPU, false, true);
    state["loss_scale.growth_tracker"] = job.scaler->growth_tracker().to(at::kCPU, false, true);
  }
  return state;
}

Status RestoreRankState(Job& job, const TensorMap& state) {
  TRAINRT_RETURN_IF_ERROR(RestoreRngState(job.device, state));
  if (auto it = state.find("loss_since_log"); it != state.end()) job.loss_since_log.copy_(it->second);
  auto scale = state.find("loss_scale.scale"), tracker = state.find("loss_scale.growth_tracker");
  if (job.scaler->enabled() && scale != state.end() && tracker != state.end()) job.scaler->Restore(scale->second, tracker->second);
  return Status::Ok();
}

std::vector<TensorMap> FullWeights(Job& job) {
  const Topology& t = job.topology;
  if (!t.pipeline) return {ModelWeights(*job.model)};
  TensorMap all = GatherToRank0(*t.world, *t.pipeline, job.param_refs, job.stage_tensors, "gathering the weights");
  std::vector<TensorMap> shards(static_cast<size_t>(t.pipeline->partitions));
  for (const auto& e : job.stage_tensors) {
    if (all.count(e.name)) shards[static_cast<size_t>(e.stage)][e.name] = all[e.name].to(at::kFloat);
  }
  return shards;
}

namespace {

TensorMap FullOptimizerState(Job& job) {
  const Topology& t = job.topology;
  if (!t.pipeline) return job.optimizer->SaveState();
  return GatherToRank0(*t.world, *t.pipeline, job.optimizer->LiveState(), job.optimizer_entries,
                       "gathering the optimizer state");
}

}  // namespace

Status SaveCheckpoint(Job& job, bool wait) {
  Progress& progress = job.progress;
  const Topology& t = job.topology;
  job.last_saved_step = progress.global_step;
  CheckpointSnapshot snap;
  snap.step = progress.global_step;
  TensorMap mine = RankState(job);
  snap.rank_states.assign(static_cast<size_t>(t.world_size()), TensorMap());
  if (!t.world) {
    snap.rank_states[0] = std::move(mine);
  } else {  // every rank's RNG, gathered
    for (auto& [key, value] : mine) {
      std::vector<at::Tensor> gathered;
      t.world->AllGather(gathered, value.to(job.device),
                         "all_gather of the RNG states for checkpoint-" + std::to_string(progress.global_step));
      for (int r = 0; r < t.world_size(); ++r) snap.rank_states[static_cast<size_t>(r)][key] = gathered[static_cast<size_t>(r)].to(at::kCPU);
    }
  }
  if (t.pipeline || job.main_rank()) {  // gathering the stages is a collective; without stages only rank 0 copies
    snap.model = FullWeights(job);
    snap.optimizer = FullOptimizerState(job);
  }
  if (!job.main_rank()) return Status::Ok();
  if (progress.best_global_step == progress.global_step) {
    progress.best_model_checkpoint = job.args.output_dir + "/checkpoint-" + std::to_string(progress.global_step);
    job.writer->set_best_step(progress.best_global_step);
  }
  snap.trainer_state = TrainerState(progress, job.args, job.schedule.steps);
  snap.trainrt_state = TrainrtState(progress, job.layout);
  TRAINRT_RETURN_IF_ERROR(job.writer->Save(std::move(snap), /*background=*/!wait));
  return wait ? job.writer->Wait() : Status::Ok();
}

void AveragePendingLoss(Job& job, const std::string& what) {
  if (!job.topology.world) return;
  std::vector<at::Tensor> pending{job.loss_since_log};
  job.topology.world->AllReduceSum(pending, what);  // in place; with a pipeline, only last stages hold one
  job.loss_since_log.div_(static_cast<double>(job.topology.dp_size));
}

LogDict EvaluateNow(Job& job, bool record) {
  EvalOptions options;
  options.batch_size = job.args.per_device_eval_batch_size;
  options.pad_id = job.pad_id;
  options.device = job.device;
  options.group = job.topology.world.get();
  options.shard = job.topology.dp_rank;
  options.shards = job.topology.dp_size;
  options.pipeline = job.pipeline.get();
  options.after_batch = [&job] {
    if (job.watchdog) job.watchdog->Beat("evaluation", job.progress.global_step);
  };
  LogDict metrics = Evaluate(*job.model, *job.task, job.eval, options);
  Progress& progress = job.progress;
  if (record) {
    progress.log_history.push_back(HistoryEntry(metrics, progress.epoch_progress, progress.global_step));
    const std::string& best = job.args.metric_for_best_model;
    if (!best.empty()) {
      const std::string key = best.rfind("eval_", 0) == 0 ? best : "eval_" + best;
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
  if (job.main_rank()) PrintLine(PythonDictLine(metrics));
  return metrics;
}

}  // namespace trainrt::trainer
