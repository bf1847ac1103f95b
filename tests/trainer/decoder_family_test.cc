// The decoder families (llama, mistral, qwen2, qwen3, gpt2) give transformers' logits (to 1e-4, fp32;
// under bf16 autocast, within bf16's own error) for the same weights and right-padded inputs, at every real token: grouped-query attention,
// head_dim, biases, tied and untied heads, and default, linear and llama3 rotary embeddings. They
// load every tensor by transformers' names, and say what the trainer asks of a family.
#include <cmath>
#include <set>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/trainer/python_fixture.h"
#include "trainer/model/model_family.h"

namespace trainrt::trainer {
namespace {

at::Tensor Ints(const nlohmann::json& rows) {
  std::vector<int64_t> flat;
  for (const auto& row : rows) {
    for (const auto& v : row) flat.push_back(v.get<int64_t>());
  }
  return at::tensor(flat, at::kLong).reshape({static_cast<int64_t>(rows.size()), -1});
}

at::Tensor Floats3(const nlohmann::json& batch) {
  std::vector<float> flat;
  int64_t t = 0, v = 0;
  for (const auto& row : batch) {
    t = static_cast<int64_t>(row.size());
    for (const auto& position : row) {
      v = static_cast<int64_t>(position.size());
      for (const auto& x : position) flat.push_back(x.get<float>());
    }
  }
  return at::tensor(flat, at::kFloat).reshape({static_cast<int64_t>(batch.size()), t, v});
}

class TinyDecoders : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new testing::PythonFixture("scripts/model/make_tiny_decoders.py");
    ASSERT_TRUE(fixture_->ok()) << "scripts/model/make_tiny_decoders.py failed";
  }
  static void TearDownTestSuite() { delete fixture_; }
  static testing::PythonFixture* fixture_;
};
testing::PythonFixture* TinyDecoders::fixture_ = nullptr;

TEST_P(TinyDecoders, LogitsEqualTransformersAtEveryRealToken) {
  const std::string name = GetParam();
  const nlohmann::json& e = fixture_->expected();
  const nlohmann::json& want = e[name];
  auto family = LoadModelFamily(fixture_->path() + "/" + name + "/config.json");
  ASSERT_TRUE(family.ok()) << family.status().ToString();
  EXPECT_EQ((*family)->model_type(), want["model_type"].get<std::string>());
  auto model = (*family)->Build({HeadKind::kCausalLM, 0});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->architecture(), want["architecture"].get<std::string>());
  std::set<std::string> names;
  for (const auto& item : (*model)->named_parameters()) names.insert(item.key());
  EXPECT_EQ(names, want["parameters"].get<std::set<std::string>>()) << "transformers' parameter names";
  auto weights = LoadModelWeights(fixture_->path() + "/" + name);
  ASSERT_TRUE(weights.ok()) << weights.status().ToString();
  auto report = LoadWeights(**family, **model, *weights);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->missing.empty()) << report->missing.front();
  EXPECT_TRUE(report->unexpected.empty()) << report->unexpected.front();

  (*model)->eval();
  at::NoGradGuard no_grad;
  const at::Tensor mask = Ints(e["attention_mask"]);
  const at::Tensor logits = (*model)->forward({Ints(e["input_ids"]), mask, /*token_type_ids=*/{}, /*position_ids=*/{}, /*segment_ids=*/{}});
  const at::Tensor expected = Floats3(want["logits"]);
  ASSERT_EQ(logits.sizes(), expected.sizes());
  const at::Tensor real = mask.to(at::kBool).unsqueeze(-1).expand_as(logits);
  const double diff = (logits - expected).abs().masked_select(real).max().item<double>();
  EXPECT_LT(diff, 1e-4) << name << ": max |logit difference| at real tokens " << diff;
  // Asked for some positions only, the head gives those positions' logits, in row-major order.
  ModelInputs some{Ints(e["input_ids"]), mask, {}, {}, {}, mask.to(at::kBool)};
  const at::Tensor picked = (*model)->forward(some);
  ASSERT_EQ(picked.dim(), 3);
  EXPECT_TRUE(at::allclose(picked[0], logits.index({mask.to(at::kBool)}), 1e-5, 1e-6)) << name;

  // Under bf16 autocast (--bf16 True, Trainer's bf16=True) the logits agree with transformers'
  // under the same autocast to bf16 tolerance: two bf16 steps (ulps) at the largest logit's
  // magnitude, where the fp32 logits are much closer (1e-4) and bf16 moves transformers' own by
  // more than one step's half.
  at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCPU, true);
  const at::Tensor low = (*model)->forward({Ints(e["input_ids"]), mask, {}, {}, {}}).to(at::kFloat);
  at::autocast::set_autocast_enabled(at::kCPU, false);
  at::autocast::clear_cache();
  const at::Tensor theirs_low = Floats3(want["logits_bf16"]);
  const double bf16_diff = (low - theirs_low).abs().masked_select(real).max().item<double>();
  const double bf16_noise = (theirs_low - expected).abs().masked_select(real).max().item<double>();
  const double ulp = std::ldexp(1.0, std::ilogb(theirs_low.abs().max().item<double>()) - 7);  // 7 mantissa bits
  EXPECT_GT(bf16_noise, ulp / 2) << name << ": transformers' bf16 logits are as its fp32 ones (autocast off?)";
  EXPECT_GT((low - logits).abs().max().item<double>(), 0.0) << name << ": our forward ignored the autocast";
  EXPECT_LE(bf16_diff, 2 * ulp) << name << ": bf16 logits differ from transformers' bf16 by " << bf16_diff
                                << ", more than two bf16 steps (" << 2 * ulp << ")";

  // What the trainer asks of the family: pieces for a pipeline, and whether the embedding
  // gradient may travel as rows (never with a tied head).
  const bool tied = want["tied"].get<bool>();
  EXPECT_EQ((*family)->RowSparseEmbedding().has_value(), !tied);
  EXPECT_EQ((*family)->ties_embeddings(), tied);
  const nlohmann::json& pieces = want["pieces"];
  EXPECT_EQ((*family)->PieceOf(pieces["embedding"].get<std::string>()), -1);
  EXPECT_EQ((*family)->PieceOf(pieces["layer1"].get<std::string>()), 1);
  EXPECT_EQ((*family)->PieceOf(pieces["final_norm"].get<std::string>()), 2);
  EXPECT_FALSE((*family)->DecaysWeight(pieces["final_norm"].get<std::string>()));
  EXPECT_TRUE((*family)->DecaysWeight(pieces["layer1"].get<std::string>()));
  EXPECT_TRUE((*family)->DecaysWeight(pieces["embedding"].get<std::string>()));
  // Every norm weight and bias is left undecayed, every other weight decays (Trainer's grouping).
  for (const std::string& name : names) {
    const bool norm_or_bias = name.find("norm") != std::string::npos || name.find(".ln_") != std::string::npos ||
                              name.find("bias") != std::string::npos;
    EXPECT_EQ((*family)->DecaysWeight(name), !norm_or_bias) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, TinyDecoders,
                         ::testing::Values("llama_gqa_tied", "llama3_rope", "llama_linear_rope", "mistral", "qwen2",
                                           "qwen3", "gpt2"));

