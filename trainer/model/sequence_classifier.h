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

  // The same forward in pieces, for pipeline stages: Embed -> Layer(0..num_layers-1) -> Head.
  // `attention_bias` is AttentionBiasFor(attention_mask, hidden dtype).
  virtual int64_t num_layers() const = 0;
  virtual at::Tensor Embed(const at::Tensor& input_ids, const at::Tensor& token_type_ids) = 0;  // [B, T, H]
  virtual at::Tensor Layer(int64_t index, const at::Tensor& hidden, const at::Tensor& attention_bias) = 0;
  virtual at::Tensor Head(const at::Tensor& hidden) = 0;  // [B, T, H] -> logits [B, num_labels]
};

// [B, T] mask of 1/0 -> [B, 1, 1, T] additive bias: 0 where attended, the dtype's lowest where masked.
at::Tensor AttentionBiasFor(const at::Tensor& attention_mask, at::ScalarType dtype);

// Which piece a parameter belongs to: -1 the embeddings, 0..num_layers-1 an encoder layer,
// num_layers the head (pooler and classifier).
int64_t PieceOf(const std::string& parameter_name, int64_t num_layers);

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
