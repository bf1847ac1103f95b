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
  return files.tokenizer->Save(dir, {files.family->tokenizer_class(), files.family->dims().max_position_embeddings});
}

}  // namespace trainrt::trainer
