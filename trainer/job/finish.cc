// Finish: Trainer's train summary, the best model (load_best_model_at_end), the final evaluation
// and the export to the model dir, which must read back as written before the job may succeed.
#include <cstdio>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "runtime/file_util.h"
#include "trainer/job/job.h"

namespace trainrt::trainer {
namespace {

using runtime::Status;

Status LoadBestModel(Job& job) {
  const std::string best_path = job.args.output_dir + "/checkpoint-" + std::to_string(job.progress.best_global_step);
  const Topology& t = job.topology;
  TensorMap best_weights;
  if (job.main_rank() && runtime::PathExists(best_path)) {
    std::fprintf(stderr, "Loading best model from %s (score: %s).\n", best_path.c_str(),
                 PythonDictLine({{"", *job.progress.best_metric}}).substr(6).c_str());
    auto best = LoadModelWeights(best_path);
    if (!best.ok()) return best.status();
    best_weights = std::move(*best);
    if (!t.pipeline) {
      auto loaded = LoadWeights(*job.family, *job.model, best_weights);
      if (!loaded.ok()) return loaded.status().WithContext(best_path);
    }
  }
  if (t.pipeline) {
    ScatterFromRank0(*t.world, *t.pipeline, best_weights, job.param_refs, job.stage_tensors, "sending the best model");
  } else if (t.world) {
    std::vector<at::Tensor> params = job.params;
    t.world->Broadcast(params, 0, "broadcast of the best model");
  }
  return Status::Ok();
}

// Rank 0: the model dir gets the model, its config and tokenizer; the job succeeds only with an
// export that reads back as written (a full disk, a flaky mount).
Status Export(Job& job, const std::vector<TensorMap>& weights) {
  TensorMap whole;  // the exported model is one file, whatever the stages
  for (const auto& shard : weights) whole.insert(shard.begin(), shard.end());
  const std::string& dir = job.args.model_dir;
  const ModelFiles files{job.family.get(), job.model->architecture(), job.task.get(), job.tokenizer.get(), job.model_path,
                        job.args.chat_template_path};
  TRAINRT_RETURN_IF_ERROR(ExportModel(dir, {whole}, files));
  auto reread = LoadModelWeights(dir);
  if (!reread.ok()) return reread.status().WithContext("verifying the exported model");
  for (const auto& [name, tensor] : whole) {
    auto it = reread->find(name);
    if (it == reread->end() || !at::equal(it->second, tensor)) {
      return Status::Corruption(dir + "/model.safetensors: tensor '" + name + "' does not read back as written");
    }
  }
  std::fprintf(stderr, "trainrt-finetune: model saved to %s (%zu tensors read back and verified)\n", dir.c_str(),
               whole.size());
  return Status::Ok();
}

}  // namespace

Status Finish(Job& job) {
  const FinetuneArgs& args = job.args;
  const Schedule& s = job.schedule;
  Progress& progress = job.progress;
  const double runtime = std::chrono::duration<double>(Clock::now() - job.start).count();
  const double samples = args.max_steps > 0 ? static_cast<double>(s.steps.max_steps * s.global_batch * s.accumulation)
                                            : static_cast<double>(s.examples) * args.num_train_epochs;
  LogDict summary = {{"train_runtime", PyRound(runtime, 4)},
                     {"train_samples_per_second", PyRound(samples / runtime, 3)},
                     {"train_steps_per_second", PyRound(static_cast<double>(s.steps.max_steps) / runtime, 3)},
                     {"total_flos", progress.total_flos},
                     {"train_loss", progress.total_loss / std::max<double>(static_cast<double>(progress.global_step), 0.001)},
                     {"epoch", PyRound(progress.epoch_progress, 2)}};
  progress.log_history.push_back(HistoryEntry(summary, progress.epoch_progress, progress.global_step));
  if (job.main_rank()) {
    PrintLine(PythonDictLine(summary));
    PrintLine(ResultsBlock("train results", summary));
    TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(args.output_data_dir));
    TRAINRT_RETURN_IF_ERROR(runtime::WriteFileAtomically(args.output_data_dir + "/trainer_state.json",
                                                         HfJsonText(TrainerState(progress, args, s.steps))));
  }
  if (args.load_best_model_at_end && progress.best_global_step >= 0) TRAINRT_RETURN_IF_ERROR(LoadBestModel(job));
  if (!job.eval.inputs.empty()) {
    const LogDict final_metrics = EvaluateNow(job, /*record=*/false);
    if (job.main_rank()) {
      const std::string block = ResultsBlock("eval results", final_metrics);
      PrintLine(block);
      TRAINRT_RETURN_IF_ERROR(
          runtime::WriteFileAtomically(args.output_data_dir + "/eval_results.txt", block.substr(block.find('\n') + 1)));
    }
  }
  job.watchdog.reset();  // the export that follows is one long write, and the other ranks wait for it
  if (args.bf16 || args.fp16) at::autocast::set_autocast_enabled(job.device.type(), false);
  std::vector<TensorMap> final_weights = job.topology.pipeline || job.main_rank() ? FullWeights(job) : std::vector<TensorMap>();
  if (job.main_rank()) TRAINRT_RETURN_IF_ERROR(Export(job, final_weights));
  if (job.topology.world) job.topology.world->Barrier("final barrier");  // rank 0 may serve the store: nobody leaves before it is done
  return Status::Ok();
}

}  // namespace trainrt::trainer
