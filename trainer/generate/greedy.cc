#include "trainer/generate/greedy.h"

#include <algorithm>
#include <set>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "trainer/model/model.h"
#include "trainer/model/model_family.h"
#include "trainer/model/safetensors.h"
#include "trainer/tokenizer/chat_template.h"
#include "trainer/tokenizer/tokenizer.h"

namespace trainrt::trainer {
namespace {

using runtime::Status;

// eos_token_id of a JSON file (an id or a list of ids); empty when the file or the key is absent.
std::set<int64_t> EosIds(const std::string& path) {
  std::set<int64_t> ids;
  if (!runtime::PathExists(path)) return ids;
  auto text = runtime::ReadFileToString(path);
  if (!text.ok()) return ids;
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("eos_token_id")) return ids;
  const nlohmann::json& e = j["eos_token_id"];
  if (e.is_number_integer()) ids.insert(e.get<int64_t>());
  if (e.is_array()) {
    for (const auto& x : e) {
      if (x.is_number_integer()) ids.insert(x.get<int64_t>());
    }
  }
  return ids;
}

}  // namespace

runtime::Result<GreedyResult> GenerateGreedy(const GreedyRequest& r) {
  auto tokenizer = LoadTokenizer(r.model_dir);
  if (!tokenizer.ok()) return tokenizer.status();
  auto family = LoadModelFamily(r.model_dir + "/config.json");
  if (!family.ok()) return family.status();
  GreedyResult out;
  if (!r.messages_json.empty()) {
    const nlohmann::json messages = nlohmann::json::parse(r.messages_json, nullptr, /*allow_exceptions=*/false);
    if (!messages.is_array()) return Status::InvalidArgument("messages: expected a JSON list of {role, content}");
    auto chat = LoadChatTemplate(r.model_dir);
    if (!chat.ok()) return chat.status();
    if (!chat->has_value()) return Status::InvalidArgument(r.model_dir + ": --messages given, but the model has no chat template");
    std::map<std::string, std::string> specials;
    const SpecialTokens& s = (*tokenizer)->special_tokens();
    for (const auto& [name, id] : {std::pair<const char*, int32_t>{"bos_token", s.bos}, {"eos_token", s.eos},
                                   {"unk_token", s.unk}, {"pad_token", s.pad}}) {
      if (id >= 0) specials[name] = (*tokenizer)->TokenText(id);
    }
    auto text = (*chat)->Render(messages, /*add_generation_prompt=*/true, std::nullopt, specials);
    if (!text.ok()) return text.status();
    out.prompt_ids = (*tokenizer)->TokenizeToIds(*text);  // the template writes its own specials
  } else {
    out.prompt_ids = (*tokenizer)->Encode(r.prompt, std::nullopt, EncodeOptions{0, false}).input_ids;
  }
  if (out.prompt_ids.empty()) return Status::InvalidArgument("the prompt has no tokens");

  auto model = (*family)->Build({HeadKind::kCausalLM, 0});
  if (!model.ok()) return model.status();
  auto weights = LoadModelWeights(r.model_dir);
  if (!weights.ok()) return weights.status();
  auto report = LoadWeights(**family, **model, *weights);
  if (!report.ok()) return report.status().WithContext(r.model_dir);
  if (!report->missing.empty()) {
    return Status::InvalidArgument(r.model_dir + ": weights missing from the checkpoint: " + report->missing.front());
  }
  std::set<int64_t> eos = EosIds(r.model_dir + "/generation_config.json");
  if (eos.empty()) eos = EosIds(r.model_dir + "/config.json");

  (*model)->eval();
  at::NoGradGuard no_grad;
  std::vector<int64_t> ids(out.prompt_ids.begin(), out.prompt_ids.end());
  const int64_t limit = (*family)->dims().max_position_embeddings;
  for (int64_t step = 0; step < r.max_new_tokens && static_cast<int64_t>(ids.size()) < limit; ++step) {
    const at::Tensor input = at::tensor(ids, at::kLong).unsqueeze(0);
    const at::Tensor logits = (*model)->forward({input, at::ones_like(input), {}, {}, {}});
    const int64_t next = logits.select(1, logits.size(1) - 1).argmax(-1).item<int64_t>();
    ids.push_back(next);
    out.new_ids.push_back(static_cast<int32_t>(next));
    if (eos.count(next) != 0) break;
  }
  out.text = (*tokenizer)->Decode(out.new_ids);
  return out;
}

}  // namespace trainrt::trainer
