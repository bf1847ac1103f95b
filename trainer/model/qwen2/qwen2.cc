#include "trainer/model/qwen2/qwen2.h"

#include "trainer/model/llama/llama.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<ModelFamily>> ReadQwen2Family(const nlohmann::json& config, const std::string& source) {
  DecoderVariant v;
  v.model_type = "qwen2";
  v.qkv_bias = true;
  v.refuse_sliding_window = true;
  v.default_vocab_size = 151936;
  v.default_intermediate_size = 22016;
  v.default_max_position_embeddings = 32768;
  v.default_num_key_value_heads = 32;
  return ReadDecoderFamily(config, source, v);
}

}  // namespace trainrt::trainer
