// The registry of model families, keyed by config.json's model_type, and what every family
// shares: loading weights by name, their CPU copies, the default weight-decay rule.
#include "trainer/model/model_family.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <ATen/ATen.h>
#include <torch/nn/modules/embedding.h>

#include "runtime/file_util.h"
#include "trainer/model/bert/bert.h"
#include "trainer/model/distilbert/distilbert.h"
#include "trainer/model/gpt2/gpt2.h"
#include "trainer/model/llama/llama.h"
#include "trainer/model/mistral/mistral.h"
#include "trainer/model/qwen2/qwen2.h"
#include "trainer/model/qwen3/qwen3.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

using FamilyReader = Result<std::unique_ptr<ModelFamily>> (*)(const nlohmann::json&, const std::string&);

// Adding a family: its folder, and one line here.
const std::map<std::string, FamilyReader>& Registry() {
  static const std::map<std::string, FamilyReader> families = {
      {"bert", &ReadBertFamily},
      {"distilbert", &ReadDistilBertFamily},
      {"gpt2", &ReadGpt2Family},
      {"llama", &ReadLlamaFamily},
      {"mistral", &ReadMistralFamily},
      {"qwen2", &ReadQwen2Family},
      {"qwen3", &ReadQwen3Family},
  };
  return families;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool ModelFamily::IsIgnoredCheckpointTensor(const std::string& checkpoint_name) const {
  // Older checkpoints carry the position_ids buffer, which transformers ignores on load too.
  return EndsWith(checkpoint_name, "position_ids");
}

bool ModelFamily::DecaysWeight(const std::string& parameter) const {
  // Trainer.get_decay_parameter_names' patterns, on the lower-cased name: bias, layernorm,
  // rmsnorm, (^|\.)norm($|\.), _norm($|\.).
  std::string lower = parameter;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"bias", "layernorm", "rmsnorm"}) {
    if (lower.find(word) != std::string::npos) return false;
  }
  for (size_t at = lower.find("norm"); at != std::string::npos; at = lower.find("norm", at + 1)) {
    const bool ends = at + 4 == lower.size() || lower[at + 4] == '.';
    const bool starts = at == 0 || lower[at - 1] == '.' || lower[at - 1] == '_';
    if (ends && starts) return false;
  }
  return true;
}

Result<std::unique_ptr<ModelFamily>> ModelFamilyFromJson(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) return Status::InvalidArgument(source + ": not a JSON object");
  const auto type = config.find("model_type");
  const std::string model_type = type != config.end() && type->is_string() ? type->get<std::string>() : "";
  const auto& families = Registry();
  const auto found = families.find(model_type);
  if (found == families.end()) {
    std::string known;
    size_t k = 0;
    for (const auto& [name, reader] : families) {
      known += (k == 0 ? "" : k + 1 == families.size() ? " or " : ", ") + name;
      ++k;
    }
    const std::string shown = type == config.end() ? "" : type->is_string() ? type->get<std::string>() : type->dump();
    return Status::InvalidArgument(source + ": field 'model_type': '" + shown + "' is not supported (expected " + known + ")");
  }
  return found->second(config, source);
}

Result<std::unique_ptr<ModelFamily>> LoadModelFamily(const std::string& config_path) {
  auto text = runtime::ReadFileToString(config_path);
  if (!text.ok()) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(config_path + ": not a JSON object");
  return ModelFamilyFromJson(j, config_path);
}

Result<WeightReport> LoadWeights(const ModelFamily& family, Model& model, const TensorMap& weights) {
  const std::string prefix = family.base_prefix() + ".";
  bool has_prefix = false;
  for (const auto& [name, t] : weights) has_prefix = has_prefix || name.rfind(prefix, 0) == 0;
  std::map<std::string, std::string> source_of;  // the family's name -> the checkpoint's
  for (const auto& [name, t] : weights) source_of.emplace(family.CanonicalName(name), name);
  WeightReport report;
  std::set<std::string> used;
  at::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    std::string wanted = name;
    if (!has_prefix && name.rfind(prefix, 0) == 0) wanted = name.substr(prefix.size());  // a bare base-model checkpoint
    auto found = source_of.find(wanted);
    if (found == source_of.end()) {
      report.missing.push_back(name);
      continue;
    }
    const std::string& source = found->second;
    const at::Tensor& tensor = weights.at(source);
    if (tensor.sizes() != item.value().sizes()) {
      return Status::InvalidArgument("weight '" + source + "' has shape " + c10::str(tensor.sizes()) +
                                     ", the model expects " + c10::str(item.value().sizes()));
    }
    item.value().copy_(tensor);
    used.insert(source);
  }
  for (const auto& [name, t] : weights) {
    if (!used.count(name) && !family.IsIgnoredCheckpointTensor(name)) report.unexpected.push_back(name);
  }
  return report;
}

TensorMap ModelWeights(Model& model) {
  TensorMap weights;
  for (const auto& item : model.named_parameters()) {
    weights[item.key()] = item.value().detach().to(at::kCPU, at::kFloat, /*non_blocking=*/false, /*copy=*/true);
  }
  return weights;
}

int64_t NonEmbeddingParameterCount(Model& model) {
  std::set<const at::TensorImpl*> embedding_tables;
  for (const auto& item : model.named_modules()) {
    if (auto* embedding = item.value()->as<torch::nn::Embedding>()) embedding_tables.insert(embedding->weight.unsafeGetTensorImpl());
  }
  int64_t count = 0;
  for (const auto& p : model.parameters()) {
    if (!embedding_tables.count(p.unsafeGetTensorImpl())) count += p.numel();
  }
  return count;
}

}  // namespace trainrt::trainer
