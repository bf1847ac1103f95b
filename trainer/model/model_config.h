// ModelConfig: a Hugging Face config.json for the BERT family (model_type "bert", which covers
// MiniLM, and "distilbert"), read into one typed struct with each family's field names mapped,
// keeping the original JSON so an export writes back everything it did not understand.
#ifndef TRAINRT_TRAINER_MODEL_MODEL_CONFIG_H_
#define TRAINRT_TRAINER_MODEL_MODEL_CONFIG_H_

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"

namespace trainrt::trainer {

enum class ModelFamily { kBert, kDistilBert };

struct ModelConfig {
  ModelFamily family = ModelFamily::kBert;
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;          // distilbert: dim
  int64_t num_layers = 12;            // distilbert: n_layers
  int64_t num_heads = 12;             // distilbert: n_heads
  int64_t intermediate_size = 3072;   // distilbert: hidden_dim
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;        // bert only
  double hidden_dropout = 0.1;        // distilbert: dropout
  double attention_dropout = 0.1;     // distilbert: attention_dropout
  double classifier_dropout = 0.1;    // distilbert: seq_classif_dropout; bert: classifier_dropout or hidden
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;
  int64_t pad_token_id = 0;
  std::string activation = "gelu";
  int64_t num_labels = 2;
  std::map<int64_t, std::string> id2label;  // empty: LABEL_0, LABEL_1, ...
  nlohmann::json raw;                       // the file as read

  // InvalidArgument naming the file and field for a missing or unsupported value.
  static runtime::Result<ModelConfig> Load(const std::string& path);
  static runtime::Result<ModelConfig> FromJson(const nlohmann::json& j, const std::string& source);
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_MODEL_CONFIG_H_
