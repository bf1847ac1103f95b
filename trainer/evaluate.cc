#include "trainer/evaluate.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

namespace trainrt::trainer {

LogDict Evaluate(Model& model, const Task& task, const EncodedSet& set, const EvalOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> mine;
  for (size_t i = static_cast<size_t>(o.shard); i < set.size(); i += static_cast<size_t>(o.shards)) {
    mine.push_back(static_cast<int64_t>(i));
  }
  model.eval();
  at::NoGradGuard no_grad;
  // The task's state, then the loss and the rows it was taken over, summed over the ranks in one
  // all-reduce. Trainer's eval_loss is each batch's mean loss weighted by the batch's rows (the
  // mean over targets only when every row has one target, as in classification).
  const size_t task_state = task.EvalStateSize(set);
  std::vector<double> state(task_state + 2, 0.0);
  int64_t steps = 0;
  for (size_t begin = 0; begin < mine.size(); begin += static_cast<size_t>(o.batch_size)) {
    std::vector<int64_t> rows(mine.begin() + static_cast<std::ptrdiff_t>(begin),
                              mine.begin() + static_cast<std::ptrdiff_t>(std::min(mine.size(), begin + o.batch_size)));
    Batch b = Collate(set, rows, o.pad_id, o.device);
    at::Tensor output = o.pipeline ? o.pipeline->Logits(b) : model.forward(b.inputs).to(at::kFloat);
    at::autocast::clear_cache();  // as after each training forward
    ++steps;
    o.after_batch();
    if (!output.defined()) continue;  // not the last pipeline stage
    const LossTerms loss = task.Loss(output, b.labels);
    const double targets = static_cast<double>(std::max<int64_t>(loss.count.item<int64_t>(), 1));
    state[task_state] += loss.sum.item<double>() / targets * static_cast<double>(rows.size());
    state[task_state + 1] += static_cast<double>(rows.size());
    task.AddToEval(output, rows, state);
  }
  model.train();
  if (o.group != nullptr) {
    at::Tensor all = at::from_blob(state.data(), {static_cast<int64_t>(state.size())}, at::kDouble).to(o.device, false, true);
    std::vector<at::Tensor> one{all};
    o.group->AllReduceSum(one, "all_reduce of the evaluation predictions");
    at::Tensor back = one[0].to(at::kCPU).contiguous();
    std::copy(back.data_ptr<double>(), back.data_ptr<double>() + state.size(), state.begin());
  }
  const double runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LogDict metrics = {{"eval_loss", state[task_state] / std::max(1.0, state[task_state + 1])}};
  for (auto& entry : task.EvalMetrics(state, set)) metrics.push_back(std::move(entry));
  metrics.emplace_back("eval_runtime", PyRound(runtime, 4));
  metrics.emplace_back("eval_samples_per_second", PyRound(static_cast<double>(set.size()) / runtime, 3));
  metrics.emplace_back("eval_steps_per_second", PyRound(static_cast<double>(steps) / runtime, 3));
  return metrics;
}

}  // namespace trainrt::trainer
