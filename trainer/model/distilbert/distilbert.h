// The DistilBERT family (model_type "distilbert"): transformers' modeling_distilbert.py with its
// module and parameter names, and the sequence-classification head
// (DistilBertForSequenceClassification: [CLS] through pre_classifier, ReLU, dropout, classifier).
#ifndef TRAINRT_TRAINER_MODEL_DISTILBERT_DISTILBERT_H_
#define TRAINRT_TRAINER_MODEL_DISTILBERT_DISTILBERT_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/model/model_family.h"

namespace trainrt::trainer {

// config.json's DistilBertConfig fields (dim, n_layers, n_heads, hidden_dim, dropout,
// attention_dropout, seq_classif_dropout, activation, vocab_size, max_position_embeddings,
// initializer_range, pad_token_id) with DistilBertConfig's defaults; sinusoidal_pos_embds is refused.
runtime::Result<std::unique_ptr<ModelFamily>> ReadDistilBertFamily(const nlohmann::json& config,
                                                                   const std::string& source);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_DISTILBERT_DISTILBERT_H_
