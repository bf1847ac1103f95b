// ExportModel writes a folder transformers reads: config.json with the family's config, the
// architecture and the task's labels; the weights, whole or in Hugging Face's sharded layout; the
// tokenizer's files. (tests/integration loads such folders with transformers itself.)
#include "trainer/export_model.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/runtime/test_util.h"
#include "trainer/model/model_family.h"
#include "trainer/task/sequence_classification.h"
#include "trainer/tokenizer/tokenizer.h"

namespace trainrt::trainer {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  auto text = runtime::ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << path;
  return nlohmann::json::parse(text.ok() ? *text : "{}");
}

TEST(ExportModel, ConfigWeightsAndTokenizerFilesAsTransformersReadsThem) {
  testing::ScratchDir dir;
  dir.Write("train/data.jsonl", "{\"text\": \"good\", \"label\": \"pos\"}\n{\"text\": \"bad\", \"label\": \"neg\"}\n");
  auto tokenizer = LoadTokenizer(TRAINRT_MINILM_DIR);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  auto task = NewSequenceClassificationTask({});
  EncodedSet train, eval;
  ASSERT_TRUE(task->LoadData(dir.path() + "/train", "", **tokenizer, 16, train, eval).ok());
  const nlohmann::json config = {{"model_type", "bert"}, {"hidden_size", 8}, {"num_attention_heads", 2},
                                 {"num_hidden_layers", 2}, {"intermediate_size", 16}, {"vocab_size", 30522},
                                 {"num_labels", 5}, {"custom_field", "kept"}};
  auto family = ModelFamilyFromJson(config, "config.json");
  ASSERT_TRUE(family.ok());
  auto model = (*family)->Build(task->head());
  ASSERT_TRUE(model.ok());
  const TensorMap weights = ModelWeights(**model);
  const ModelFiles files{family->get(), (*model)->architecture(), task.get(), tokenizer->get(), ""};

  ASSERT_TRUE(ExportModel(dir.path() + "/whole", {weights}, files).ok());
  const nlohmann::json written = ReadJson(dir.path() + "/whole/config.json");
  EXPECT_EQ(written["architectures"], nlohmann::json::array({"BertForSequenceClassification"}));
  EXPECT_EQ(written["id2label"], (nlohmann::json{{"0", "neg"}, {"1", "pos"}}));
  EXPECT_EQ(written["label2id"], (nlohmann::json{{"neg", 0}, {"pos", 1}}));
  EXPECT_EQ(written["problem_type"], "single_label_classification");
  EXPECT_FALSE(written.contains("num_labels")) << "id2label says how many";
  EXPECT_EQ(written["custom_field"], "kept") << "what the family does not read is written back";
  EXPECT_EQ(written["hidden_size"], 8);
  auto reread = LoadModelWeights(dir.path() + "/whole");
  ASSERT_TRUE(reread.ok()) << reread.status().ToString();
  ASSERT_EQ(reread->size(), weights.size());
  for (const auto& [name, tensor] : weights) EXPECT_TRUE(at::equal(reread->at(name), tensor)) << name;
  EXPECT_EQ(reread->at("classifier.weight").size(0), 2) << "the head has the task's labels";
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"}) {
    EXPECT_TRUE(runtime::PathExists(dir.path() + "/whole/" + name)) << name;
  }

  // Pipeline stages export shards and the index from_pretrained reads.
  TensorMap first, second;
  for (const auto& [name, tensor] : weights) ((*family)->PieceOf(name) < 1 ? first : second)[name] = tensor;
  ASSERT_TRUE(ExportModel(dir.path() + "/sharded", {first, second}, files).ok());
  const nlohmann::json index = ReadJson(dir.path() + "/sharded/model.safetensors.index.json");
  ASSERT_EQ(index["weight_map"].size(), weights.size());
  EXPECT_EQ(index["weight_map"]["bert.embeddings.word_embeddings.weight"], "model-00001-of-00002.safetensors");
  EXPECT_EQ(index["weight_map"]["classifier.weight"], "model-00002-of-00002.safetensors");
  auto sharded = LoadModelWeights(dir.path() + "/sharded");
  ASSERT_TRUE(sharded.ok()) << sharded.status().ToString();
  EXPECT_EQ(sharded->size(), weights.size());
}

TEST(ExportModel, AVocabOnlyTokenizerGetsAConfigNamingTheFamilysTokenizerClass) {
  testing::ScratchDir dir;
  auto vocab = runtime::ReadFileToString(std::string(TRAINRT_MINILM_DIR) + "/vocab.txt");
  ASSERT_TRUE(vocab.ok());
  dir.Write("tok/vocab.txt", *vocab);
  dir.Write("train/data.jsonl", "{\"text\": \"good\", \"label\": 1}\n{\"text\": \"bad\", \"label\": 0}\n");
  auto tokenizer = LoadTokenizer(dir.path() + "/tok");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  auto task = NewSequenceClassificationTask({});
  EncodedSet train, eval;
  ASSERT_TRUE(task->LoadData(dir.path() + "/train", "", **tokenizer, 16, train, eval).ok());
  auto family = ModelFamilyFromJson({{"model_type", "distilbert"}, {"dim", 8}, {"n_heads", 2}, {"n_layers", 1},
                                     {"hidden_dim", 16}, {"vocab_size", 30522}, {"max_position_embeddings", 64}},
                                    "config.json");
  ASSERT_TRUE(family.ok());
  auto model = (*family)->Build(task->head());
  ASSERT_TRUE(model.ok());
  const ModelFiles files{family->get(), (*model)->architecture(), task.get(), tokenizer->get(), ""};
  ASSERT_TRUE(ExportModel(dir.path() + "/out", {ModelWeights(**model)}, files).ok());
  const nlohmann::json tc = ReadJson(dir.path() + "/out/tokenizer_config.json");
  EXPECT_EQ(tc["tokenizer_class"], "DistilBertTokenizer");
  EXPECT_EQ(tc["model_max_length"], 64);
  EXPECT_EQ(ReadJson(dir.path() + "/out/config.json")["id2label"], (nlohmann::json{{"0", "LABEL_0"}, {"1", "LABEL_1"}}));
}

}  // namespace
}  // namespace trainrt::trainer
