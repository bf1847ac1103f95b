// Resume: rank 0 picks the newest valid checkpoint (unless told otherwise) and hands the state to
// the other ranks through the process group, so no other host needs the files.
#include <cstdio>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "trainer/checkpoint/checkpoint_folder.h"
#include "trainer/job/job.h"

namespace trainrt::trainer {
namespace {

using runtime::Status;

// Rank 0: the checkpoint to resume from, if any, checked against this job's layout and loaded
// into the model and optimizer (without stages); `shared` is what the other ranks get.
Status ReadCheckpointOnRank0(Job& job, LoadedCheckpoint& loaded, nlohmann::json& shared) {
  auto chosen = ChooseCheckpoint(job.args);
  if (!chosen.ok()) return chosen.status();
  if (chosen->empty()) return Status::Ok();
  auto read = LoadTrainingCheckpoint(*chosen);
  if (!read.ok()) return read.status();
  loaded = std::move(*read);
  Progress check;  // a checkpoint of another layout is refused before anything is loaded
  TRAINRT_RETURN_IF_ERROR(RestoreProgress(loaded.trainrt_state, loaded.trainer_state, *chosen, job.layout, check));
  for (const auto& entry : job.stage_tensors) {
    if (!loaded.model.count(entry.name)) return Status::InvalidArgument(*chosen + ": weight '" + entry.name + "' missing");
  }
  if (!job.topology.pipeline) {
    auto restored = LoadWeights(*job.family, *job.model, loaded.model);
    if (!restored.ok()) return restored.status().WithContext(*chosen);
    if (!restored->missing.empty()) return Status::InvalidArgument(*chosen + ": weights missing: " + PythonList(restored->missing));
    TRAINRT_RETURN_IF_ERROR(job.optimizer->LoadState(loaded.optimizer).WithContext(*chosen + "/optimizer.safetensors"));
  }
  shared = {{"path", *chosen}, {"trainrt_state", loaded.trainrt_state}, {"trainer_state", loaded.trainer_state},
            {"optimizer", !loaded.optimizer.empty()}};
  return Status::Ok();
}

// Each rank's own RNG and pending loss, from rank 0's checkpoint.
Status RestoreEveryRanksState(Job& job, const LoadedCheckpoint& loaded) {
  Collectives* world = job.topology.world.get();
  if (!world) return RestoreRankState(job, loaded.rank_states[0]).WithContext(job.resume_path);
  TensorMap mine = RankState(job);
  const int ranks = job.topology.world_size();
  for (int r = 0; r < ranks; ++r) {
    TensorMap sent = job.main_rank() ? loaded.rank_states[static_cast<size_t>(r)] : mine;
    std::vector<at::Tensor> tensors;
    for (auto& [key, value] : mine) {
      auto it = sent.find(key);
      if (it == sent.end() || it->second.sizes() != value.sizes()) {
        return Status::InvalidArgument(job.resume_path + "/" + RankStateFile(r, ranks) + ": '" + key +
                                       "' missing or of another shape");
      }
      tensors.push_back(it->second.to(job.device, value.scalar_type(), false, true));
    }
    world->Broadcast(tensors, 0, "broadcast of rank " + std::to_string(r) + "'s RNG state");
    if (r == job.topology.rank()) {
      size_t k = 0;
      for (auto& [key, value] : mine) value = tensors[k++].to(at::kCPU);
      TRAINRT_RETURN_IF_ERROR(RestoreRankState(job, mine));
    }
  }
  return Status::Ok();
}

// The replicas start equal: rank 0's weights and optimizer state, or with a pipeline each
// stage's part of them.
void HandOutModelState(Job& job, const LoadedCheckpoint& loaded, bool resumed_optimizer) {
  Topology& t = job.topology;
  if (t.pipeline) {
    if (!job.resume_path.empty()) {
      ScatterFromRank0(*t.world, *t.pipeline, loaded.model, job.param_refs, job.stage_tensors, "sending the resumed weights");
      if (resumed_optimizer) {
        TensorMap live = job.optimizer->LiveState();
        ScatterFromRank0(*t.world, *t.pipeline, loaded.optimizer, live, job.optimizer_entries,
                         "sending the resumed optimizer state");
      }
    } else if (t.stage_replicas) {
      std::vector<at::Tensor> params = job.params;
      t.stage_replicas->Broadcast(params, 0, "broadcast of the stage's parameters");
    }
  } else if (t.world) {
    std::vector<at::Tensor> params = job.params;
    t.world->Broadcast(params, 0, "broadcast of the parameters");
    if (resumed_optimizer) {
      std::vector<at::Tensor> state;
      for (auto& [name, tensor] : job.optimizer->LiveState()) state.push_back(tensor);  // the same names on every rank
      t.world->Broadcast(state, 0, "broadcast of the optimizer state");
    }
  }
}

}  // namespace

Status Resume(Job& job) {
  LoadedCheckpoint loaded;
  nlohmann::json shared = {{"path", ""}};
  if (job.main_rank()) {
    Status s = ReadCheckpointOnRank0(job, loaded, shared);
    if (!s.ok()) shared = {{"error", s.ToString()}};
  }
  if (job.topology.world) {
    shared = nlohmann::json::parse(BroadcastString(*job.topology.world, shared.dump(), "broadcast of the resume state"));
  }
  if (shared.contains("error")) {
    return job.main_rank() ? Status::InvalidArgument(shared["error"].get<std::string>())
                           : Status::InvalidArgument("rank 0 could not resume: " + shared["error"].get<std::string>());
  }
  job.resume_path = shared["path"].get<std::string>();
  if (!job.resume_path.empty()) {
    TRAINRT_RETURN_IF_ERROR(
        RestoreProgress(shared["trainrt_state"], shared["trainer_state"], job.resume_path, job.layout, job.progress));
  }
  HandOutModelState(job, loaded, !job.resume_path.empty() && shared["optimizer"].get<bool>());
  if (!job.resume_path.empty()) TRAINRT_RETURN_IF_ERROR(RestoreEveryRanksState(job, loaded));
  if (job.main_rank()) {
    if (job.resume_path.empty()) {
      std::fprintf(stderr, "trainrt-finetune: no checkpoint to resume from in %s: starting fresh\n", job.args.output_dir.c_str());
    } else {
      std::fprintf(stderr, "trainrt-finetune: resuming from %s (written %s ago): step %lld of %lld, epoch %lld, batch %lld\n",
                   job.resume_path.c_str(), AgeOf(job.resume_path + "/" + kCheckpointManifest).c_str(),
                   static_cast<long long>(job.progress.global_step), static_cast<long long>(job.schedule.steps.max_steps),
                   static_cast<long long>(job.progress.epoch), static_cast<long long>(job.progress.next_batch));
    }
  }
  return Status::Ok();
}

}  // namespace trainrt::trainer
