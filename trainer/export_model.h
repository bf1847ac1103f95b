// ExportModel: writes to the model dir what Hugging Face's trainer.save_model writes, so that
// AutoModelForSequenceClassification / AutoTokenizer.from_pretrained load it: config.json (with
// architectures, id2label/label2id, dtype), model.safetensors, tokenizer.json, tokenizer_config.json,
// special_tokens_map.json, vocab.txt. Each file is written atomically (temp file, fsync, rename).
#ifndef TRAINRT_TRAINER_EXPORT_MODEL_H_
#define TRAINRT_TRAINER_EXPORT_MODEL_H_

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/status.h"
#include "trainer/model/model_config.h"
#include "trainer/model/safetensors.h"
#include "trainer/model/sequence_classifier.h"
#include "trainer/tokenizer/wordpiece_tokenizer.h"

namespace trainrt::trainer {

// `weights` are the model's parameters by name (CPU, float32); `architecture` is e.g.
// "BertForSequenceClassification"; `label_names` are id2label; `tokenizer_dir` is where the
// tokenizer was loaded from (its tokenizer.json and tokenizer_config.json are carried over).
runtime::Status ExportModel(const std::string& model_dir, const TensorMap& weights, const std::string& architecture,
                            const ModelConfig& config, const std::vector<std::string>& label_names,
                            const WordPieceTokenizer& tokenizer, const std::string& tokenizer_dir);

// The same with the weights in shards (pipeline stages): one shard writes model.safetensors;
// several write model-0000k-of-0000n.safetensors and model.safetensors.index.json, Hugging
// Face's sharded layout, which from_pretrained loads.
runtime::Status ExportModel(const std::string& model_dir, const std::vector<TensorMap>& shards,
                            const std::string& architecture, const ModelConfig& config,
                            const std::vector<std::string>& label_names, const WordPieceTokenizer& tokenizer,
                            const std::string& tokenizer_dir);

// Python's json.dumps(obj, indent=2, sort_keys=True) + "\n": how transformers writes its JSON files
// (config.json, trainer_state.json, ...).
std::string HfJsonText(const nlohmann::json& j);

// The model's parameters as CPU float32 copies, by name (what ExportModel writes).
TensorMap ModelWeights(SequenceClassifier& model);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_EXPORT_MODEL_H_
