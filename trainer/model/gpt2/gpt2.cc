#include "trainer/model/gpt2/gpt2.h"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "trainer/model/config_fields.h"
#include "trainer/model/layers.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;
namespace nn = torch::nn;

struct Gpt2Config {
  int64_t vocab_size = 50257;
  int64_t n_positions = 1024;
  int64_t n_embd = 768;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_inner = -1;  // -1: 4 x n_embd
  std::string activation = "gelu_new";
  double resid_pdrop = 0.1, embd_pdrop = 0.1, attn_pdrop = 0.1;
  double layer_norm_epsilon = 1e-5;
  double initializer_range = 0.02;
  bool scale_attn_weights = true;
  bool scale_attn_by_inverse_layer_idx = false;
  bool tie_word_embeddings = true;
};

at::Tensor Activation(const std::string& name, const at::Tensor& x) {
  if (name == "relu") return at::relu(x);
  if (name == "gelu") return at::gelu(x);
  return at::gelu(x, "tanh");  // gelu_new, gelu_pytorch_tanh
}

// transformers' Conv1D: y = x W + b with W stored [in, out].
struct Conv1DImpl : nn::Module {
  Conv1DImpl(int64_t in, int64_t out, double std)
      : weight(register_parameter("weight", at::empty({in, out}).normal_(0.0, std))),
        bias(register_parameter("bias", at::zeros({out}))) {}
  at::Tensor forward(const at::Tensor& x) { return at::matmul(x, weight) + bias; }
  at::Tensor weight, bias;
};
TORCH_MODULE(Conv1D);

nn::LayerNorm Norm(const Gpt2Config& c) {
  return nn::LayerNorm(nn::LayerNormOptions({c.n_embd}).eps(c.layer_norm_epsilon));
}

struct Gpt2AttentionImpl : nn::Module {
  Gpt2AttentionImpl(const Gpt2Config& c, int64_t layer)
      : heads(c.n_head),
        dropout_p(c.attn_pdrop),
        scale((c.scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(c.n_embd / c.n_head)) : 1.0) /
              (c.scale_attn_by_inverse_layer_idx ? static_cast<double>(layer + 1) : 1.0)),
        c_attn(register_module("c_attn", Conv1D(c.n_embd, 3 * c.n_embd, c.initializer_range))),
        c_proj(register_module("c_proj", Conv1D(c.n_embd, c.n_embd, c.initializer_range))),
        resid_dropout(register_module("resid_dropout", nn::Dropout(c.resid_pdrop))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
    const int64_t b = x.size(0), t = x.size(1), e = x.size(2), d = e / heads;
    const auto qkv = c_attn->forward(x).split(e, 2);
    auto heads_of = [&](const at::Tensor& y) { return y.view({b, t, heads, d}).transpose(1, 2); };
    const at::Tensor out = at::scaled_dot_product_attention(heads_of(qkv[0]), heads_of(qkv[1]), heads_of(qkv[2]),
                                                            bias.to(x.scalar_type()), is_training() ? dropout_p : 0.0,
                                                            /*is_causal=*/false, scale);
    return resid_dropout->forward(c_proj->forward(out.transpose(1, 2).reshape({b, t, e})));
  }
  int64_t heads;
  double dropout_p, scale;
  Conv1D c_attn, c_proj;
  nn::Dropout resid_dropout;
};
TORCH_MODULE(Gpt2Attention);

struct Gpt2MlpImpl : nn::Module {
  explicit Gpt2MlpImpl(const Gpt2Config& c)
      : activation(c.activation),
        c_fc(register_module("c_fc", Conv1D(c.n_embd, c.n_inner, c.initializer_range))),
        c_proj(register_module("c_proj", Conv1D(c.n_inner, c.n_embd, c.initializer_range))),
        dropout(register_module("dropout", nn::Dropout(c.resid_pdrop))) {}
  at::Tensor forward(const at::Tensor& x) { return dropout->forward(c_proj->forward(Activation(activation, c_fc->forward(x)))); }
  std::string activation;
  Conv1D c_fc, c_proj;
  nn::Dropout dropout;
};
TORCH_MODULE(Gpt2Mlp);

