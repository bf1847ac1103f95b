#include "trainer/model/layers.h"

#include <cctype>
#include <limits>

#include <ATen/ATen.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace trainrt::trainer {

at::Tensor MultiHeadAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
                              int64_t heads, double dropout_p) {
  const int64_t b = q.size(0), t = q.size(1), d = q.size(2) / heads;
  auto split = [&](const at::Tensor& x) { return x.view({b, -1, heads, d}).transpose(1, 2); };  // [B, heads, T, D]
  at::Tensor context = at::scaled_dot_product_attention(split(q), split(k), split(v), bias.to(q.scalar_type()), dropout_p);
  return context.transpose(1, 2).contiguous().view({b, t, heads * d});
}

at::Tensor CausalPaddingBias(const ModelInputs& inputs, at::ScalarType dtype) {
  const int64_t batch = inputs.input_ids.size(0), length = inputs.input_ids.size(1);
  const at::TensorOptions options = inputs.input_ids.options();
  at::Tensor allowed = at::ones({length, length}, options.dtype(at::kBool)).tril().unsqueeze(0).unsqueeze(0);
  if (inputs.attention_mask.defined()) {
    allowed = allowed.logical_and(inputs.attention_mask.to(at::kBool).unsqueeze(1).unsqueeze(2));
  }
  if (inputs.segment_ids.defined()) {  // [B, 1, T, T]: query and key in the same example
    allowed = allowed.logical_and(inputs.segment_ids.unsqueeze(2).eq(inputs.segment_ids.unsqueeze(1)).unsqueeze(1));
  }
  const double lowest = dtype == at::kHalf ? -65504.0 : static_cast<double>(std::numeric_limits<float>::lowest());
  return at::zeros({batch, 1, length, length}, options.dtype(dtype)).masked_fill(allowed.logical_not(), lowest);
}

void InitTransformersWeights(torch::nn::Module& model, double initializer_range) {
  at::NoGradGuard no_grad;
  // named_modules() is pre-order, as named_parameters() is: the random draws come in parameter order.
  for (const auto& item : model.named_modules()) {
    torch::nn::Module& m = *item.value();
    if (auto* linear = m.as<torch::nn::Linear>()) {
      linear->weight.normal_(0.0, initializer_range);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* embedding = m.as<torch::nn::Embedding>()) {
      embedding->weight.normal_(0.0, initializer_range);
      const auto& padding = embedding->options.padding_idx();
      if (padding && *padding >= 0 && *padding < embedding->weight.size(0)) embedding->weight[*padding].zero_();
    } else if (auto* norm = m.as<torch::nn::LayerNorm>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
}

int64_t LayerIndexAfter(const std::string& name, const std::string& prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0) return -1;
  size_t end = prefix.size();
  while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
  if (end == prefix.size() || end >= name.size() || name[end] != '.') return -1;
  return std::stoll(name.substr(prefix.size(), end - prefix.size()));
}

}  // namespace trainrt::trainer
