#include "trainer/optim/adamw.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace trainrt::trainer {

void AdamW::AddGroup(std::vector<std::pair<std::string, at::Tensor>> named_params, double weight_decay) {
  Group g;
  for (auto& [name, param] : named_params) {
    g.names.push_back(name);
    g.params.push_back(param);
  }
  g.weight_decay = weight_decay;
  groups_.push_back(std::move(g));
}

void AdamW::InitState() {
  for (Group& g : groups_) {
    if (!g.exp_avg.empty()) continue;
    for (const at::Tensor& p : g.params) {
      g.exp_avg.push_back(at::zeros_like(p, at::MemoryFormat::Preserve));
      g.exp_avg_sq.push_back(at::zeros_like(p, at::MemoryFormat::Preserve));
      g.step.push_back(at::zeros({}, p.options().dtype(at::kFloat)));
    }
  }
}

std::map<std::string, at::Tensor> AdamW::LiveState() {
  InitState();
  std::map<std::string, at::Tensor> state;
  for (Group& g : groups_) {
    for (size_t i = 0; i < g.params.size(); ++i) {
      state[g.names[i] + ".exp_avg"] = g.exp_avg[i];
      state[g.names[i] + ".exp_avg_sq"] = g.exp_avg_sq[i];
      state[g.names[i] + ".step"] = g.step[i];
    }
  }
  return state;
}

void AdamW::Step(double lr) {
  at::NoGradGuard no_grad;
  InitState();
  for (Group& g : groups_) {
    std::vector<at::Tensor> params, grads, exp_avg, exp_avg_sq, steps;
    for (size_t i = 0; i < g.params.size(); ++i) {
      if (!g.params[i].grad().defined()) continue;
      params.push_back(g.params[i]);
      grads.push_back(g.params[i].grad());
      exp_avg.push_back(g.exp_avg[i]);
      exp_avg_sq.push_back(g.exp_avg_sq[i]);
      steps.push_back(g.step[i]);
    }
    if (params.empty()) continue;
    // The fused kernel does not advance step counts (torch's optimizer does it before the call).
    at::_foreach_add_(steps, 1);
    at::_fused_adamw_(params, grads, exp_avg, exp_avg_sq, /*max_exp_avg_sqs=*/{}, steps, lr, options_.beta1,
                      options_.beta2, g.weight_decay, options_.eps, /*amsgrad=*/false, /*maximize=*/false);
  }
}

std::map<std::string, at::Tensor> AdamW::SaveState() {
  if (!has_state()) return {};
  std::map<std::string, at::Tensor> state = LiveState();
  for (auto& [name, tensor] : state) tensor = tensor.detach().to(at::kCPU, /*non_blocking=*/false, /*copy=*/true);
  return state;
}

runtime::Status AdamW::LoadState(const std::map<std::string, at::Tensor>& state) {
  if (state.empty()) return runtime::Status::Ok();  // saved before the first step
  at::NoGradGuard no_grad;
  for (Group& g : groups_) {
    g.exp_avg.clear();
    g.exp_avg_sq.clear();
    g.step.clear();
    for (size_t i = 0; i < g.params.size(); ++i) {
      for (const char* suffix : {".exp_avg", ".exp_avg_sq", ".step"}) {
        auto it = state.find(g.names[i] + suffix);
        if (it == state.end()) return runtime::Status::NotFound("optimizer state '" + g.names[i] + suffix + "' missing");
        const bool is_step = std::string(suffix) == ".step";
        if (!is_step && it->second.sizes() != g.params[i].sizes()) {
          return runtime::Status::InvalidArgument("optimizer state '" + g.names[i] + suffix + "' has the wrong shape");
        }
        at::Tensor t = is_step ? it->second.to(g.params[i].device(), at::kFloat, false, true)
                               : it->second.to(g.params[i].device(), g.params[i].scalar_type(), false, true);
        (is_step ? g.step : std::string(suffix) == ".exp_avg" ? g.exp_avg : g.exp_avg_sq).push_back(t);
      }
    }
  }
  return runtime::Status::Ok();
}

void AdamW::ZeroGrad() {
  for (Group& g : groups_) {
    for (at::Tensor& p : g.params) p.mutable_grad() = at::Tensor();
  }
}

}  // namespace trainrt::trainer
