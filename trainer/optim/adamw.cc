#include "trainer/optim/adamw.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace trainrt::trainer {

void AdamW::AddGroup(std::vector<at::Tensor> params, double weight_decay) {
  Group g;
  g.params = std::move(params);
  g.weight_decay = weight_decay;
  groups_.push_back(std::move(g));
}

void AdamW::Step(double lr) {
  at::NoGradGuard no_grad;
  for (Group& g : groups_) {
    if (g.exp_avg.empty()) {
      for (const at::Tensor& p : g.params) {
        g.exp_avg.push_back(at::zeros_like(p, at::MemoryFormat::Preserve));
        g.exp_avg_sq.push_back(at::zeros_like(p, at::MemoryFormat::Preserve));
        g.step.push_back(at::zeros({}, p.options().dtype(at::kFloat)));
      }
    }
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

void AdamW::ZeroGrad() {
  for (Group& g : groups_) {
    for (at::Tensor& p : g.params) p.mutable_grad() = at::Tensor();
  }
}

}  // namespace trainrt::trainer
