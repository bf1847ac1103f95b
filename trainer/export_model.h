// ExportModel: writes to a folder what Hugging Face's trainer.save_model writes, so that
// transformers' Auto classes and AutoTokenizer load it: config.json (the model's config with
// architectures, dtype and what the task adds, e.g. id2label), the weights (model.safetensors, or
// Hugging Face's sharded layout), the tokenizer's files (with the chat template), and for causal
// LMs generation_config.json. Each file is written atomically
// (temp file, fsync, rename). The model dir and every checkpoint get one.
#ifndef TRAINRT_TRAINER_EXPORT_MODEL_H_
#define TRAINRT_TRAINER_EXPORT_MODEL_H_

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/status.h"
#include "trainer/model/safetensors.h"

namespace trainrt::trainer {

class ModelFamily;
class Task;
class Tokenizer;

// Everything besides the weights that describes the model files; the same on every rank. The
// pointers are not owned and must outlive the writer.
struct ModelFiles {
  const ModelFamily* family = nullptr;
  std::string architecture;  // config.json's architectures: "BertForSequenceClassification"
  const Task* task = nullptr;
  const Tokenizer* tokenizer = nullptr;
  std::string source_dir;  // the folder the model came from: its generation_config.json is kept
  std::string chat_template_path;  // set: this template is the export's chat_template.jinja
};

// `shards` are the model's parameters by name (CPU, float32): one shard writes
// model.safetensors; several (pipeline stages) write model-0000k-of-0000n.safetensors and
// model.safetensors.index.json, which from_pretrained loads.
runtime::Status ExportModel(const std::string& dir, const std::vector<TensorMap>& shards, const ModelFiles& files);

// Python's json.dumps(obj, indent=2, sort_keys=True) + "\n": how transformers writes its JSON files
// (config.json, trainer_state.json, ...).
std::string HfJsonText(const nlohmann::json& j);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_EXPORT_MODEL_H_
