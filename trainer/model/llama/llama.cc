#include "trainer/model/llama/llama.h"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "trainer/model/config_fields.h"
#include "trainer/model/layers.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;
namespace nn = torch::nn;

struct DecoderConfig {
  DecoderVariant variant;
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_layers = 32;
  int64_t num_heads = 32;
  int64_t num_kv_heads = 32;
  int64_t head_dim = 128;
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double initializer_range = 0.02;
  double attention_dropout = 0.0;
  bool attention_bias = false;
  bool mlp_bias = false;
  bool tie_word_embeddings = false;
  std::optional<int64_t> pad_token_id;  // nn.Embedding's padding_idx: that row gets no gradient
  // Rotary embeddings.
  std::string rope_type = "default";  // default | linear | llama3
  double rope_theta = 10000.0;
  double rope_factor = 1.0;
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  double original_max_position_embeddings = 8192;
};

// T5/Llama RMSNorm: normalised in fp32, cast back, then scaled.
struct RMSNormImpl : nn::Module {
  RMSNormImpl(int64_t dim, double eps) : eps(eps), weight(register_parameter("weight", at::ones({dim}))) {}
  at::Tensor forward(const at::Tensor& x) {
    const at::Tensor h = x.to(at::kFloat);
    const at::Tensor normed = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
    return weight * normed.to(x.scalar_type());
  }
  double eps;
  at::Tensor weight;
};
TORCH_MODULE(RMSNorm);

// The rotary embeddings' inverse frequencies [head_dim / 2], as modeling_rope_utils.py computes them.
at::Tensor InverseFrequencies(const DecoderConfig& c) {
  const at::Tensor exponent = at::arange(0, c.head_dim, 2, at::kLong).to(at::kFloat).div(static_cast<double>(c.head_dim));
  at::Tensor inv_freq = at::reciprocal(at::pow(c.rope_theta, exponent));
  if (c.rope_type == "linear") return inv_freq / c.rope_factor;
  if (c.rope_type != "llama3") return inv_freq;
  const double low_wavelen = c.original_max_position_embeddings / c.low_freq_factor;
  const double high_wavelen = c.original_max_position_embeddings / c.high_freq_factor;
  const at::Tensor wavelen = (2 * M_PI) / inv_freq;
  at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / c.rope_factor, inv_freq);
  const at::Tensor smooth =
      (c.original_max_position_embeddings / wavelen - c.low_freq_factor) / (c.high_freq_factor - c.low_freq_factor);
  const at::Tensor smoothed = (1 - smooth) * scaled / c.rope_factor + smooth * scaled;
  const at::Tensor medium = wavelen.ge(high_wavelen).logical_and(wavelen.le(low_wavelen));
  return at::where(medium, smoothed, scaled);
}

at::Tensor RotateHalf(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)}, -1);
}

struct AttentionImpl : nn::Module {
  explicit AttentionImpl(const DecoderConfig& c)
      : heads(c.num_heads),
        kv_heads(c.num_kv_heads),
        head_dim(c.head_dim),
        dropout_p(c.attention_dropout),
        q_proj(register_module("q_proj", nn::Linear(nn::LinearOptions(c.hidden_size, c.num_heads * c.head_dim)
                                                        .bias(c.attention_bias || c.variant.qkv_bias)))),
        k_proj(register_module("k_proj", nn::Linear(nn::LinearOptions(c.hidden_size, c.num_kv_heads * c.head_dim)
                                                        .bias(c.attention_bias || c.variant.qkv_bias)))),
        v_proj(register_module("v_proj", nn::Linear(nn::LinearOptions(c.hidden_size, c.num_kv_heads * c.head_dim)
                                                        .bias(c.attention_bias || c.variant.qkv_bias)))),
        o_proj(register_module("o_proj", nn::Linear(nn::LinearOptions(c.num_heads * c.head_dim, c.hidden_size)
                                                        .bias(c.attention_bias && !c.variant.qkv_bias)))) {
    if (c.variant.qk_norm) {
      q_norm = register_module("q_norm", RMSNorm(c.head_dim, c.rms_norm_eps));
      k_norm = register_module("k_norm", RMSNorm(c.head_dim, c.rms_norm_eps));
    }
  }
  at::Tensor forward(const at::Tensor& x, const LayerContext& context) {
    const int64_t b = x.size(0), t = x.size(1);
    at::Tensor q = q_proj->forward(x).view({b, t, heads, head_dim});  // [B, T, heads, D]
    at::Tensor k = k_proj->forward(x).view({b, t, kv_heads, head_dim});
    const at::Tensor v = v_proj->forward(x).view({b, t, kv_heads, head_dim}).transpose(1, 2);
    if (q_norm) {
      q = q_norm->forward(q);
      k = k_norm->forward(k);
    }
    q = q.transpose(1, 2);  // [B, heads, T, D]
    k = k.transpose(1, 2);
    const at::Tensor cos = context.cos.unsqueeze(1), sin = context.sin.unsqueeze(1);  // [B, 1, T, D]
    q = q * cos + RotateHalf(q) * sin;
    k = k * cos + RotateHalf(k) * sin;
    const at::Tensor out = at::scaled_dot_product_attention(
        q, k, v, context.attention_bias.to(q.scalar_type()), is_training() ? dropout_p : 0.0, /*is_causal=*/false,
        1.0 / std::sqrt(static_cast<double>(head_dim)), /*enable_gqa=*/kv_heads != heads);
    return o_proj->forward(out.transpose(1, 2).reshape({b, t, heads * head_dim}));
  }
  int64_t heads, kv_heads, head_dim;
  double dropout_p;
  nn::Linear q_proj, k_proj, v_proj, o_proj;
  RMSNorm q_norm{nullptr}, k_norm{nullptr};
};
TORCH_MODULE(Attention);