struct Gpt2BlockImpl : nn::Module {
  Gpt2BlockImpl(const Gpt2Config& c, int64_t layer)
      : ln_1(register_module("ln_1", Norm(c))),
        attn(register_module("attn", Gpt2Attention(c, layer))),
        ln_2(register_module("ln_2", Norm(c))),
        mlp(register_module("mlp", Gpt2Mlp(c))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
    const at::Tensor h = x + attn->forward(ln_1->forward(x), bias);
    return h + mlp->forward(ln_2->forward(h));
  }
  nn::LayerNorm ln_1;
  Gpt2Attention attn;
  nn::LayerNorm ln_2;
  Gpt2Mlp mlp;
};
TORCH_MODULE(Gpt2Block);

// GPT2Model: its names are the "transformer." prefix of every parameter.
struct Gpt2ModelImpl : nn::Module {
  explicit Gpt2ModelImpl(const Gpt2Config& c)
      : wte(register_module("wte", nn::Embedding(c.vocab_size, c.n_embd))),
        wpe(register_module("wpe", nn::Embedding(c.n_positions, c.n_embd))),
        drop(register_module("drop", nn::Dropout(c.embd_pdrop))),
        h(register_module("h", nn::ModuleList())),
        ln_f(register_module("ln_f", Norm(c))) {
    for (int64_t i = 0; i < c.n_layer; ++i) h->push_back(Gpt2Block(c, i));
  }
  nn::Embedding wte, wpe;
  nn::Dropout drop;
  nn::ModuleList h;
  nn::LayerNorm ln_f;
};
TORCH_MODULE(Gpt2Model);

class Gpt2LMHeadModel final : public Model {
 public:
  explicit Gpt2LMHeadModel(const Gpt2Config& c) : transformer_(register_module("transformer", Gpt2Model(c))) {
    if (!c.tie_word_embeddings) {
      lm_head_ = register_module("lm_head", nn::Linear(nn::LinearOptions(c.n_embd, c.vocab_size).bias(false)));
    }
  }
  int64_t num_layers() const override { return static_cast<int64_t>(transformer_->h->size()); }
  at::Tensor Embed(const ModelInputs& in) override {
    const at::Tensor positions = in.position_ids.defined()
                                     ? in.position_ids
                                     : at::arange(in.input_ids.size(1), in.input_ids.options().dtype(at::kLong)).unsqueeze(0);
    return transformer_->drop->forward(transformer_->wte->forward(in.input_ids) + transformer_->wpe->forward(positions));
  }
  LayerContext LayerContextFor(const ModelInputs& in, at::ScalarType dtype) const override {
    return {CausalPaddingBias(in, dtype), {}, {}};
  }
  at::Tensor Layer(int64_t index, const at::Tensor& hidden, const LayerContext& context) override {
    return transformer_->h[static_cast<size_t>(index)]->as<Gpt2BlockImpl>()->forward(hidden, context.attention_bias);
  }
  at::Tensor Head(const at::Tensor& hidden) override {
    const at::Tensor h = transformer_->ln_f->forward(hidden);
    return lm_head_ ? lm_head_->forward(h) : at::linear(h, transformer_->wte->weight);  // [B, T, vocab]
  }
  std::string architecture() const override { return "GPT2LMHeadModel"; }

 private:
  Gpt2Model transformer_;
  nn::Linear lm_head_{nullptr};
};

