// Global-norm gradient clipping as torch's clip_grad_norm_ (foreach path), without a host
// synchronisation: the pre-clip total L2 norm comes back as a tensor (logged as grad_norm).
#ifndef TRAINRT_TRAINER_OPTIM_GRAD_CLIP_H_
#define TRAINRT_TRAINER_OPTIM_GRAD_CLIP_H_

#include <vector>

#include <ATen/core/Tensor.h>

namespace trainrt::trainer {

// Scales every gradient by min(1, max_norm / (norm + 1e-6)) when max_norm > 0.
at::Tensor ClipGradNorm(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_OPTIM_GRAD_CLIP_H_