struct MlpImpl : nn::Module {
  explicit MlpImpl(const DecoderConfig& c)
      : gate_proj(register_module("gate_proj", nn::Linear(nn::LinearOptions(c.hidden_size, c.intermediate_size).bias(c.mlp_bias)))),
        up_proj(register_module("up_proj", nn::Linear(nn::LinearOptions(c.hidden_size, c.intermediate_size).bias(c.mlp_bias)))),
        down_proj(register_module("down_proj", nn::Linear(nn::LinearOptions(c.intermediate_size, c.hidden_size).bias(c.mlp_bias)))) {}
  at::Tensor forward(const at::Tensor& x) {
    return down_proj->forward(at::silu(gate_proj->forward(x)) * up_proj->forward(x));
  }
  nn::Linear gate_proj, up_proj, down_proj;
};
TORCH_MODULE(Mlp);

struct DecoderLayerImpl : nn::Module {
  explicit DecoderLayerImpl(const DecoderConfig& c)
      : self_attn(register_module("self_attn", Attention(c))),
        mlp(register_module("mlp", Mlp(c))),
        input_layernorm(register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps))),
        post_attention_layernorm(register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps))) {}
  at::Tensor forward(const at::Tensor& x, const LayerContext& context) {
    const at::Tensor h = x + self_attn->forward(input_layernorm->forward(x), context);
    return h + mlp->forward(post_attention_layernorm->forward(h));
  }
  Attention self_attn;
  Mlp mlp;
  RMSNorm input_layernorm, post_attention_layernorm;
};
TORCH_MODULE(DecoderLayer);

nn::EmbeddingOptions EmbeddingOptions(const DecoderConfig& c) {
  nn::EmbeddingOptions options(c.vocab_size, c.hidden_size);
  if (c.pad_token_id) options.padding_idx(*c.pad_token_id);
  return options;
}

// LlamaModel: its names are the "model." prefix of every parameter.
struct DecoderModelImpl : nn::Module {
  explicit DecoderModelImpl(const DecoderConfig& c)
      : embed_tokens(register_module("embed_tokens", nn::Embedding(EmbeddingOptions(c)))),
        layers(register_module("layers", nn::ModuleList())),
        norm(register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps))) {
    for (int64_t i = 0; i < c.num_layers; ++i) layers->push_back(DecoderLayer(c));
  }
  nn::Embedding embed_tokens;
  nn::ModuleList layers;
  RMSNorm norm;
};
TORCH_MODULE(DecoderModel);

