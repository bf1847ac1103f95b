// The Qwen2 family (model_type "qwen2": Qwen2 and Qwen2.5): the Llama decoder (llama/llama.h) with
// bias on q/k/v and not on o, and Qwen2Config's defaults. Sliding-window attention is refused.
#ifndef TRAINRT_TRAINER_MODEL_QWEN2_QWEN2_H_
#define TRAINRT_TRAINER_MODEL_QWEN2_QWEN2_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/model/model_family.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<ModelFamily>> ReadQwen2Family(const nlohmann::json& config, const std::string& source);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_QWEN2_QWEN2_H_
