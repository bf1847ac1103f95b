// The Llama family (model_type "llama": Llama 2 and 3.x) and the decoder it shares with the
// families that change it a little (qwen2/, qwen3/, mistral/ configure it): transformers'
// modeling_llama.py with its module and parameter names. Pre-norm blocks with RMSNorm computed
// in fp32, rotary position embeddings (default, linear and llama3 scaling, from rope_parameters or
// the older rope_scaling), grouped-query attention through ATen's scaled_dot_product_attention
// with a causal and padding mask, a SiLU-gated MLP, and the causal-LM head (lm_head, or the input
// embeddings when tie_word_embeddings).
#ifndef TRAINRT_TRAINER_MODEL_LLAMA_LLAMA_H_
#define TRAINRT_TRAINER_MODEL_LLAMA_LLAMA_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/model/model_family.h"

namespace trainrt::trainer {

// How a family's decoder differs from Llama's.
struct DecoderVariant {
  std::string model_type = "llama";
  bool qkv_bias = false;          // bias on q/k/v but not o, whatever attention_bias says (Qwen2)
  bool qk_norm = false;           // RMSNorm over each head of q and k before the rotation (Qwen3)
  bool refuse_sliding_window = false;  // a set sliding_window (Mistral) or use_sliding_window (Qwen) is refused
  // The config class's defaults where they differ from LlamaConfig's.
  int64_t default_vocab_size = 32000;
  int64_t default_intermediate_size = 11008;
  int64_t default_max_position_embeddings = 2048;
  int64_t default_num_key_value_heads = -1;  // -1: num_attention_heads
  int64_t default_head_dim = -1;             // -1: hidden_size / num_attention_heads
};

// config.json's LlamaConfig fields (vocab_size, hidden_size, intermediate_size,
// num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim, hidden_act (silu),
// max_position_embeddings, rms_norm_eps, rope_theta, rope_parameters / rope_scaling,
// attention_bias, mlp_bias, tie_word_embeddings, initializer_range, attention_dropout).
runtime::Result<std::unique_ptr<ModelFamily>> ReadLlamaFamily(const nlohmann::json& config, const std::string& source);
// The same reader for a family built on this decoder.
runtime::Result<std::unique_ptr<ModelFamily>> ReadDecoderFamily(const nlohmann::json& config, const std::string& source,
                                                                const DecoderVariant& variant);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_LLAMA_LLAMA_H_