class DecoderForCausalLM final : public Model {
 public:
  explicit DecoderForCausalLM(const DecoderConfig& c)
      : model_(register_module("model", DecoderModel(c))),
        inv_freq_(register_buffer("inv_freq", InverseFrequencies(c))),
        architecture_(Architecture(c.variant.model_type)) {
    if (!c.tie_word_embeddings) {
      lm_head_ = register_module("lm_head", nn::Linear(nn::LinearOptions(c.hidden_size, c.vocab_size).bias(false)));
    }
  }
  int64_t num_layers() const override { return static_cast<int64_t>(model_->layers->size()); }
  at::Tensor Embed(const ModelInputs& in) override { return model_->embed_tokens->forward(in.input_ids); }
  // The causal mask with the padding of the keys, and the rotary embeddings of the positions.
  LayerContext LayerContextFor(const ModelInputs& in, at::ScalarType dtype) const override {
    const at::Tensor& ids = in.input_ids;
    const int64_t b = ids.size(0), t = ids.size(1);
    const at::Tensor positions =
        in.position_ids.defined() ? in.position_ids : at::arange(t, ids.options().dtype(at::kLong)).unsqueeze(0).expand({b, t});
    const at::Tensor freqs = positions.unsqueeze(-1).to(at::kFloat) * inv_freq_.to(at::kFloat);  // [B, T, D/2]
    const at::Tensor emb = at::cat({freqs, freqs}, -1);
    return {CausalPaddingBias(in, dtype), emb.cos().to(dtype), emb.sin().to(dtype)};
  }
  at::Tensor Layer(int64_t index, const at::Tensor& hidden, const LayerContext& context) override {
    return model_->layers[static_cast<size_t>(index)]->as<DecoderLayerImpl>()->forward(hidden, context);
  }
  at::Tensor Head(const at::Tensor& hidden) override {
    const at::Tensor h = model_->norm->forward(hidden);
    return lm_head_ ? lm_head_->forward(h) : at::linear(h, model_->embed_tokens->weight);  // [B, T, vocab]
  }
  std::string architecture() const override { return architecture_; }

 private:
  static std::string Architecture(const std::string& model_type) {
    if (model_type == "qwen2") return "Qwen2ForCausalLM";
    if (model_type == "qwen3") return "Qwen3ForCausalLM";
    if (model_type == "mistral") return "MistralForCausalLM";
    return "LlamaForCausalLM";
  }

  DecoderModel model_;
  nn::Linear lm_head_{nullptr};
  at::Tensor inv_freq_;
  std::string architecture_;
};

class DecoderFamily final : public ModelFamily {
 public:
  DecoderFamily(const nlohmann::json& raw, const DecoderConfig& c) : c_(c) {
    config_ = raw;
    dims_ = {c.vocab_size, c.hidden_size, c.num_layers, c.max_position_embeddings};
  }
  std::string model_type() const override { return c_.variant.model_type; }
  HeadKind default_head() const override { return HeadKind::kCausalLM; }
  Result<std::shared_ptr<Model>> Build(const HeadSpec& head) const override {
    if (head.kind != HeadKind::kCausalLM) {
      return Status::InvalidArgument(c_.variant.model_type + " models have a causal-LM head only here (sequence "
                                     "classification is offered for bert and distilbert)");
    }
    return MakeInitializedModel<DecoderForCausalLM>(c_.initializer_range, c_);
  }
  std::string base_prefix() const override { return "model"; }
  bool IsIgnoredCheckpointTensor(const std::string& name) const override {
    // Old checkpoints carry the rotary inv_freq buffers; tied ones may carry lm_head.weight.
    return (name.size() >= 8 && name.compare(name.size() - 8, 8, "inv_freq") == 0) ||
           (c_.tie_word_embeddings && name == "lm_head.weight");
  }
  int64_t PieceOf(const std::string& parameter) const override {
    if (parameter.rfind("model.embed_tokens.", 0) == 0) return -1;
    const int64_t layer = LayerIndexAfter(parameter, "model.layers.");
    return layer >= 0 ? layer : dims_.num_layers;  // the final norm and lm_head: the head
  }
  // A tied lm_head makes the input embeddings' gradient dense.
  bool ties_embeddings() const override { return c_.tie_word_embeddings; }
  std::optional<std::string> RowSparseEmbedding() const override {
    if (c_.tie_word_embeddings) return std::nullopt;
    return "model.embed_tokens.weight";
  }
  std::string tokenizer_class() const override { return "PreTrainedTokenizerFast"; }

 private:
  DecoderConfig c_;
};

