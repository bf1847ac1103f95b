// AdamW: torch.optim.AdamW's update (decoupled weight decay, bias-corrected moments), run by
// ATen's fused multi-tensor kernel, the one Hugging Face Trainer uses by default in transformers 5
// ("adamw_torch_fused"). Parameters come in groups that differ only in weight decay (which ones
// decay is the model family's say: ModelFamily::DecaysWeight). The state
// (step, exp_avg, exp_avg_sq per parameter) is plain tensors, for checkpoints. Not thread-safe.
#ifndef TRAINRT_TRAINER_OPTIM_ADAMW_H_
#define TRAINRT_TRAINER_OPTIM_ADAMW_H_

#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "runtime/status.h"

namespace trainrt::trainer {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class AdamW {
 public:
  struct Group {
    std::vector<std::string> names;  // the parameters' model names, for the saved state
    std::vector<at::Tensor> params;
    double weight_decay = 0.0;
    std::vector<at::Tensor> exp_avg, exp_avg_sq, step;  // filled lazily, like torch's state
  };

  explicit AdamW(AdamWOptions options) : options_(options) {}
  void AddGroup(std::vector<std::pair<std::string, at::Tensor>> named_params, double weight_decay);
  // One update at learning rate `lr` for every parameter that has a gradient.
  void Step(double lr);
  void ZeroGrad();  // sets gradients to undefined (torch's set_to_none=True)
  std::vector<Group>& groups() { return groups_; }

  // The state as CPU copies named "<parameter>.exp_avg", ".exp_avg_sq", ".step"; empty before the
  // first step. LoadState takes such a map back; the error names a missing or mis-shaped entry.
  std::map<std::string, at::Tensor> SaveState();
  runtime::Status LoadState(const std::map<std::string, at::Tensor>& state);
  bool has_state() const { return !groups_.empty() && !groups_[0].exp_avg.empty(); }
  // The live state tensors by SaveState's names (zeros when there was none yet): for sending and
  // receiving between ranks.
  std::map<std::string, at::Tensor> LiveState();

 private:
  void InitState();

  AdamWOptions options_;
  std::vector<Group> groups_;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_OPTIM_ADAMW_H_
