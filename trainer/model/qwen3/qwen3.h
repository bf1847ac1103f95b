// The Qwen3 family (model_type "qwen3"): the Llama decoder (llama/llama.h) with an RMSNorm over each
// head of q and k before the rotation, and Qwen3Config's defaults (head_dim 128). Sliding-window
// attention is refused.
#ifndef TRAINRT_TRAINER_MODEL_QWEN3_QWEN3_H_
#define TRAINRT_TRAINER_MODEL_QWEN3_QWEN3_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/model/model_family.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<ModelFamily>> ReadQwen3Family(const nlohmann::json& config, const std::string& source);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_QWEN3_QWEN3_H_
