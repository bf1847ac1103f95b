// Model: a model family's network with a task's head, as a libtorch module whose parameter names
// are exactly Hugging Face's, so weights load from and save to their files as they are.
//
// A family writes its network once, as pieces: Embed, then Layer 0 .. num_layers-1, then Head.
// forward() composes them for the whole model; a pipeline stage runs the pieces it holds
// (distributed/pipeline.h). What every layer of one forward shares (the attention bias) is made
// once per forward by LayerContextFor. Not thread-safe (a torch module).
#ifndef TRAINRT_TRAINER_MODEL_MODEL_H_
#define TRAINRT_TRAINER_MODEL_MODEL_H_

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

namespace trainrt::trainer {

// A batch's model inputs.
struct ModelInputs {
  at::Tensor input_ids;       // [B, T] int64
  at::Tensor attention_mask;  // [B, T] int64: 1 for tokens, 0 for padding
  at::Tensor token_type_ids;  // [B, T] int64: segment ids; families without segments ignore them
  at::Tensor position_ids;    // [B, T] int64, or undefined: 0 .. T-1 in every row
  // [B, T] int64, or undefined: packed rows (data/packing.h) number their examples 1, 2, ... and
  // their padding 0; attention never crosses from one example to another.
  at::Tensor segment_ids;
  // [B, T] bool, or undefined: the positions whose head output is wanted; forward then returns
  // the head of those alone, [1, N, ...] in row-major order, and never computes the others.
  at::Tensor head_positions;

  // Rows [begin, begin + rows) of every input (a pipeline's microbatch).
  ModelInputs Narrow(int64_t begin, int64_t rows) const;
};

// What every layer of one forward shares.
struct LayerContext {
  at::Tensor attention_bias;  // [B, 1, 1 or T, T] additive: 0 where attended, the dtype's lowest where masked
  at::Tensor cos, sin;        // [B, T, head_dim] rotary position embeddings (decoder families), else undefined
};

// The head a task puts on a family's network.
enum class HeadKind {
  kSequenceClassification,  // logits [B, num_labels]
  kCausalLM,                // next-token logits [B, T, vocab]
};
struct HeadSpec {
  HeadKind kind = HeadKind::kSequenceClassification;
  int64_t num_labels = 2;  // kSequenceClassification: the classifier's outputs
};

class Model : public torch::nn::Module {
 public:
  // The whole model: Embed, every Layer, Head. Returns the head's output (logits).
  at::Tensor forward(const ModelInputs& inputs);

  virtual int64_t num_layers() const = 0;
  virtual at::Tensor Embed(const ModelInputs& inputs) = 0;  // -> hidden [B, T, H]
  // The default: the padding mask as an additive bias, in `dtype` (the hidden states').
  virtual LayerContext LayerContextFor(const ModelInputs& inputs, at::ScalarType dtype) const;
  virtual at::Tensor Layer(int64_t index, const at::Tensor& hidden, const LayerContext& context) = 0;  // [B, T, H]
  // Layer, through activation checkpointing (activation_checkpoint.h) when it is switched on and
  // a training forward wants gradients. What forward and a pipeline stage call.
  at::Tensor RunLayer(int64_t index, const at::Tensor& hidden, const LayerContext& context);
  void set_gradient_checkpointing(bool on) { gradient_checkpointing_ = on; }
  virtual at::Tensor Head(const at::Tensor& hidden) = 0;  // [B, T, H] -> the head's output
  // transformers' class name for this family with this head: "BertForSequenceClassification".
  virtual std::string architecture() const = 0;

 private:
  bool gradient_checkpointing_ = false;
};

// [B, T] mask of 1/0 -> [B, 1, 1, T] additive bias: 0 where attended, the dtype's lowest where masked.
at::Tensor PaddingBias(const at::Tensor& attention_mask, at::ScalarType dtype);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_MODEL_H_
