#include "trainer/export_model.h"

#include <cstdio>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "trainer/model/safetensors.h"

namespace trainrt::trainer {

using runtime::Status;

std::string HfJsonText(const nlohmann::json& j) { return j.dump(2, ' ', /*ensure_ascii=*/true) + "\n"; }

TensorMap ModelWeights(SequenceClassifier& model) {
  TensorMap weights;
  for (const auto& item : model.named_parameters()) {
    weights[item.key()] = item.value().detach().to(at::kCPU, at::kFloat, /*non_blocking=*/false, /*copy=*/true);
  }
  return weights;
}

Status ExportModel(const std::string& model_dir, const TensorMap& weights, const std::string& architecture,
                   const ModelConfig& config, const std::vector<std::string>& label_names,
                   const WordPieceTokenizer& tokenizer, const std::string& tokenizer_dir) {
  return ExportModel(model_dir, std::vector<TensorMap>{weights}, architecture, config, label_names, tokenizer,
                     tokenizer_dir);
}

Status ExportModel(const std::string& model_dir, const std::vector<TensorMap>& shards, const std::string& architecture,
                   const ModelConfig& config, const std::vector<std::string>& label_names,
                   const WordPieceTokenizer& tokenizer, const std::string& tokenizer_dir) {
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(model_dir));
  auto write = [&](const std::string& name, const std::string& contents) {
    return runtime::WriteFileAtomically(model_dir + "/" + name, contents);
  };

  nlohmann::json c = config.raw;
  c["architectures"] = {architecture};
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (size_t i = 0; i < label_names.size(); ++i) {
    id2label[std::to_string(i)] = label_names[i];
    label2id[label_names[i]] = i;
  }
  c["id2label"] = id2label;
  c["label2id"] = label2id;
  c.erase("num_labels");
  c["problem_type"] = "single_label_classification";
  c["dtype"] = "float32";
  c["torch_dtype"] = "float32";
  TRAINRT_RETURN_IF_ERROR(write("config.json", HfJsonText(c)));

  if (shards.size() == 1) {
    TRAINRT_RETURN_IF_ERROR(WriteSafetensors(model_dir + "/model.safetensors", shards[0], {{"format", "pt"}}));
  } else {
    nlohmann::json weight_map = nlohmann::json::object();
    int64_t total = 0;
    for (size_t k = 0; k < shards.size(); ++k) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", k + 1, shards.size());
      TRAINRT_RETURN_IF_ERROR(WriteSafetensors(model_dir + "/" + name, shards[k], {{"format", "pt"}}));
      for (const auto& [tensor, value] : shards[k]) {
        weight_map[tensor] = name;
        total += value.numel() * static_cast<int64_t>(value.element_size());
      }
    }
    nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    TRAINRT_RETURN_IF_ERROR(write("model.safetensors.index.json", HfJsonText(index)));
  }

  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    auto contents = runtime::ReadFileToString(tokenizer_dir + "/" + name);
    if (contents.ok()) TRAINRT_RETURN_IF_ERROR(write(name, *contents));
  }
  if (!runtime::PathExists(model_dir + "/tokenizer_config.json")) {
    nlohmann::json tc = {{"do_lower_case", tokenizer.normalizer().lowercase},
                         {"model_max_length", config.max_position_embeddings},
                         {"tokenizer_class", config.family == ModelFamily::kDistilBert ? "DistilBertTokenizer"
                                                                                       : "BertTokenizer"},
                         {"tokenize_chinese_chars", tokenizer.normalizer().handle_chinese_chars},
                         {"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                         {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}};
    TRAINRT_RETURN_IF_ERROR(write("tokenizer_config.json", HfJsonText(tc)));
  }
  nlohmann::json special = {{"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}, {"pad_token", "[PAD]"},
                            {"sep_token", "[SEP]"}, {"unk_token", "[UNK]"}};
  TRAINRT_RETURN_IF_ERROR(write("special_tokens_map.json", HfJsonText(special)));
  std::string vocab;
  for (const auto& token : tokenizer.vocab()) vocab += token + "\n";
  return write("vocab.txt", vocab);
}

}  // namespace trainrt::trainer
