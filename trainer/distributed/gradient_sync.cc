#include "trainer/distributed/gradient_sync.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

namespace trainrt::trainer {

GradientSynchronizer::GradientSynchronizer(Collectives& collectives, std::vector<at::Tensor> params,
                                           size_t first_bucket_bytes, size_t bucket_bytes)
    : collectives_(collectives), params_(std::move(params)) {
  bucket_of_.resize(params_.size());
  ready_.assign(params_.size(), false);
  // Reverse model order: the last layers' gradients are ready first.
  size_t cap = first_bucket_bytes, bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const size_t size = static_cast<size_t>(params_[k].numel()) * params_[k].element_size();
    const bool fits = !buckets_.empty() && bytes + size <= cap &&
                      params_[buckets_.back().params.front()].scalar_type() == params_[k].scalar_type();
    if (!fits) {
      if (!buckets_.empty()) cap = bucket_bytes;
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + params_[b.params.back()].numel());
    b.params.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    bytes += size;
  }
  for (Bucket& b : buckets_) {
    const at::Tensor& last = params_[b.params.back()];
    b.flat = at::zeros({b.offsets.back() + last.numel()}, last.options());
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    std::shared_ptr<torch::autograd::Node> acc = torch::autograd::impl::grad_accumulator(params_[k]);
    acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [this, k](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          OnGradReady(k);
          return outputs;
        }));
    accumulators_.push_back(std::move(acc));  // a parameter holds only a weak pointer to it
  }
}

GradientSynchronizer::~GradientSynchronizer() = default;

void GradientSynchronizer::OnGradReady(size_t param) {
  if (!sync_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (ready_[param]) return;
  ready_[param] = true;
  ++buckets_[bucket_of_[param]].ready;
  LaunchReady();
}

void GradientSynchronizer::LaunchReady() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].ready == buckets_[next_launch_].params.size()) {
    Launch(buckets_[next_launch_], next_launch_);
    ++next_launch_;
  }
}

void GradientSynchronizer::Launch(Bucket& b, size_t index) {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < b.params.size(); ++i) {
    const at::Tensor& grad = params_[b.params[i]].grad();
    at::Tensor slot = b.flat.narrow(0, b.offsets[i], params_[b.params[i]].numel());
    if (grad.defined()) {
      slot.copy_(grad.reshape({-1}));
    } else {
      slot.zero_();
    }
  }
  b.flat.div_(static_cast<double>(collectives_.size()));
  std::vector<at::Tensor> tensors{b.flat};
  b.pending = collectives_.AllReduceSumAsync(tensors, "all_reduce of gradient bucket " + std::to_string(index));
}

void GradientSynchronizer::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (; next_launch_ < buckets_.size(); ++next_launch_) Launch(buckets_[next_launch_], next_launch_);
  }
  at::NoGradGuard no_grad;
  for (Bucket& b : buckets_) {
    b.pending.Wait();
    for (size_t i = 0; i < b.params.size(); ++i) {
      at::Tensor& param = params_[b.params[i]];
      at::Tensor average = b.flat.narrow(0, b.offsets[i], param.numel()).view(param.sizes());
      if (param.grad().defined()) {
        param.mutable_grad().copy_(average);
      } else {
        param.mutable_grad() = average.clone();
      }
    }
    b.ready = 0;
  }
  std::fill(ready_.begin(), ready_.end(), false);
  next_launch_ = 0;
}

}  // namespace trainrt::trainer
