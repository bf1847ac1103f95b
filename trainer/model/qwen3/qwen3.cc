#include "trainer/model/qwen3/qwen3.h"

#include "trainer/model/llama/llama.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<ModelFamily>> ReadQwen3Family(const nlohmann::json& config, const std::string& source) {
  DecoderVariant v;
  v.model_type = "qwen3";
  v.qk_norm = true;
  v.refuse_sliding_window = true;
  v.default_vocab_size = 151936;
  v.default_intermediate_size = 22016;
  v.default_max_position_embeddings = 32768;
  v.default_num_key_value_heads = 32;
  v.default_head_dim = 128;
  return ReadDecoderFamily(config, source, v);
}

}  // namespace trainrt::trainer
