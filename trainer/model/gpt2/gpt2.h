// The GPT-2 family (model_type "gpt2"): transformers' modeling_gpt2.py with its module and
// parameter names. Learned position embeddings, pre-LayerNorm blocks, Conv1D projections whose
// weights are stored [in, out] (transposed against nn.Linear), gelu_new, and the causal-LM head
// tied to the token embeddings (tie_word_embeddings, GPT2Config's default).
#ifndef TRAINRT_TRAINER_MODEL_GPT2_GPT2_H_
#define TRAINRT_TRAINER_MODEL_GPT2_GPT2_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/model/model_family.h"

namespace trainrt::trainer {

// config.json's GPT2Config fields (vocab_size, n_positions, n_embd, n_layer, n_head, n_inner,
// activation_function, resid_pdrop, embd_pdrop, attn_pdrop, layer_norm_epsilon,
// initializer_range, scale_attn_weights, scale_attn_by_inverse_layer_idx, tie_word_embeddings).
runtime::Result<std::unique_ptr<ModelFamily>> ReadGpt2Family(const nlohmann::json& config, const std::string& source);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_GPT2_GPT2_H_
