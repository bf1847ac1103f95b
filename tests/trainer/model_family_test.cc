// Our BERT and DistilBERT give transformers' logits (to 1e-4) for the same weights and inputs;
// real checkpoints load by name, with missing and unexpected tensors reported as transformers does;
// each family says which pipeline piece holds a parameter and which decay.
#include "trainer/model/model_family.h"

#include <cstdlib>
#include <fstream>
#include <map>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/trainer/python_fixture.h"
#include "trainer/task/sequence_classification.h"

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
    auto family = LoadModelFamily(fixture_->path() + "/" + name + "/config.json");
    ASSERT_TRUE(family.ok()) << family.status().ToString();
    auto model = (*family)->Build({HeadKind::kSequenceClassification, NumLabelsOf((*family)->config())});
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
    auto report = LoadWeights(**family, **model, *weights);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->missing.empty()) << report->missing.front();
    EXPECT_TRUE(report->unexpected.empty()) << report->unexpected.front();
    (*model)->eval();
    at::NoGradGuard no_grad;
    const nlohmann::json& e = fixture_->expected();
    at::Tensor logits = (*model)->forward({ToTensor(e["input_ids"], at::kLong), ToTensor(e["attention_mask"], at::kLong),
                                           ToTensor(e["token_type_ids"], at::kLong), /*position_ids=*/{}, /*segment_ids=*/{}});
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

TEST(ModelFamily, RealMiniLmCheckpointLoadsWithAFreshHead) {
  auto family = LoadModelFamily(std::string(TRAINRT_MINILM_DIR) + "/config.json");
  ASSERT_TRUE(family.ok()) << family.status().ToString();
  EXPECT_EQ((*family)->model_type(), "bert");
  EXPECT_EQ((*family)->dims().hidden_size, 384);
  auto model = (*family)->Build({HeadKind::kSequenceClassification, 2});
  ASSERT_TRUE(model.ok());
  auto weights = LoadModelWeights(TRAINRT_MINILM_DIR);
  ASSERT_TRUE(weights.ok());
  auto report = LoadWeights(**family, **model, *weights);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->missing, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  EXPECT_TRUE(report->unexpected.empty()) << report->unexpected.front();
}

TEST(ModelFamily, ShapeMismatchAndUnknownTypesAreClearErrors) {
  auto config = ModelFamilyFromJson(nlohmann::json{{"model_type", "mamba"}}, "config.json");
  EXPECT_EQ(config.status().ToString(), "config.json: field 'model_type': 'mamba' is not supported (expected bert, distilbert, gpt2, llama, "
            "mistral, qwen2 or qwen3)");
  auto tiny = ModelFamilyFromJson(nlohmann::json{{"model_type", "bert"}, {"hidden_size", 8}, {"num_attention_heads", 2},
                                                 {"num_hidden_layers", 1}, {"intermediate_size", 16}, {"vocab_size", 10}},
                                  "config.json");
  ASSERT_TRUE(tiny.ok()) << tiny.status().ToString();
  auto model = (*tiny)->Build({HeadKind::kSequenceClassification, 2});
  ASSERT_TRUE(model.ok());
  TensorMap wrong = {{"bert.embeddings.word_embeddings.weight", at::zeros({11, 8})}};
  auto report = LoadWeights(**tiny, **model, wrong);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().ToString(),
            "weight 'bert.embeddings.word_embeddings.weight' has shape [11, 8], the model expects [10, 8]");
}

// What the pipeline split, the optimizer and the gradient sync ask of a family, for every
// parameter of both families: its piece, whether it decays, which table may travel as rows.
TEST(ModelFamily, PiecesDecayAndRowSparseTableComeFromTheFamily) {
  const nlohmann::json bert = {{"model_type", "bert"}, {"hidden_size", 8}, {"num_attention_heads", 2},
                               {"num_hidden_layers", 3}, {"intermediate_size", 16}, {"vocab_size", 10}};
  const nlohmann::json distil = {{"model_type", "distilbert"}, {"dim", 8}, {"n_heads", 2}, {"n_layers", 3},
                                 {"hidden_dim", 16}, {"vocab_size", 10}};
  for (const auto& config : {bert, distil}) {
    auto family = ModelFamilyFromJson(config, "config.json");
    ASSERT_TRUE(family.ok()) << family.status().ToString();
    auto model = (*family)->Build({HeadKind::kSequenceClassification, 3});
    ASSERT_TRUE(model.ok());
    const std::string base = (*family)->base_prefix();
    std::map<int64_t, int> per_piece;
    for (const auto& item : (*model)->named_parameters()) {
      const std::string& name = item.key();
      const int64_t piece = (*family)->PieceOf(name);
      ++per_piece[piece];
      if (name.rfind(base + ".embeddings.", 0) == 0) {
        EXPECT_EQ(piece, -1) << name;
      } else if (name.find(".layer.") != std::string::npos) {
        const size_t at = name.find(".layer.") + 7;
        EXPECT_EQ(piece, std::stoll(name.substr(at))) << name;
      } else {
        EXPECT_EQ(piece, 3) << name;  // the head
      }
      const bool norm_or_bias = name.find("bias") != std::string::npos || name.find("LayerNorm") != std::string::npos ||
                                name.find("layer_norm") != std::string::npos;
      EXPECT_EQ((*family)->DecaysWeight(name), !norm_or_bias) << name;
    }
    EXPECT_EQ(per_piece.size(), 5u) << base << ": embeddings, 3 layers, head";
    EXPECT_EQ((*family)->RowSparseEmbedding(), base + ".embeddings.word_embeddings.weight");
    EXPECT_EQ((*model)->architecture(), base == "bert" ? "BertForSequenceClassification" : "DistilBertForSequenceClassification");
    // The whole forward is Embed, every Layer, Head: the pieces a pipeline runs.
    (*model)->eval();
    at::NoGradGuard no_grad;
    const ModelInputs in{at::tensor({1, 4, 5, 2}, at::kLong).reshape({1, 4}), at::ones({1, 4}, at::kLong), at::Tensor(),
                         at::Tensor(), at::Tensor()};
    at::Tensor h = (*model)->Embed(in);
    const LayerContext context = (*model)->LayerContextFor(in, h.scalar_type());
    for (int64_t i = 0; i < (*model)->num_layers(); ++i) h = (*model)->Layer(i, h, context);
    EXPECT_TRUE(at::equal((*model)->Head(h), (*model)->forward(in))) << base;
  }
}

}  // namespace
}  // namespace trainrt::trainer
