// SequenceClassifier: a BERT-family encoder with a sequence-classification head
// (BertForSequenceClassification, DistilBertForSequenceClassification), as a libtorch module whose
// parameter names are exactly Hugging Face's, so weights load from and save to their files as is.
#ifndef TRAINRT_TRAINER_MODEL_SEQUENCE_CLASSIFIER_H_
#define TRAINRT_TRAINER_MODEL_SEQUENCE_CLASSIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "runtime/status.h"
#include "trainer/model/model_config.h"
#include "trainer/model/safetensors.h"

namespace trainrt::trainer {

class SequenceClassifier : public torch::nn::Module {
 public:
  // input_ids, attention_mask, token_type_ids: [B, T] int64 (token_type_ids ignored by DistilBERT).
  // Returns logits [B, num_labels].
  virtual at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                             const at::Tensor& token_type_ids) = 0;
  // "bert" or "distilbert": the prefix of the encoder's parameter names.
  virtual std::string base_prefix() const = 0;
  // "BertForSequenceClassification" or "DistilBertForSequenceClassification".
  virtual std::string architecture() const = 0;
};

// A freshly initialised model (weights as Hugging Face's _init_weights draws them).
runtime::Result<std::shared_ptr<SequenceClassifier>> BuildSequenceClassifier(const ModelConfig& config);

struct WeightReport {
  std::vector<std::string> missing;     // model parameters the checkpoint lacked (kept freshly initialised)
  std::vector<std::string> unexpected;  // checkpoint tensors the model does not have (ignored), but
                                        // the position_ids buffer older checkpoints carry
};

// Copies `weights` into `model` by name. Checkpoints of the bare encoder (names without the
// "bert."/"distilbert." prefix) load too. A tensor whose shape differs is an error naming it.
runtime::Result<WeightReport> LoadWeights(SequenceClassifier& model, const TensorMap& weights);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_SEQUENCE_CLASSIFIER_H_
