#include "trainer/distributed/gradient_sync.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

namespace trainrt::trainer {

GradientSynchronizer::GradientSynchronizer(Collectives& collectives, std::vector<at::Tensor> params,
                                           std::optional<size_t> lookup_table, size_t first_bucket_bytes,
                                           size_t bucket_bytes)
    : collectives_(collectives), params_(std::move(params)), lookup_table_(lookup_table) {
  bucket_of_.resize(params_.size());
  ready_.assign(params_.size(), false);
  // Reverse model order: the last layers' gradients are ready first. The lookup table has a bucket
  // of its own.
  size_t cap = first_bucket_bytes, bytes = 0;
  bool alone = false;  // the last bucket is the lookup table's
  for (size_t k = params_.size(); k-- > 0;) {
    const size_t size = static_cast<size_t>(params_[k].numel()) * params_[k].element_size();
    const bool table = lookup_table_ == k;
    const bool fits = !buckets_.empty() && !table && !alone && bytes + size <= cap &&
                      params_[buckets_.back().params.front()].scalar_type() == params_[k].scalar_type();
    if (!fits) {
      if (!buckets_.empty()) cap = bucket_bytes;
      buckets_.emplace_back();
      bytes = 0;
    }
    alone = table;
    Bucket& b = buckets_.back();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + params_[b.params.back()].numel());
    b.params.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    bytes += size;
  }
  if (lookup_table_) {
    const at::Tensor& table = params_[*lookup_table_];
    looked_up_ = at::zeros({table.size(0)}, table.options().dtype(at::kInt));
  }
  for (Bucket& b : buckets_) {
    if (lookup_table_ == b.params.front()) continue;
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

void GradientSynchronizer::NoteLookups(const at::Tensor& ids) {
  if (!lookup_table_) return;
  at::NoGradGuard no_grad;
  looked_up_.index_fill_(0, ids.reshape({-1}).to(looked_up_.device()), 1);
}

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
  if (index == 0 && lookup_table_) {
    // Every micro-batch's lookups are noted by now; the rows' union travels ahead of the buckets.
    std::vector<at::Tensor> mask{looked_up_};
    looked_up_sum_ = collectives_.AllReduceSumAsync(mask, "all_reduce of the looked-up embedding rows");
  }
  if (lookup_table_ == b.params.front()) return LaunchLookupTable(b, index);
  // Copied and scaled in one pass (DDP's mul_out), so the sum that comes back is the average.
  const at::Scalar scale = 1.0 / static_cast<double>(collectives_.size());
  for (size_t i = 0; i < b.params.size(); ++i) {
    const at::Tensor& grad = params_[b.params[i]].grad();
    at::Tensor slot = b.flat.narrow(0, b.offsets[i], params_[b.params[i]].numel());
    if (grad.defined()) {
      at::mul_out(slot, grad.reshape({-1}), scale);
    } else {
      slot.zero_();
    }
  }
  std::vector<at::Tensor> tensors{b.flat};
  b.pending = collectives_.AllReduceSumAsync(tensors, "all_reduce of gradient bucket " + std::to_string(index));
}

void GradientSynchronizer::LaunchLookupTable(Bucket& b, size_t index) {
  looked_up_sum_.Wait();
  const at::Tensor& table = params_[b.params.front()];
  b.rows = looked_up_.nonzero().squeeze(1);
  b.values = table.grad().defined() ? table.grad().index_select(0, b.rows)
                                    : at::zeros({b.rows.size(0), table.size(1)}, table.options());
  b.values.div_(static_cast<double>(collectives_.size()));
  std::vector<at::Tensor> tensors{b.values};
  b.pending = collectives_.AllReduceSumAsync(
      tensors, "all_reduce of gradient bucket " + std::to_string(index) + " (" + std::to_string(b.rows.size(0)) +
                   " embedding rows)");
}

void GradientSynchronizer::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (; next_launch_ < buckets_.size(); ++next_launch_) Launch(buckets_[next_launch_], next_launch_);
  }
  at::NoGradGuard no_grad;
  for (Bucket& b : buckets_) {
    b.pending.Wait();
    if (lookup_table_ == b.params.front()) {
      at::Tensor& table = params_[b.params.front()];
      if (!table.grad().defined()) table.mutable_grad() = at::zeros_like(table);
      table.mutable_grad().index_copy_(0, b.rows, b.values);
      b.rows = b.values = at::Tensor();
    } else {
      // The averages stay where the all-reduce left them: no copy back (the gradients are set to
      // none before the next backward writes the buckets again).
      for (size_t i = 0; i < b.params.size(); ++i) {
        at::Tensor& param = params_[b.params[i]];
        param.mutable_grad() = b.flat.narrow(0, b.offsets[i], param.numel()).view(param.sizes());
      }
    }
    b.ready = 0;
  }
  if (lookup_table_) looked_up_.zero_();
  std::fill(ready_.begin(), ready_.end(), false);
  next_launch_ = 0;
}

}  // namespace trainrt::trainer
