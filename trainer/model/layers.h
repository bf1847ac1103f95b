// Pieces the families share: scaled dot-product attention over heads and transformers' weight
// initialisation. Each family builds its own modules from them (trainer/model/<family>/).
#ifndef TRAINRT_TRAINER_MODEL_LAYERS_H_
#define TRAINRT_TRAINER_MODEL_LAYERS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>

#include "runtime/status.h"
#include "trainer/model/model.h"

namespace trainrt::trainer {

// Attention over `heads` heads through ATen's fused scaled_dot_product_attention (transformers'
// "sdpa" attention). q, k, v: [B, T, heads * D]; bias: [B, 1, 1 or T, T] additive; dropout_p
// applies to the attention weights (0 outside training). Returns [B, T, heads * D].
at::Tensor MultiHeadAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
                              int64_t heads, double dropout_p);

// The causal mask of a decoder with the padding of its keys: [B, 1, T, T] additive, 0 where query
// t may attend key s (s <= t, s not padding, and, in packed rows, s in t's example), the dtype's
// lowest elsewhere. Reads the inputs' attention_mask and segment_ids (either may be undefined).
at::Tensor CausalPaddingBias(const ModelInputs& inputs, at::ScalarType dtype);

// transformers' _init_weights for every submodule of `model`, in parameter order: Linear weights
// N(0, initializer_range) and zero biases; Embedding N(0, initializer_range) with the padding row
// zeroed; LayerNorm ones and zeros.
void InitTransformersWeights(torch::nn::Module& model, double initializer_range);

// A ModelT(args...) initialised by InitTransformersWeights; libtorch's errors (a padding id
// outside the vocabulary, say) become InvalidArgument.
template <typename ModelT, typename... Args>
runtime::Result<std::shared_ptr<Model>> MakeInitializedModel(double initializer_range, Args&&... args) {
  try {
    auto model = std::make_shared<ModelT>(std::forward<Args>(args)...);
    InitTransformersWeights(*model, initializer_range);
    return std::shared_ptr<Model>(std::move(model));
  } catch (const c10::Error& e) {
    return runtime::Status::InvalidArgument(std::string("building the model: ") + e.what_without_backtrace());
  }
}

// The index N of a parameter named "<prefix>N.<rest>", or -1 when the name does not start so.
int64_t LayerIndexAfter(const std::string& name, const std::string& prefix);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_LAYERS_H_
