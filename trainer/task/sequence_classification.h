// SequenceClassificationTask: one label per text or text pair (AutoModelForSequenceClassification,
// Trainer's text-classification examples). Labels are integers or names (names get ids in sorted
// order and are exported as id2label); the loss is cross-entropy; the metrics are accuracy and
// macro F1, precision and recall (classification_metrics.h).
#ifndef TRAINRT_TRAINER_TASK_SEQUENCE_CLASSIFICATION_H_
#define TRAINRT_TRAINER_TASK_SEQUENCE_CLASSIFICATION_H_

#include <memory>

#include <nlohmann/json.hpp>

#include "trainer/data/text_classification_data.h"
#include "trainer/task/task.h"

namespace trainrt::trainer {

struct SequenceClassificationOptions {
  Columns columns;         // text, optional pair, and label columns
  int64_t num_labels = 0;  // 0: from the data
};

std::unique_ptr<Task> NewSequenceClassificationTask(const SequenceClassificationOptions& options);

// The label count a config.json declares, as PretrainedConfig reads it: id2label's size, else
// num_labels, else 2.
int64_t NumLabelsOf(const nlohmann::json& config);

// Tokenizes text rows (pre-tokenized rows keep their ids), cut to `max_length`, with their label ids.
EncodedSet EncodeClassificationExamples(const std::vector<TextExample>& examples, const LabelMap& labels,
                                        const Tokenizer& tokenizer, int max_length);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TASK_SEQUENCE_CLASSIFICATION_H_
