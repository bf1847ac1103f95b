// Gradient checkpointing changes memory, never what is learned: the loss and every parameter's
// gradient equal those of the plain forward, dropout included (the recomputation replays the
// forward's random state), for a decoder with padding and packed rows.
#include "trainer/model/activation_checkpoint.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "trainer/model/model_family.h"

namespace trainrt::trainer {
namespace {

struct LossRun {
  double loss = 0;
  std::vector<at::Tensor> grads;
};

LossRun LossAndGrads(const nlohmann::json& config, bool checkpointing, const ModelInputs& in) {
  auto family = ModelFamilyFromJson(config, "config.json");
  EXPECT_TRUE(family.ok()) << family.status().ToString();
  at::manual_seed(3);
  auto model = (*family)->Build({HeadKind::kCausalLM, 0});
  EXPECT_TRUE(model.ok());
  (*model)->train();
  (*model)->set_gradient_checkpointing(checkpointing);
  at::manual_seed(11);  // the same dropout draws for both runs
  const at::Tensor logits = (*model)->forward(in);
  const at::Tensor loss = logits.to(at::kFloat).log_softmax(-1).select(-1, 1).mul(in.attention_mask).sum().neg();
  loss.backward();
  LossRun r{loss.item<double>(), {}};
  for (const auto& p : (*model)->parameters()) r.grads.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
  return r;
}

class ActivationCheckpoint : public ::testing::TestWithParam<const char*> {};

TEST_P(ActivationCheckpoint, GradientsEqualThePlainForwards) {
  const std::string type = GetParam();
  nlohmann::json config = type == "gpt2"
                              ? nlohmann::json{{"model_type", "gpt2"}, {"n_embd", 16}, {"n_head", 4}, {"n_layer", 3},
                                               {"vocab_size", 40}, {"n_positions", 16}, {"resid_pdrop", 0.2},
                                               {"embd_pdrop", 0.1}, {"attn_pdrop", 0.1}}
                              : nlohmann::json{{"model_type", type}, {"hidden_size", 16}, {"num_attention_heads", 4},
                                               {"num_key_value_heads", 2}, {"num_hidden_layers", 3},
                                               {"intermediate_size", 32}, {"vocab_size", 40},
                                               {"max_position_embeddings", 16}, {"attention_dropout", 0.1}};
  ModelInputs in;
  in.input_ids = at::randint(0, 40, {2, 8}, at::kLong);
  in.attention_mask = at::ones({2, 8}, at::kLong);
  in.attention_mask[1].slice(0, 6).fill_(0);  // padding
  in.segment_ids = at::tensor({1, 1, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0}, at::kLong).reshape({2, 8});  // packed
  in.position_ids = at::tensor({0, 1, 2, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 0, 0}, at::kLong).reshape({2, 8});
  const LossRun plain = LossAndGrads(config, false, in), checkpointed = LossAndGrads(config, true, in);
  EXPECT_DOUBLE_EQ(plain.loss, checkpointed.loss);
  ASSERT_EQ(plain.grads.size(), checkpointed.grads.size());
  for (size_t k = 0; k < plain.grads.size(); ++k) {
    ASSERT_EQ(plain.grads[k].defined(), checkpointed.grads[k].defined()) << k;
    if (!plain.grads[k].defined()) continue;
    EXPECT_TRUE(at::allclose(plain.grads[k], checkpointed.grads[k], 1e-5, 1e-7)) << "parameter " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ActivationCheckpoint, ::testing::Values("llama", "qwen3", "gpt2"));

}  // namespace
}  // namespace trainrt::trainer