class Gpt2Family final : public ModelFamily {
 public:
  Gpt2Family(const nlohmann::json& raw, const Gpt2Config& c) : c_(c) {
    config_ = raw;
    dims_ = {c.vocab_size, c.n_embd, c.n_layer, c.n_positions};
  }
  std::string model_type() const override { return "gpt2"; }
  HeadKind default_head() const override { return HeadKind::kCausalLM; }
  Result<std::shared_ptr<Model>> Build(const HeadSpec& head) const override {
    if (head.kind != HeadKind::kCausalLM) {
      return Status::InvalidArgument("gpt2 models have a causal-LM head only here (sequence classification is offered "
                                     "for bert and distilbert)");
    }
    return MakeInitializedModel<Gpt2LMHeadModel>(c_.initializer_range, c_);
  }
  std::string base_prefix() const override { return "transformer"; }
  // The causal-mask buffers older checkpoints carry (attn.bias, attn.masked_bias), and the tied head.
  bool IsIgnoredCheckpointTensor(const std::string& name) const override {
    auto ends = [&](const std::string& suffix) {
      return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return ends(".attn.bias") || ends(".attn.masked_bias") || (c_.tie_word_embeddings && name == "lm_head.weight");
  }
  // Trainer also leaves nn.LayerNorm modules undecayed, whatever their names (ln_1, ln_2, ln_f).
  bool DecaysWeight(const std::string& parameter) const override {
    return parameter.find(".ln_") == std::string::npos && ModelFamily::DecaysWeight(parameter);
  }
  int64_t PieceOf(const std::string& parameter) const override {
    if (parameter.rfind("transformer.wte.", 0) == 0 || parameter.rfind("transformer.wpe.", 0) == 0) return -1;
    const int64_t layer = LayerIndexAfter(parameter, "transformer.h.");
    return layer >= 0 ? layer : dims_.num_layers;  // ln_f and an untied lm_head: the head
  }
  bool ties_embeddings() const override { return c_.tie_word_embeddings; }
  std::optional<std::string> RowSparseEmbedding() const override {
    if (c_.tie_word_embeddings) return std::nullopt;
    return "transformer.wte.weight";
  }
  std::string tokenizer_class() const override { return "GPT2Tokenizer"; }

 private:
  Gpt2Config c_;
};

}  // namespace

Result<std::unique_ptr<ModelFamily>> ReadGpt2Family(const nlohmann::json& j, const std::string& source) {
  Gpt2Config c;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "vocab_size", c.vocab_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "n_positions", c.n_positions, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "n_embd", c.n_embd, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "n_layer", c.n_layer, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "n_head", c.n_head, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "n_inner", c.n_inner, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "activation_function", c.activation, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "resid_pdrop", c.resid_pdrop, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "embd_pdrop", c.embd_pdrop, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "attn_pdrop", c.attn_pdrop, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "layer_norm_epsilon", c.layer_norm_epsilon, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "initializer_range", c.initializer_range, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "scale_attn_weights", c.scale_attn_weights, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "tie_word_embeddings", c.tie_word_embeddings, source));
  if (c.n_inner <= 0) c.n_inner = 4 * c.n_embd;
  if (c.activation != "gelu_new" && c.activation != "gelu_pytorch_tanh" && c.activation != "gelu" && c.activation != "relu") {
    return Status::InvalidArgument(source + ": field 'activation_function': '" + c.activation +
                                   "' is not supported (expected gelu_new, gelu_pytorch_tanh, gelu or relu)");
  }
  bool reorder_and_upcast_attn = false;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "reorder_and_upcast_attn", reorder_and_upcast_attn, source));
  if (reorder_and_upcast_attn) {
    return Status::InvalidArgument(source + ": field 'reorder_and_upcast_attn': true is not supported");
  }
  if (c.n_embd <= 0 || c.n_head <= 0 || c.n_embd % c.n_head != 0) {
    return Status::InvalidArgument(source + ": n_embd " + std::to_string(c.n_embd) +
                                   " is not a positive multiple of n_head " + std::to_string(c.n_head));
  }
  return std::unique_ptr<ModelFamily>(std::make_unique<Gpt2Family>(j, c));
}

}  // namespace trainrt::trainer
