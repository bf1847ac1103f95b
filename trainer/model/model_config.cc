#include "trainer/model/model_config.h"

#include "runtime/file_util.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

// Reads j[key] into `out` when present; false (with `error`) when it has the wrong type.
template <typename T>
bool Field(const nlohmann::json& j, const char* key, T& out, const std::string& source, std::string& error) {
  if (!j.contains(key) || j[key].is_null()) return true;
  try {
    out = j[key].get<T>();
    return true;
  } catch (const nlohmann::json::exception&) {
    error = source + ": field '" + key + "': unexpected value " + j[key].dump();
    return false;
  }
}

}  // namespace

Result<ModelConfig> ModelConfig::Load(const std::string& path) {
  auto text = runtime::ReadFileToString(path);
  if (!text.ok()) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  return FromJson(j, path);
}

Result<ModelConfig> ModelConfig::FromJson(const nlohmann::json& j, const std::string& source) {
  ModelConfig c;
  c.raw = j;
  const std::string type = j.value("model_type", "");
  std::string error;
  bool ok = true;
  if (type == "distilbert") {
    c.family = ModelFamily::kDistilBert;
    c.hidden_size = 768;
    c.num_layers = 6;
    c.classifier_dropout = 0.2;
    ok = Field(j, "dim", c.hidden_size, source, error) && Field(j, "n_layers", c.num_layers, source, error) &&
         Field(j, "n_heads", c.num_heads, source, error) && Field(j, "hidden_dim", c.intermediate_size, source, error) &&
         Field(j, "dropout", c.hidden_dropout, source, error) &&
         Field(j, "attention_dropout", c.attention_dropout, source, error) &&
         Field(j, "seq_classif_dropout", c.classifier_dropout, source, error) &&
         Field(j, "activation", c.activation, source, error);
    if (ok && j.value("sinusoidal_pos_embds", false)) {
      return Status::InvalidArgument(source + ": field 'sinusoidal_pos_embds': true is not supported");
    }
  } else if (type == "bert") {
    c.family = ModelFamily::kBert;
    ok = Field(j, "hidden_size", c.hidden_size, source, error) &&
         Field(j, "num_hidden_layers", c.num_layers, source, error) &&
         Field(j, "num_attention_heads", c.num_heads, source, error) &&
         Field(j, "intermediate_size", c.intermediate_size, source, error) &&
         Field(j, "hidden_dropout_prob", c.hidden_dropout, source, error) &&
         Field(j, "attention_probs_dropout_prob", c.attention_dropout, source, error) &&
         Field(j, "type_vocab_size", c.type_vocab_size, source, error) &&
         Field(j, "hidden_act", c.activation, source, error);
    c.classifier_dropout = c.hidden_dropout;
    ok = ok && Field(j, "classifier_dropout", c.classifier_dropout, source, error);
  } else {
    return Status::InvalidArgument(source + ": field 'model_type': '" + type +
                                   "' is not supported (expected bert or distilbert)");
  }
  ok = ok && Field(j, "vocab_size", c.vocab_size, source, error) &&
       Field(j, "max_position_embeddings", c.max_position_embeddings, source, error) &&
       Field(j, "layer_norm_eps", c.layer_norm_eps, source, error) &&
       Field(j, "initializer_range", c.initializer_range, source, error) &&
       Field(j, "pad_token_id", c.pad_token_id, source, error);
  if (!ok) return Status::InvalidArgument(error);
  if (j.contains("id2label") && j["id2label"].is_object()) {
    for (const auto& [k, v] : j["id2label"].items()) {
      try {
        c.id2label[std::stoll(k)] = v.get<std::string>();
      } catch (const std::exception&) {
        return Status::InvalidArgument(source + ": field 'id2label': key '" + k + "' is not a label id");
      }
    }
    c.num_labels = static_cast<int64_t>(c.id2label.size());
  }
  if (j.contains("num_labels") && j["num_labels"].is_number_integer()) c.num_labels = j["num_labels"].get<int64_t>();
  if (c.activation != "gelu" && c.activation != "relu") {
    return Status::InvalidArgument(source + ": activation '" + c.activation + "' is not supported (gelu or relu)");
  }
  if (c.hidden_size <= 0 || c.num_heads <= 0 || c.hidden_size % c.num_heads != 0) {
    return Status::InvalidArgument(source + ": hidden size " + std::to_string(c.hidden_size) +
                                   " is not a positive multiple of the head count " + std::to_string(c.num_heads));
  }
  if (c.num_labels < 1) return Status::InvalidArgument(source + ": num_labels must be at least 1");
  return c;
}

}  // namespace trainrt::trainer