// rope_parameters (transformers 5), else rope_scaling (older configs), with rope_theta beside them.
Status ReadRope(const nlohmann::json& j, const std::string& source, DecoderConfig& c) {
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "rope_theta", c.rope_theta, source));
  const char* key = j.contains("rope_parameters") && j["rope_parameters"].is_object() ? "rope_parameters" : "rope_scaling";
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return Status::InvalidArgument(source + ": field '" + key + "': expected an object");
  const nlohmann::json& rope = *it;
  std::string type = "default";
  TRAINRT_RETURN_IF_ERROR(ReadField(rope, "type", type, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(rope, "rope_type", type, source));
  if (type != "default" && type != "linear" && type != "llama3") {
    return Status::InvalidArgument(source + ": field '" + key + ".rope_type': '" + type +
                                   "' is not supported (expected default, linear or llama3)");
  }
  c.rope_type = type;
  TRAINRT_RETURN_IF_ERROR(ReadField(rope, "rope_theta", c.rope_theta, source));
  if (type == "default") return Status::Ok();
  if (!rope.contains("factor")) return Status::InvalidArgument(source + ": field '" + key + ".factor': required for " + type);
  TRAINRT_RETURN_IF_ERROR(ReadField(rope, "factor", c.rope_factor, source));
  if (type == "llama3") {
    for (const char* field : {"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
      if (!rope.contains(field)) {
        return Status::InvalidArgument(source + ": field '" + key + "." + field + "': required for llama3");
      }
    }
    TRAINRT_RETURN_IF_ERROR(ReadField(rope, "low_freq_factor", c.low_freq_factor, source));
    TRAINRT_RETURN_IF_ERROR(ReadField(rope, "high_freq_factor", c.high_freq_factor, source));
    TRAINRT_RETURN_IF_ERROR(ReadField(rope, "original_max_position_embeddings", c.original_max_position_embeddings, source));
  }
  if (!(c.rope_factor > 0)) return Status::InvalidArgument(source + ": field '" + key + ".factor': expected a number > 0");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ModelFamily>> ReadDecoderFamily(const nlohmann::json& j, const std::string& source,
                                                       const DecoderVariant& variant) {
  DecoderConfig c;
  c.variant = variant;
  c.vocab_size = variant.default_vocab_size;
  c.intermediate_size = variant.default_intermediate_size;
  c.max_position_embeddings = variant.default_max_position_embeddings;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "vocab_size", c.vocab_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "hidden_size", c.hidden_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "intermediate_size", c.intermediate_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "num_hidden_layers", c.num_layers, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "num_attention_heads", c.num_heads, source));
  c.num_kv_heads = variant.default_num_key_value_heads > 0 ? variant.default_num_key_value_heads : c.num_heads;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "num_key_value_heads", c.num_kv_heads, source));
  if (c.num_heads <= 0 || c.hidden_size <= 0) {
    return Status::InvalidArgument(source + ": hidden_size and num_attention_heads must be positive");
  }
  c.head_dim = variant.default_head_dim > 0 ? variant.default_head_dim : c.hidden_size / c.num_heads;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "head_dim", c.head_dim, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "max_position_embeddings", c.max_position_embeddings, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "rms_norm_eps", c.rms_norm_eps, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "initializer_range", c.initializer_range, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "attention_dropout", c.attention_dropout, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "attention_bias", c.attention_bias, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "mlp_bias", c.mlp_bias, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "tie_word_embeddings", c.tie_word_embeddings, source));
  TRAINRT_RETURN_IF_ERROR(ReadRope(j, source, c));
  if (const auto pad = j.find("pad_token_id"); pad != j.end() && !pad->is_null()) {
    if (!pad->is_number_integer() || pad->get<int64_t>() < 0 || pad->get<int64_t>() >= c.vocab_size) {
      return Status::InvalidArgument(source + ": field 'pad_token_id': " + pad->dump() + " is not a token id below vocab_size " +
                                     std::to_string(c.vocab_size));
    }
    c.pad_token_id = pad->get<int64_t>();
  }
  std::string activation = "silu";
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "hidden_act", activation, source));
  if (activation != "silu") {
    return Status::InvalidArgument(source + ": field 'hidden_act': '" + activation + "' is not supported (expected silu)");
  }
  if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) {
    return Status::InvalidArgument(source + ": num_attention_heads " + std::to_string(c.num_heads) +
                                   " is not a multiple of num_key_value_heads " + std::to_string(c.num_kv_heads));
  }
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) {
    return Status::InvalidArgument(source + ": head_dim " + std::to_string(c.head_dim) + ": expected a positive even number");
  }
  if (variant.refuse_sliding_window) {
    bool use_sliding_window = false;
    TRAINRT_RETURN_IF_ERROR(ReadField(j, "use_sliding_window", use_sliding_window, source));
    const bool mistral_window = variant.model_type == "mistral" && j.contains("sliding_window") && !j["sliding_window"].is_null();
    if (use_sliding_window || mistral_window) {
      return Status::InvalidArgument(source + ": field 'sliding_window': sliding-window attention is not supported "
                                     "(every layer attends to the whole sequence here)");
    }
  }
  return std::unique_ptr<ModelFamily>(std::make_unique<DecoderFamily>(j, c));
}

Result<std::unique_ptr<ModelFamily>> ReadLlamaFamily(const nlohmann::json& j, const std::string& source) {
  return ReadDecoderFamily(j, source, DecoderVariant{});
}

}  // namespace trainrt::trainer
