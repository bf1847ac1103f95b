// LossScaler: fp16 dynamic loss scaling, as torch's GradScaler: scale the loss, unscale the
// gradients and detect overflow before the step, grow the scale after 2000 good steps, halve it
// on overflow. A no-op without fp16. Its state (scale, growth tracker) goes into checkpoints.
#ifndef TRAINRT_TRAINER_OPTIM_LOSS_SCALER_H_
#define TRAINRT_TRAINER_OPTIM_LOSS_SCALER_H_

#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace trainrt::trainer {

class LossScaler {
 public:
  LossScaler(bool enabled, const c10::Device& device);
  at::Tensor Scale(const at::Tensor& loss) const;
  // Unscales every gradient in place; false when one is inf or NaN (the step must be skipped).
  bool Unscale(const std::vector<at::Tensor>& params);
  void Update();
  bool enabled() const { return enabled_; }
  // scale and growth_tracker, for checkpoints (undefined tensors when disabled).
  at::Tensor scale() const { return scale_; }
  at::Tensor growth_tracker() const { return growth_tracker_; }
  void Restore(const at::Tensor& scale, const at::Tensor& growth_tracker);

 private:
  bool enabled_;
  at::Tensor scale_, growth_tracker_, found_inf_;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_OPTIM_LOSS_SCALER_H_
