#include "trainer/export_model.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "trainer/model/model_family.h"
#include "trainer/task/task.h"
#include "trainer/tokenizer/tokenizer.h"

namespace trainrt::trainer {

using runtime::Status;

std::string HfJsonText(const nlohmann::json& j) { return j.dump(2, ' ', /*ensure_ascii=*/true) + "\n"; }

Status ExportModel(const std::string& dir, const std::vector<TensorMap>& shards, const ModelFiles& files) {
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(dir));
  auto write = [&](const std::string& name, const std::string& contents) {
    return runtime::WriteFileAtomically(dir + "/" + name, contents);
  };

  nlohmann::json c = files.family->config();
  c["architectures"] = {files.architecture};
  files.task->AddToExportConfig(c);
  c["dtype"] = "float32";
  c["torch_dtype"] = "float32";
  TRAINRT_RETURN_IF_ERROR(write("config.json", HfJsonText(c)));

  if (shards.size() == 1) {
    TRAINRT_RETURN_IF_ERROR(WriteSafetensors(dir + "/model.safetensors", shards[0], {{"format", "pt"}}));
  } else {
    nlohmann::json weight_map = nlohmann::json::object();
    int64_t total = 0;
    for (size_t k = 0; k < shards.size(); ++k) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", k + 1, shards.size());
      TRAINRT_RETURN_IF_ERROR(WriteSafetensors(dir + "/" + name, shards[k], {{"format", "pt"}}));
      for (const auto& [tensor, value] : shards[k]) {
        weight_map[tensor] = name;
        total += value.numel() * static_cast<int64_t>(value.element_size());
      }
    }
    nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    TRAINRT_RETURN_IF_ERROR(write("model.safetensors.index.json", HfJsonText(index)));
  }
  if (files.task->head().kind == HeadKind::kCausalLM) {
    // The source's generation settings as they were, else the ones transformers derives from the
    // config (GenerationConfig.from_model_config, as save_pretrained writes them).
    const std::string source = files.source_dir + "/generation_config.json";
    if (!files.source_dir.empty() && runtime::PathExists(source)) {
      auto text = runtime::ReadFileToString(source);
      if (!text.ok()) return text.status();
      TRAINRT_RETURN_IF_ERROR(write("generation_config.json", *text));
    } else {
      nlohmann::json g = {{"_from_model_config", true}};
      for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"}) {
        if (c.contains(key) && !c[key].is_null()) g[key] = c[key];
      }
      g["output_attentions"] = c.value("output_attentions", false);
      g["output_hidden_states"] = c.value("output_hidden_states", false);
      g["use_cache"] = c.value("use_cache", true);
      if (c.contains("transformers_version")) g["transformers_version"] = c["transformers_version"];
      TRAINRT_RETURN_IF_ERROR(write("generation_config.json", HfJsonText(g)));
    }
  }
  TRAINRT_RETURN_IF_ERROR(
      files.tokenizer->Save(dir, {files.family->tokenizer_class(), files.family->dims().max_position_embeddings}));
  if (!files.chat_template_path.empty()) {
    // The job's template replaces the model's, as save_pretrained writes it: chat_template.jinja,
    // and none left in tokenizer_config.json.
    auto source = runtime::ReadFileToString(files.chat_template_path);
    if (!source.ok()) return source.status();
    TRAINRT_RETURN_IF_ERROR(write("chat_template.jinja", *source));
    const std::string config_path = dir + "/tokenizer_config.json";
    if (runtime::PathExists(config_path)) {
      auto text = runtime::ReadFileToString(config_path);
      if (!text.ok()) return text.status();
      nlohmann::json config = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (config.is_object() && config.contains("chat_template")) {
        config.erase("chat_template");
        TRAINRT_RETURN_IF_ERROR(write("tokenizer_config.json", config.dump(2) + "\n"));
      }
    }
  }
  return runtime::Status::Ok();
}

}  // namespace trainrt::trainer