TEST(DecoderFamilies, UnsupportedSettingsAreNamed) {
  const nlohmann::json base = {{"model_type", "llama"}, {"hidden_size", 16}, {"num_attention_heads", 4},
                               {"num_hidden_layers", 1}, {"intermediate_size", 32}, {"vocab_size", 50}};
  auto with = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json j = base;
    j[key] = value;
    return ModelFamilyFromJson(j, "config.json").status().ToString();
  };
  EXPECT_EQ(with("rope_scaling", {{"rope_type", "yarn"}, {"factor", 2.0}}),
            "config.json: field 'rope_scaling.rope_type': 'yarn' is not supported (expected default, linear or llama3)");
  EXPECT_EQ(with("rope_parameters", {{"rope_type", "llama3"}, {"factor", 8.0}}),
            "config.json: field 'rope_parameters.low_freq_factor': required for llama3");
  EXPECT_EQ(with("num_key_value_heads", 3), "config.json: num_attention_heads 4 is not a multiple of num_key_value_heads 3");
  EXPECT_EQ(with("hidden_act", "gelu"), "config.json: field 'hidden_act': 'gelu' is not supported (expected silu)");
  EXPECT_EQ(with("pad_token_id", 50), "config.json: field 'pad_token_id': 50 is not a token id below vocab_size 50");
  nlohmann::json mistral = base;
  mistral["model_type"] = "mistral";
  mistral["num_key_value_heads"] = 2;  // MistralConfig's default is 8
  mistral["sliding_window"] = 4096;
  EXPECT_NE(ModelFamilyFromJson(mistral, "config.json").status().ToString().find("sliding-window attention is not supported"),
            std::string::npos);
  mistral["sliding_window"] = nullptr;
  EXPECT_TRUE(ModelFamilyFromJson(mistral, "config.json").ok());
  auto llama = ModelFamilyFromJson(base, "config.json");
  ASSERT_TRUE(llama.ok());
  EXPECT_NE((*llama)->Build({HeadKind::kSequenceClassification, 2}).status().ToString().find("causal-LM head only"),
            std::string::npos);
}

}  // namespace
}  // namespace trainrt::trainer
