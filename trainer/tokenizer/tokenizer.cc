// LoadTokenizer: the registry of tokenizer models, keyed by tokenizer.json's model.type.
#include "trainer/tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "trainer/tokenizer/bpe_tokenizer.h"
#include "trainer/tokenizer/wordpiece_tokenizer.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& dir) {
  using runtime::Status;
  auto own = [](auto loaded) -> runtime::Result<std::unique_ptr<Tokenizer>> {
    if (!loaded.ok()) return loaded.status();
    return std::unique_ptr<Tokenizer>(std::make_unique<std::decay_t<decltype(*loaded)>>(std::move(*loaded)));
  };
  const std::string json_path = dir + "/tokenizer.json";
  if (runtime::PathExists(json_path)) {
    auto text = runtime::ReadFileToString(json_path);
    if (!text.ok()) return text.status();
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(json_path + ": not a JSON object");
    const auto model = j.find("model");
    const std::string type = model != j.end() && model->is_object() && model->contains("type") && (*model)["type"].is_string()
                                 ? (*model)["type"].get<std::string>()
                                 : "";
    if (type == "WordPiece") return own(WordPieceTokenizer::FromTokenizerJson(std::move(j), json_path));
    if (type == "BPE") return own(BpeTokenizer::FromTokenizerJson(std::move(j), json_path));
    return Status::InvalidArgument(json_path + ": key 'model': type '" + type + "' is not supported (expected WordPiece or BPE)");
  }
  const std::string vocab = dir + "/vocab.txt";
  if (runtime::PathExists(vocab)) return own(WordPieceTokenizer::FromVocabFile(vocab, dir + "/tokenizer_config.json"));
  return Status::NotFound(dir + ": no tokenizer.json or vocab.txt");
}

}  // namespace trainrt::trainer
