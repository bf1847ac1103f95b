// The Mistral family (model_type "mistral"), for configs without a sliding window (Mistral 7B
// v0.2 and later): the Llama decoder (llama/llama.h) with MistralConfig's defaults.
#ifndef TRAINRT_TRAINER_MODEL_MISTRAL_MISTRAL_H_
#define TRAINRT_TRAINER_MODEL_MISTRAL_MISTRAL_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/model/model_family.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<ModelFamily>> ReadMistralFamily(const nlohmann::json& config, const std::string& source);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_MISTRAL_MISTRAL_H_
