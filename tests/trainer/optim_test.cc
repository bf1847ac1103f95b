// trainer/optim: AdamW equals torch.optim.AdamW (fused) bit for bit, and its state round-trips;
// the fp16 loss scaler follows GradScaler's rules (skip on overflow, halve, grow after 2000); the
// learning-rate schedules equal transformers' lambdas at every step.
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/trainer/python_fixture.h"
#include "trainer/optim/adamw.h"
#include "trainer/optim/loss_scaler.h"
#include "trainer/optim/lr_schedule.h"

namespace trainrt::trainer {
namespace {

at::Tensor FromJson(const nlohmann::json& values, const nlohmann::json& shape) {
  return at::tensor(values.get<std::vector<double>>(), at::kDouble).to(at::kFloat).reshape(shape.get<std::vector<int64_t>>());
}

TEST(AdamW, StepsEqualTorchFusedAdamWAndResumeFromSavedState) {
  testing::PythonFixture fixture("scripts/model/adamw_reference.py");
  ASSERT_TRUE(fixture.ok()) << "scripts/model/adamw_reference.py failed";
  const nlohmann::json& e = fixture.expected();
  auto make = [&](std::vector<at::Tensor>& params) {
    params = {FromJson(e["init"][0], e["shapes"][0]), FromJson(e["init"][1], e["shapes"][1])};
    auto opt = std::make_unique<AdamW>(AdamWOptions{0.9, 0.999, 1e-8});
    opt->AddGroup({{"a", params[0]}}, 0.01);
    opt->AddGroup({{"b", params[1]}}, 0.0);
    return opt;
  };
  auto step = [&](AdamW& opt, std::vector<at::Tensor>& params, size_t k) {
    for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = FromJson(e["grads"][k][i], e["shapes"][i]);
    opt.Step(e["lrs"][k].get<double>());
    opt.ZeroGrad();
  };
  std::vector<at::Tensor> params;
  auto opt = make(params);
  EXPECT_FALSE(opt->has_state());
  EXPECT_TRUE(opt->SaveState().empty());
  std::map<std::string, at::Tensor> after_first;
  for (size_t k = 0; k < 3; ++k) {
    step(*opt, params, k);
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(at::equal(params[i], FromJson(e["after"][k][i], e["shapes"][i]))) << "step " << k + 1 << ", parameter " << i;
    }
    if (k == 0) after_first = opt->SaveState();
  }
  const auto state = opt->SaveState();
  EXPECT_TRUE(at::equal(state.at("a.exp_avg"), FromJson(e["exp_avg"], e["shapes"][0])));
  EXPECT_TRUE(at::equal(state.at("a.exp_avg_sq"), FromJson(e["exp_avg_sq"], e["shapes"][0])));
  EXPECT_EQ(state.at("a.step").item<float>(), e["step"].get<float>());
  EXPECT_EQ(state.size(), 6u);  // exp_avg, exp_avg_sq and step of both parameters

  // A fresh optimizer given the state after step 1 (and the weights then) continues exactly.
  std::vector<at::Tensor> resumed_params;
  auto resumed = make(resumed_params);
  for (size_t i = 0; i < resumed_params.size(); ++i) resumed_params[i].copy_(FromJson(e["after"][0][i], e["shapes"][i]));
  ASSERT_TRUE(resumed->LoadState(after_first).ok());
  step(*resumed, resumed_params, 1);
  step(*resumed, resumed_params, 2);
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(at::equal(resumed_params[i], params[i])) << "parameter " << i;

  auto wrong = after_first;
  wrong["a.exp_avg"] = at::zeros({2, 2});
  EXPECT_EQ(make(resumed_params)->LoadState(wrong).ToString(), "optimizer state 'a.exp_avg' has the wrong shape");
  wrong = after_first;
  wrong.erase("b.step");
  EXPECT_NE(make(resumed_params)->LoadState(wrong).ToString().find("'b.step' missing"), std::string::npos);
}

TEST(AdamW, ParametersWithoutGradientsAreLeftAlone) {
  at::Tensor a = at::ones({2}), b = at::ones({2});
  AdamW opt(AdamWOptions{});
  opt.AddGroup({{"a", a}, {"b", b}}, 0.1);
  a.mutable_grad() = at::ones({2});
  opt.Step(0.1);
  EXPECT_TRUE(at::equal(b, at::ones({2})));
  EXPECT_FALSE(at::equal(a, at::ones({2})));
  EXPECT_EQ(opt.SaveState().at("b.step").item<float>(), 0.0f);
}

TEST(LossScaler, SkipsOverflowedStepsHalvesAndGrowsAsGradScaler) {
  LossScaler scaler(/*enabled=*/true, at::kCPU);
  EXPECT_EQ(scaler.scale().item<float>(), 65536.0f);
  EXPECT_EQ(scaler.Scale(at::full({}, 2.0)).item<float>(), 131072.0f);
  at::Tensor p = at::zeros({3});
  p.mutable_grad() = at::full({3}, 65536.0);
  EXPECT_TRUE(scaler.Unscale({p}));
  EXPECT_TRUE(at::equal(p.grad(), at::ones({3})));
  scaler.Update();
  EXPECT_EQ(scaler.scale().item<float>(), 65536.0f);
  EXPECT_EQ(scaler.growth_tracker().item<int>(), 1);

  p.mutable_grad() = at::tensor({1.0f, INFINITY, 0.0f});
  EXPECT_FALSE(scaler.Unscale({p}));  // the step must be skipped
  scaler.Update();
  EXPECT_EQ(scaler.scale().item<float>(), 32768.0f);
  EXPECT_EQ(scaler.growth_tracker().item<int>(), 0);

  for (int i = 0; i < 2000; ++i) {
    p.mutable_grad() = at::ones({3});
    ASSERT_TRUE(scaler.Unscale({p}));
    scaler.Update();
  }
  EXPECT_EQ(scaler.scale().item<float>(), 65536.0f);  // doubled after 2000 finite steps

  LossScaler restored(true, at::kCPU);
  restored.Restore(scaler.scale(), scaler.growth_tracker());
  EXPECT_EQ(restored.scale().item<float>(), 65536.0f);

  LossScaler off(/*enabled=*/false, at::kCPU);
  p.mutable_grad() = at::tensor({NAN});
  EXPECT_TRUE(off.Unscale({p}));  // without fp16 nothing is checked or scaled
  EXPECT_EQ(off.Scale(at::full({}, 2.0)).item<float>(), 2.0f);
}

TEST(LrSchedule, EveryScheduleEqualsTransformersAtEveryStep) {
  testing::PythonFixture fixture("scripts/optim/lr_schedule_reference.py");
  ASSERT_TRUE(fixture.ok()) << "scripts/optim/lr_schedule_reference.py failed";
  ASSERT_GE(fixture.expected().size(), 80u);
  for (const auto& c : fixture.expected()) {
    for (const char* name : {"linear", "cosine", "constant", "constant_with_warmup"}) {
      LrSchedule schedule;
      ASSERT_TRUE(ParseLrSchedule(name, schedule));
      EXPECT_EQ(ScheduleFactor(schedule, c["step"], c["warmup"], c["total"]), c[name].get<double>())
          << name << " at step " << c["step"] << " (warmup " << c["warmup"] << ", total " << c["total"] << ")";
    }
  }
  LrSchedule unused;
  EXPECT_FALSE(ParseLrSchedule("cosine_with_restarts", unused));
}

}  // namespace
}  // namespace trainrt::trainer
