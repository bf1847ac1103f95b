// Train: the step loop, read top to bottom. An optimizer step is the accumulation window's
// micro-batches (forward, the loss over the window's targets, backward; a pipeline's stages do
// this together), then the gradients averaged over the replicas, unscaled, clipped, applied by
// AdamW at the schedule's learning rate. After the step come the log line, evaluation, a
// checkpoint, the stop agreement and the progress line: the loop's only host synchronisations.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <numeric>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "trainer/job/job.h"
#include "trainer/optim/lr_schedule.h"
#include "trainer/stop_signal.h"

namespace trainrt::trainer {
namespace {

using runtime::Status;

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

// One micro-batch's forward and backward: its gradients accumulate those of its loss sum /
// `divisor`, which is returned (detached) for the log. The one place the step branches on the
// pipeline.
at::Tensor ForwardBackward(Job& job, const Batch& batch, double divisor, bool last_of_window) {
  if (job.sync) {
    // Accumulation micro-steps do not all-reduce; neither do a pipeline's many backwards (one
    // per microbatch): its gradients are all-reduced whole, after the last.
    job.sync->set_sync(last_of_window && !job.pipeline);
    job.sync->NoteLookups(batch.inputs.input_ids);  // only these rows of the embedding table get gradients
  }
  at::Tensor loss;
  if (job.pipeline) {
    loss = job.pipeline->TrainBatch(batch, divisor);
  } else {
    const at::Tensor output = job.model->forward(batch.inputs).to(at::kFloat);
    loss = job.task->Loss(output, batch.labels).sum.div(divisor);
    job.scaler->Scale(loss).backward();
    loss = loss.detach();
  }
  // Autocast caches the low-precision copies of the weights; Python's autocast drops them when
  // each forward's region ends, so must we, or later steps would see stale weights.
  if (job.args.bf16 || job.args.fp16) at::autocast::clear_cache();
  return loss;
}

// The accumulated gradients (averaged over the replicas) applied: unscale, clip, step at `lr`.
// Returns the gradient norm before clipping.
at::Tensor ApplyGradients(Job& job, double lr) {
  if (job.sync) job.sync->Finish();
  const bool finite = job.scaler->Unscale(job.params);  // fp16: gradients back to their true scale
  at::Tensor grad_norm = ClipGradients(job.topology, job.params, job.args.max_grad_norm);
  if (finite) {  // an overflowed fp16 step is skipped, and so is its schedule step (Trainer)
    job.optimizer->Step(lr);
    ++job.progress.scheduler_step;
  }
  job.scaler->Update();
  job.optimizer->ZeroGrad();
  ++job.progress.global_step;
  return grad_norm;
}

// Trainer's loss line: the mean loss since the last one, the gradient norm, the learning rate.
void LogLoss(Job& job, const at::Tensor& grad_norm, double lr) {
  Progress& p = job.progress;
  AveragePendingLoss(job, "all_reduce of the logged loss");
  const double steps = static_cast<double>(p.global_step - p.last_logged_step);
  const double loss = job.loss_since_log.item<double>() / steps;
  p.total_loss += loss * steps;
  job.loss_since_log.zero_();
  p.last_logged_step = p.global_step;
  LogDict line = {{"loss", PyRound(loss, 4)}};
  nlohmann::json entry = {{"loss", loss}};
  if (job.args.max_grad_norm > 0) {
    line.emplace_back("grad_norm", grad_norm.item<double>());
    entry["grad_norm"] = std::get<double>(line.back().second);
  }
  line.emplace_back("learning_rate", lr);
  line.emplace_back("epoch", PyRound(p.epoch_progress, 2));
  if (job.main_rank()) PrintLine(PythonDictLine(line));
  entry["learning_rate"] = lr;
  entry["epoch"] = p.epoch_progress;
  entry["step"] = p.global_step;
  p.log_history.push_back(entry);
}

// Diagnostics: the progress line on stderr every TRAINRT_PROGRESS_SECONDS (rank 0).
void ReportProgress(Job& job, int64_t first_step, Clock::time_point& last_report, double every_seconds) {
  const auto now = Clock::now();
  if (!job.main_rank() || std::chrono::duration<double>(now - last_report).count() < every_seconds) return;
  last_report = now;
  const int64_t step = job.progress.global_step, max_steps = job.schedule.steps.max_steps;
  const double elapsed = std::chrono::duration<double>(now - job.start).count();
  const double rate = static_cast<double>((step - first_step) * job.schedule.global_batch * job.schedule.accumulation) / elapsed;
  const double eta = elapsed / static_cast<double>(step - first_step) * static_cast<double>(max_steps - step);
  std::fprintf(stderr, "trainrt-finetune: step %lld/%lld (%.0f%%), %.1f samples/s, ETA %d:%02d:%02d\n",
               static_cast<long long>(step), static_cast<long long>(max_steps),
               100.0 * static_cast<double>(step) / static_cast<double>(max_steps), rate, static_cast<int>(eta) / 3600,
               static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60);
}

}  // namespace

Status Train(Job& job) {
  const FinetuneArgs& args = job.args;
  const Schedule& schedule = job.schedule;
  const StepSettings& steps = schedule.steps;
  Progress& progress = job.progress;
  Collectives* world = job.topology.world.get();
  job.watchdog = std::make_unique<StallWatchdog>(args.stall_timeout, [&job](const std::string& line) {
    ReportFailure(job.env, "rank " + std::to_string(job.topology.rank()) + ": " + line);  // the last line, after the stack
  });
  StopAgreement stop(world);
  job.start = Clock::now();
  Clock::time_point last_report = job.start;
  const int64_t first_step = progress.global_step;
  const int64_t ga = schedule.accumulation;
  const int dp_rank = job.topology.dp_rank, dp_size = job.topology.dp_size;
  double lr = 0;

  for (int64_t epoch = progress.epoch; epoch < steps.num_epochs && progress.global_step < steps.max_steps; ++epoch) {
    if (!world && StopRequested()) break;
    const auto batches = EpochBatches(job.train, args.per_device_train_batch_size, args.seed, epoch, args.group_by_length,
                                      dp_rank, dp_size);
    // Every replica's targets per batch step: the divisor of each accumulation window's loss.
    const auto step_targets = StepTargetCounts(job.train, args.per_device_train_batch_size, args.seed, epoch,
                                               args.group_by_length, dp_size);
    // A resumed epoch starts at the saved position: seeking, not replaying.
    const size_t first_batch = epoch == progress.epoch ? static_cast<size_t>(progress.next_batch) : 0;
    if (first_batch >= batches.size()) continue;
    // The next batch is collated (and copied to the device) on a helper thread while this one runs.
    auto collate = [&](size_t i) { return Collate(job.train, batches[i], job.pad_id, job.device); };
    std::future<Batch> next = std::async(std::launch::async, collate, first_batch);
    for (size_t b = first_batch; b < batches.size() && progress.global_step < steps.max_steps; ++b) {
      // ---- the accumulation window of this batch (the last of an epoch may be shorter) ----
      const int64_t window_start = static_cast<int64_t>(b) / ga * ga;
      const int64_t window_end = std::min<int64_t>(window_start + ga, static_cast<int64_t>(batches.size()));
      const bool last_of_window = static_cast<int64_t>(b) + 1 == window_end;
      // Each replica's loss is its sum over the window's targets of every replica, times the
      // replicas (the gradient sync averages them): the window's mean loss per target.
      const int64_t window_targets = std::accumulate(step_targets.begin() + window_start, step_targets.begin() + window_end,
                                                     int64_t{0});
      const double divisor = static_cast<double>(std::max<int64_t>(window_targets, 1)) / dp_size;
      if (world) world->set_step(progress.global_step + 1);
      Batch batch = next.get();
      if (b + 1 < batches.size()) next = std::async(std::launch::async, collate, b + 1);
      job.loss_since_log.add_(ForwardBackward(job, batch, divisor, last_of_window));
      progress.total_flos += 6.0 * job.non_embedding_params * static_cast<double>(batch.inputs.input_ids.numel()) * dp_size;
      job.watchdog->Beat("training", progress.global_step);
      if (!last_of_window) continue;  // more micro-batches to accumulate

      // ---- the optimizer step ----
      lr = args.learning_rate * ScheduleFactor(args.lr_schedule, progress.scheduler_step, schedule.warmup, steps.max_steps);
      const at::Tensor grad_norm = ApplyGradients(job, lr);
      job.watchdog->Beat("training", progress.global_step);
      const int64_t step = progress.global_step;
      const bool epoch_done = b + 1 == batches.size(), last_step = step == steps.max_steps;
      progress.epoch = epoch_done ? epoch + 1 : epoch;
      progress.next_batch = epoch_done ? 0 : static_cast<int64_t>(b) + 1;
      progress.epoch_progress = static_cast<double>(epoch) + static_cast<double>(b + 1) / static_cast<double>(batches.size());

      // ---- after the step: log, evaluate, stop, checkpoint ----
      if (step % steps.logging_steps == 0 || (args.logging_first_step && step == 1)) LogLoss(job, grad_norm, lr);
      if (!job.eval.inputs.empty() && ((args.eval_strategy == "steps" && step % steps.eval_steps == 0) ||
                                       (args.eval_strategy == "epoch" && (epoch_done || last_step)))) {
        EvaluateNow(job, /*record=*/true);
      }
      if (stop.StopAfter(step)) {  // SIGTERM: this step is done; checkpoint it and stop
        if (job.last_saved_step != step) TRAINRT_RETURN_IF_ERROR(SaveCheckpoint(job, /*wait=*/true));
        if (job.writer) TRAINRT_RETURN_IF_ERROR(job.writer->Wait());
        if (world) world->Barrier("barrier after the stop checkpoint");
        return Status::Cancelled("stopped by " + std::string(StopSignal() == SIGINT ? "SIGINT" : "SIGTERM") + " after step " +
                                 std::to_string(step) + " of " + std::to_string(steps.max_steps) + "; " + args.output_dir +
                                 "/checkpoint-" + std::to_string(step) + " is complete: run the same command again to resume");
      }
      const bool save_now = (args.save_strategy == "steps" && (step % steps.save_steps == 0 || last_step)) ||
                            (args.save_strategy == "epoch" && (epoch_done || last_step));
      if (save_now) TRAINRT_RETURN_IF_ERROR(SaveCheckpoint(job, /*wait=*/false));
      ReportProgress(job, first_step, last_report, args.progress_seconds);
    }
  }
  if (job.writer) TRAINRT_RETURN_IF_ERROR(job.writer->Wait());
  if (!world && StopRequested() && progress.global_step < steps.max_steps) {  // stopped before this run's first step
    return Status::Cancelled("stopped by a signal before training step " + std::to_string(progress.global_step + 1) +
                             "; nothing new to checkpoint");
  }
  AveragePendingLoss(job, "all_reduce of the remaining loss");
  if (progress.global_step > progress.last_logged_step) progress.total_loss += job.loss_since_log.item<double>();
  return Status::Ok();
}

}  // namespace trainrt::trainer
