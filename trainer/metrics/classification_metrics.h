// Accuracy, precision, recall and F1 as scikit-learn computes them for a Trainer's
// compute_metrics: binary (two labels) scores the positive label 1; more labels are macro-averaged
// over the labels present in the labels or the predictions. A zero denominator scores 0.
#ifndef TRAINRT_TRAINER_METRICS_CLASSIFICATION_METRICS_H_
#define TRAINRT_TRAINER_METRICS_CLASSIFICATION_METRICS_H_

#include <cstdint>
#include <vector>

namespace trainrt::trainer {

struct ClassificationMetrics {
  double accuracy = 0;
  double f1 = 0;
  double precision = 0;
  double recall = 0;
};

// REQUIRES: predictions.size() == labels.size() > 0.
ClassificationMetrics ComputeClassificationMetrics(const std::vector<int64_t>& predictions,
                                                   const std::vector<int64_t>& labels, int64_t num_labels);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_METRICS_CLASSIFICATION_METRICS_H_
