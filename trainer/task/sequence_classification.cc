#include "trainer/task/sequence_classification.h"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "trainer/metrics/classification_metrics.h"

namespace trainrt::trainer {
namespace {

using runtime::Status;

class SequenceClassificationTask final : public Task {
 public:
  explicit SequenceClassificationTask(const SequenceClassificationOptions& options) : options_(options) {}

  Status LoadData(const std::string& train_dir, const std::string& test_dir, const Tokenizer& tokenizer,
                  int max_length, EncodedSet& train, EncodedSet& eval) override {
    auto train_examples = ReadTextClassificationChannel(train_dir, options_.columns);
    if (!train_examples.ok()) return train_examples.status();
    std::vector<TextExample> eval_examples;
    if (!test_dir.empty() && runtime::PathExists(test_dir)) {
      auto read = ReadTextClassificationChannel(test_dir, options_.columns);
      if (!read.ok()) return read.status();
      eval_examples = std::move(*read);
    }
    auto labels = BuildLabelMap(*train_examples, eval_examples, options_.num_labels);
    if (!labels.ok()) return labels.status();
    labels_ = std::move(*labels);
    train = EncodeClassificationExamples(*train_examples, labels_, tokenizer, max_length);
    eval = EncodeClassificationExamples(eval_examples, labels_, tokenizer, max_length);
    return Status::Ok();
  }

  HeadSpec head() const override { return {HeadKind::kSequenceClassification, num_labels()}; }

  LossTerms Loss(const at::Tensor& logits, const at::Tensor& labels) const override {
    return {at::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum, kIgnoreIndex), labels.ne(kIgnoreIndex).sum()};
  }

  // One value per row: its predicted label + 1 (0: evaluated on another rank).
  size_t EvalStateSize(const EncodedSet& set) const override { return set.size(); }
  void AddToEval(const at::Tensor& logits, const std::vector<int64_t>& rows, std::vector<double>& state) const override {
    const at::Tensor predicted = logits.argmax(-1).to(at::kCPU).contiguous();
    const int64_t* p = predicted.data_ptr<int64_t>();
    for (size_t k = 0; k < rows.size(); ++k) state[static_cast<size_t>(rows[k])] = 1.0 + static_cast<double>(p[k]);
  }
  LogDict EvalMetrics(const std::vector<double>& state, const EncodedSet& set) const override {
    std::vector<int64_t> predictions(set.size());
    for (size_t i = 0; i < set.size(); ++i) predictions[i] = static_cast<int64_t>(std::llround(state[i])) - 1;
    const ClassificationMetrics m = ComputeClassificationMetrics(predictions, set.labels, num_labels());
    return {{"eval_accuracy", m.accuracy}, {"eval_f1", m.f1}, {"eval_precision", m.precision}, {"eval_recall", m.recall}};
  }

  void AddToExportConfig(nlohmann::json& config) const override {
    nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
    for (size_t i = 0; i < labels_.names.size(); ++i) {
      id2label[std::to_string(i)] = labels_.names[i];
      label2id[labels_.names[i]] = i;
    }
    config["id2label"] = id2label;
    config["label2id"] = label2id;
    config.erase("num_labels");
    config["problem_type"] = "single_label_classification";
  }
  std::vector<std::string> LayoutNames() const override { return labels_.names; }
  std::string Describe() const override { return std::to_string(labels_.names.size()) + " labels"; }

 private:
  int64_t num_labels() const { return static_cast<int64_t>(labels_.names.size()); }

  SequenceClassificationOptions options_;
  LabelMap labels_;
};

}  // namespace

std::unique_ptr<Task> NewSequenceClassificationTask(const SequenceClassificationOptions& options) {
  return std::make_unique<SequenceClassificationTask>(options);
}

int64_t NumLabelsOf(const nlohmann::json& config) {
  if (const auto it = config.find("id2label"); it != config.end() && it->is_object() && !it->empty()) {
    return static_cast<int64_t>(it->size());
  }
  if (const auto it = config.find("num_labels"); it != config.end() && it->is_number_integer()) return it->get<int64_t>();
  return 2;
}

EncodedSet EncodeClassificationExamples(const std::vector<TextExample>& examples, const LabelMap& labels,
                                        const Tokenizer& tokenizer, int max_length) {
  EncodedSet set;
  EncodeOptions options;
  options.max_length = max_length;
  for (const TextExample& ex : examples) {
    if (!ex.input_ids.empty()) {  // pre-tokenized: keep the ids, cut to max_length
      Encoding e;
      e.input_ids.assign(ex.input_ids.begin(),
                         ex.input_ids.begin() + std::min<std::ptrdiff_t>(max_length, ex.input_ids.size()));
      if (ex.attention_mask.empty()) {
        e.attention_mask.assign(e.input_ids.size(), 1);
      } else {
        e.attention_mask.assign(ex.attention_mask.begin(), ex.attention_mask.begin() + e.input_ids.size());
      }
      e.token_type_ids.assign(e.input_ids.size(), 0);
      e.word_ids.assign(e.input_ids.size(), -1);  // unknown: the words are not in the data
      set.inputs.push_back(std::move(e));
    } else {
      set.inputs.push_back(tokenizer.Encode(ex.text, ex.pair ? std::optional<std::string_view>(*ex.pair) : std::nullopt,
                                            options));
    }
    set.labels.push_back(labels.ids.at(ex.label));
  }
  return set;
}

}  // namespace trainrt::trainer
