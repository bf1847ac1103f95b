#include "trainer/metrics/classification_metrics.h"

#include <cstddef>
#include <set>

namespace trainrt::trainer {
namespace {

struct Scores {
  double precision, recall, f1;
};

Scores ForLabel(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold, int64_t label) {
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < pred.size(); ++i) {
    tp += pred[i] == label && gold[i] == label;
    fp += pred[i] == label && gold[i] != label;
    fn += pred[i] != label && gold[i] == label;
  }
  const double p = tp + fp > 0 ? tp / (tp + fp) : 0.0;
  const double r = tp + fn > 0 ? tp / (tp + fn) : 0.0;
  return {p, r, p + r > 0 ? 2 * p * r / (p + r) : 0.0};
}

}  // namespace

ClassificationMetrics ComputeClassificationMetrics(const std::vector<int64_t>& predictions,
                                                   const std::vector<int64_t>& labels, int64_t num_labels) {
  ClassificationMetrics m;
  double correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += predictions[i] == labels[i];
  m.accuracy = correct / static_cast<double>(labels.size());
  if (num_labels == 2) {
    const Scores s = ForLabel(predictions, labels, 1);
    m.precision = s.precision;
    m.recall = s.recall;
    m.f1 = s.f1;
    return m;
  }
  std::set<int64_t> present(labels.begin(), labels.end());
  present.insert(predictions.begin(), predictions.end());
  for (int64_t label : present) {
    const Scores s = ForLabel(predictions, labels, label);
    m.precision += s.precision;
    m.recall += s.recall;
    m.f1 += s.f1;
  }
  const double n = static_cast<double>(present.size());
  m.precision /= n;
  m.recall /= n;
  m.f1 /= n;
  return m;
}

}  // namespace trainrt::trainer
