#include "trainer/model/model.h"

#include <limits>

#include <ATen/ATen.h>

#include "trainer/model/activation_checkpoint.h"

namespace trainrt::trainer {

ModelInputs ModelInputs::Narrow(int64_t begin, int64_t rows) const {
  auto cut = [&](const at::Tensor& t) { return t.defined() ? t.narrow(0, begin, rows) : t; };
  return {cut(input_ids), cut(attention_mask), cut(token_type_ids), cut(position_ids), cut(segment_ids),
          cut(head_positions)};
}

at::Tensor Model::forward(const ModelInputs& inputs) {
  at::Tensor hidden = Embed(inputs);
  const LayerContext context = LayerContextFor(inputs, hidden.scalar_type());
  for (int64_t i = 0; i < num_layers(); ++i) hidden = RunLayer(i, hidden, context);
  if (inputs.head_positions.defined()) hidden = hidden.index({inputs.head_positions}).unsqueeze(0);
  return Head(hidden);
}

at::Tensor Model::RunLayer(int64_t index, const at::Tensor& hidden, const LayerContext& context) {
  if (gradient_checkpointing_ && is_training() && at::GradMode::is_enabled()) {
    return CheckpointedLayer(*this, index, hidden, context);
  }
  return Layer(index, hidden, context);
}

LayerContext Model::LayerContextFor(const ModelInputs& inputs, at::ScalarType dtype) const {
  return {PaddingBias(inputs.attention_mask, dtype), {}, {}};
}

at::Tensor PaddingBias(const at::Tensor& attention_mask, at::ScalarType dtype) {
  const double lowest = dtype == at::kHalf ? -65504.0 : static_cast<double>(std::numeric_limits<float>::lowest());
  return (1.0 - attention_mask.to(dtype)).mul(lowest).unsqueeze(1).unsqueeze(2);
}

}  // namespace trainrt::trainer
