#include "trainer/model/mistral/mistral.h"

#include "trainer/model/llama/llama.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<ModelFamily>> ReadMistralFamily(const nlohmann::json& config, const std::string& source) {
  DecoderVariant v;
  v.model_type = "mistral";
  v.refuse_sliding_window = true;
  v.default_intermediate_size = 14336;
  v.default_max_position_embeddings = 4096 * 32;
  v.default_num_key_value_heads = 8;
  return ReadDecoderFamily(config, source, v);
}

}  // namespace trainrt::trainer
