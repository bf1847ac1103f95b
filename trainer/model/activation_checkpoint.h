// Activation checkpointing (--gradient_checkpointing, transformers' gradient_checkpointing_enable
// with torch.utils.checkpoint's reentrant variant): a layer's forward keeps only its input; the
// backward runs the layer again, with the random state its forward had (the same dropout masks),
// and back-propagates through that. Activation memory drops from every layer's to one layer's,
// for a second forward of each layer.
#ifndef TRAINRT_TRAINER_MODEL_ACTIVATION_CHECKPOINT_H_
#define TRAINRT_TRAINER_MODEL_ACTIVATION_CHECKPOINT_H_

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "trainer/model/model.h"

namespace trainrt::trainer {

// model.Layer(index, hidden, context), checkpointed. The gradients it leaves in the layer's
// parameters and returns for `hidden` are those of the plain call.
at::Tensor CheckpointedLayer(Model& model, int64_t index, const at::Tensor& hidden, const LayerContext& context);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_ACTIVATION_CHECKPOINT_H_
