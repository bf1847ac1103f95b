#include "trainer/optim/loss_scaler.h"

#include <ATen/ATen.h>

namespace trainrt::trainer {

LossScaler::LossScaler(bool enabled, const c10::Device& device) : enabled_(enabled) {
  if (!enabled) return;
  scale_ = at::full({}, 65536.0, at::TensorOptions().dtype(at::kFloat).device(device));
  growth_tracker_ = at::zeros({}, at::TensorOptions().dtype(at::kInt).device(device));
  found_inf_ = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device));
}

at::Tensor LossScaler::Scale(const at::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool LossScaler::Unscale(const std::vector<at::Tensor>& params) {
  if (!enabled_) return true;
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  found_inf_.zero_();
  at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, scale_.reciprocal());
  return found_inf_.item<float>() == 0.0f;
}

void LossScaler::Update() {
  if (enabled_) at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, 2.0, 0.5, 2000);
}

void LossScaler::Restore(const at::Tensor& scale, const at::Tensor& growth_tracker) {
  if (!enabled_) return;
  scale_.copy_(scale);
  growth_tracker_.copy_(growth_tracker);
}

}  // namespace trainrt::trainer
