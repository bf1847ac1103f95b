#include "trainer/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "trainer/metrics/classification_metrics.h"

namespace trainrt::trainer {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

LogDict Evaluate(SequenceClassifier& model, const EncodedSet& set, int64_t batch_size, int64_t num_labels,
                 int32_t pad_id, const c10::Device& device, Collectives* group, int shard, int shards,
                 PipelineRunner* pipeline, const std::function<void()>& after_batch) {
  const auto start = Clock::now();
  std::vector<int64_t> mine;
  for (size_t i = static_cast<size_t>(shard); i < set.labels.size(); i += static_cast<size_t>(shards)) {
    mine.push_back(static_cast<int64_t>(i));
  }
  model.eval();
  at::NoGradGuard no_grad;
  const size_t n = set.labels.size();
  std::vector<double> found(n + 1, 0.0);  // prediction + 1 per row (0: not here), then the loss sum
  int64_t steps = 0;
  for (size_t begin = 0; begin < mine.size(); begin += static_cast<size_t>(batch_size)) {
    std::vector<int64_t> index(mine.begin() + static_cast<std::ptrdiff_t>(begin),
                               mine.begin() + static_cast<std::ptrdiff_t>(std::min(mine.size(), begin + batch_size)));
    Batch b = Collate(set, index, pad_id, device);
    at::Tensor logits = pipeline ? pipeline->Logits(b)
                                 : model.forward(b.input_ids, b.attention_mask, b.token_type_ids).to(at::kFloat);
    at::autocast::clear_cache();  // as after each training forward
    ++steps;
    after_batch();
    if (!logits.defined()) continue;  // not the last pipeline stage
    found[n] += at::cross_entropy_loss(logits, b.labels).item<double>() * static_cast<double>(index.size());
    const at::Tensor pred = logits.argmax(-1).to(at::kCPU).contiguous();
    const int64_t* p = pred.data_ptr<int64_t>();
    for (size_t k = 0; k < index.size(); ++k) found[static_cast<size_t>(index[k])] = 1.0 + static_cast<double>(p[k]);
  }
  model.train();
  if (group != nullptr) {
    at::Tensor all = at::from_blob(found.data(), {static_cast<int64_t>(n + 1)}, at::kDouble).to(device, false, true);
    std::vector<at::Tensor> one{all};
    group->AllReduceSum(one, "all_reduce of the evaluation predictions");
    at::Tensor back = one[0].to(at::kCPU).contiguous();
    std::copy(back.data_ptr<double>(), back.data_ptr<double>() + n + 1, found.begin());
  }
  std::vector<int64_t> predictions(n);
  for (size_t i = 0; i < n; ++i) predictions[i] = static_cast<int64_t>(std::llround(found[i])) - 1;
  const ClassificationMetrics m = ComputeClassificationMetrics(predictions, set.labels, num_labels);
  const double runtime = std::chrono::duration<double>(Clock::now() - start).count();
  return {{"eval_loss", found[n] / static_cast<double>(n)},
          {"eval_accuracy", m.accuracy},
          {"eval_f1", m.f1},
          {"eval_precision", m.precision},
          {"eval_recall", m.recall},
          {"eval_runtime", PyRound(runtime, 4)},
          {"eval_samples_per_second", PyRound(static_cast<double>(n) / runtime, 3)},
          {"eval_steps_per_second", PyRound(static_cast<double>(steps) / runtime, 3)}};
}

}  // namespace trainrt::trainer
