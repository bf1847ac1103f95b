// The BERT family (model_type "bert", which covers MiniLM and bert-base): transformers'
// modeling_bert.py (post-LayerNorm blocks, erf GELU, masked attention) with its module and
// parameter names, and the sequence-classification head (BertForSequenceClassification: the
// pooler's tanh over [CLS], dropout, a linear classifier).
#ifndef TRAINRT_TRAINER_MODEL_BERT_BERT_H_
#define TRAINRT_TRAINER_MODEL_BERT_BERT_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/model/model_family.h"

namespace trainrt::trainer {

// config.json's BertConfig fields (hidden_size, num_hidden_layers, num_attention_heads,
// intermediate_size, hidden_dropout_prob, attention_probs_dropout_prob, type_vocab_size,
// hidden_act, classifier_dropout, vocab_size, max_position_embeddings, layer_norm_eps,
// initializer_range, pad_token_id) with BertConfig's defaults.
runtime::Result<std::unique_ptr<ModelFamily>> ReadBertFamily(const nlohmann::json& config, const std::string& source);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_BERT_BERT_H_
