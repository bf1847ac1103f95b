// ResolveModelPath: where --model_name_or_path's files are: a folder with config.json, the model
// channel (SM_CHANNEL_MODEL), a Hugging Face hub cache snapshot ($HF_HUB_CACHE, $HF_HOME/hub,
// ~/.cache/huggingface/hub), or else a Hub repository downloaded into that cache (HF_ENDPOINT,
// HF_TOKEN; never with HF_HUB_OFFLINE=1 or TRANSFORMERS_OFFLINE=1).
#ifndef TRAINRT_TRAINER_MODEL_MODEL_PATH_H_
#define TRAINRT_TRAINER_MODEL_MODEL_PATH_H_

#include <string>

#include "runtime/process_env.h"
#include "runtime/status.h"

namespace trainrt::trainer {

runtime::Result<std::string> ResolveModelPath(const std::string& name, const runtime::EnvMap& env);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_MODEL_PATH_H_
