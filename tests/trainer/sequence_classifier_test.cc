// Our BERT and DistilBERT give transformers' logits (to 1e-4) for the same weights and inputs;
// real checkpoints load by name, with missing and unexpected tensors reported as transformers does.
#include "trainer/model/sequence_classifier.h"

#include <cstdlib>
#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/trainer/python_fixture.h"

namespace trainrt::trainer {
namespace {

at::Tensor ToTensor(const nlohmann::json& rows, at::ScalarType dtype) {
  std::vector<double> flat;
  for (const auto& row : rows) {
    for (const auto& v : row) flat.push_back(v.get<double>());
  }
  return at::tensor(flat, at::kDouble).reshape({static_cast<int64_t>(rows.size()), -1}).to(dtype);
}

class TinyModels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new testing::PythonFixture("scripts/model/make_tiny_models.py");
    ASSERT_TRUE(fixture_->ok()) << "scripts/model/make_tiny_models.py failed";
  }
  static void TearDownTestSuite() { delete fixture_; }
  // `legacy_names`: the checkpoint's LayerNorm parameters renamed gamma/beta, as in checkpoints
  // converted from TensorFlow (bert-base-uncased), which transformers loads the same.
  void ExpectLogits(const std::string& name, bool legacy_names = false) {
    auto config = ModelConfig::Load(fixture_->path() + "/" + name + "/config.json");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto model = BuildSequenceClassifier(*config);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto weights = LoadModelWeights(fixture_->path() + "/" + name);
    ASSERT_TRUE(weights.ok()) << weights.status().ToString();
    if (legacy_names) {
      TensorMap renamed;
      int legacy = 0;
      for (const auto& [key, tensor] : *weights) {
        std::string k = key;
        for (const auto& [from, to] : {std::pair<std::string, std::string>{"LayerNorm.weight", "LayerNorm.gamma"},
                                       {"LayerNorm.bias", "LayerNorm.beta"}}) {
          if (const size_t at = k.find(from); at != std::string::npos) k.replace(at, from.size(), to), ++legacy;
        }
        renamed[k] = tensor;
      }
      ASSERT_GT(legacy, 0);
      *weights = renamed;
    }
    auto report = LoadWeights(**model, *weights);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->missing.empty()) << report->missing.front();
    EXPECT_TRUE(report->unexpected.empty()) << report->unexpected.front();
    (*model)->eval();
    at::NoGradGuard no_grad;
    const nlohmann::json& e = fixture_->expected();
    at::Tensor logits = (*model)->forward(ToTensor(e["input_ids"], at::kLong), ToTensor(e["attention_mask"], at::kLong),
                                          ToTensor(e["token_type_ids"], at::kLong));
    at::Tensor want = ToTensor(e[name], at::kFloat);
    ASSERT_EQ(logits.sizes(), want.sizes());
    const double diff = (logits - want).abs().max().item<double>();
    EXPECT_LT(diff, 1e-4) << name << ": max |logit difference| " << diff;
  }
  static testing::PythonFixture* fixture_;
};
testing::PythonFixture* TinyModels::fixture_ = nullptr;

TEST_F(TinyModels, DistilBertLogitsEqualTransformers) { ExpectLogits("distilbert"); }
TEST_F(TinyModels, BertLogitsEqualTransformers) { ExpectLogits("bert"); }
TEST_F(TinyModels, LegacyGammaBetaLayerNormNamesLoad) { ExpectLogits("bert", /*legacy_names=*/true); }

TEST(SequenceClassifier, RealMiniLmCheckpointLoadsWithAFreshHead) {
  auto config = ModelConfig::Load(std::string(TRAINRT_MINILM_DIR) + "/config.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->family, ModelFamily::kBert);
  EXPECT_EQ(config->hidden_size, 384);
  auto model = BuildSequenceClassifier(*config);
  ASSERT_TRUE(model.ok());
  auto weights = LoadModelWeights(TRAINRT_MINILM_DIR);
  ASSERT_TRUE(weights.ok());
  auto report = LoadWeights(**model, *weights);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->missing, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  EXPECT_TRUE(report->unexpected.empty()) << report->unexpected.front();
}

TEST(SequenceClassifier, ShapeMismatchAndUnknownTypesAreClearErrors) {
  auto config = ModelConfig::FromJson(nlohmann::json{{"model_type", "gpt2"}}, "config.json");
  EXPECT_EQ(config.status().ToString(), "config.json: field 'model_type': 'gpt2' is not supported (expected bert or distilbert)");
  auto tiny = ModelConfig::FromJson(nlohmann::json{{"model_type", "bert"}, {"hidden_size", 8}, {"num_attention_heads", 2},
                                                   {"num_hidden_layers", 1}, {"intermediate_size", 16}, {"vocab_size", 10}},
                                    "config.json");
  ASSERT_TRUE(tiny.ok()) << tiny.status().ToString();
  auto model = BuildSequenceClassifier(*tiny);
  ASSERT_TRUE(model.ok());
  TensorMap wrong = {{"bert.embeddings.word_embeddings.weight", at::zeros({11, 8})}};
  auto report = LoadWeights(**model, wrong);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().ToString(),
            "weight 'bert.embeddings.word_embeddings.weight' has shape [11, 8], the model expects [10, 8]");
}

}  // namespace
}  // namespace trainrt::trainer
