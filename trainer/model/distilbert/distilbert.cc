#include "trainer/model/distilbert/distilbert.h"

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

struct DistilBertConfig {
  int64_t vocab_size = 30522;
  int64_t dim = 768;
  int64_t n_layers = 6;
  int64_t n_heads = 12;
  int64_t hidden_dim = 3072;
  int64_t max_position_embeddings = 512;
  double dropout = 0.1;
  double attention_dropout = 0.1;
  double seq_classif_dropout = 0.2;
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;
  int64_t pad_token_id = 0;
  std::string activation = "gelu";  // gelu (the erf form) | relu
};

nn::LayerNorm Norm(const DistilBertConfig& c) { return nn::LayerNorm(nn::LayerNormOptions({c.dim}).eps(c.layer_norm_eps)); }

struct DistilEmbeddingsImpl : nn::Module {
  explicit DistilEmbeddingsImpl(const DistilBertConfig& c)
      : word_embeddings(register_module(
            "word_embeddings", nn::Embedding(nn::EmbeddingOptions(c.vocab_size, c.dim).padding_idx(c.pad_token_id)))),
        position_embeddings(register_module("position_embeddings", nn::Embedding(c.max_position_embeddings, c.dim))),
        LayerNorm(register_module("LayerNorm", Norm(c))),
        dropout(register_module("dropout", nn::Dropout(c.dropout))) {}
  at::Tensor forward(const at::Tensor& ids) {
    at::Tensor positions = at::arange(ids.size(1), ids.options().dtype(at::kLong)).unsqueeze(0);
    return dropout->forward(LayerNorm->forward(word_embeddings->forward(ids) + position_embeddings->forward(positions)));
  }
  nn::Embedding word_embeddings, position_embeddings;
  nn::LayerNorm LayerNorm;  // NOLINT: Hugging Face's name
  nn::Dropout dropout;
};
TORCH_MODULE(DistilEmbeddings);

struct DistilAttentionImpl : nn::Module {
  explicit DistilAttentionImpl(const DistilBertConfig& c)
      : heads(c.n_heads),
        dropout_p(c.attention_dropout),
        q_lin(register_module("q_lin", nn::Linear(c.dim, c.dim))),
        k_lin(register_module("k_lin", nn::Linear(c.dim, c.dim))),
        v_lin(register_module("v_lin", nn::Linear(c.dim, c.dim))),
        out_lin(register_module("out_lin", nn::Linear(c.dim, c.dim))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
    return out_lin->forward(MultiHeadAttention(q_lin->forward(x), k_lin->forward(x), v_lin->forward(x), bias, heads,
                                               is_training() ? dropout_p : 0.0));
  }
  int64_t heads;
  double dropout_p;
  nn::Linear q_lin, k_lin, v_lin, out_lin;
};
TORCH_MODULE(DistilAttention);

struct DistilFfnImpl : nn::Module {
  explicit DistilFfnImpl(const DistilBertConfig& c)
      : relu(c.activation == "relu"),
        lin1(register_module("lin1", nn::Linear(c.dim, c.hidden_dim))),
        lin2(register_module("lin2", nn::Linear(c.hidden_dim, c.dim))),
        dropout(register_module("dropout", nn::Dropout(c.dropout))) {}
  at::Tensor forward(const at::Tensor& x) {
    const at::Tensor h = lin1->forward(x);
    return dropout->forward(lin2->forward(relu ? at::relu(h) : at::gelu(h)));
  }
  bool relu;
  nn::Linear lin1, lin2;
  nn::Dropout dropout;
};
TORCH_MODULE(DistilFfn);

struct DistilBlockImpl : nn::Module {
  explicit DistilBlockImpl(const DistilBertConfig& c)
      : attention(register_module("attention", DistilAttention(c))),
        sa_layer_norm(register_module("sa_layer_norm", Norm(c))),
        ffn(register_module("ffn", DistilFfn(c))),
        output_layer_norm(register_module("output_layer_norm", Norm(c))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
    at::Tensor sa = sa_layer_norm->forward(attention->forward(x, bias) + x);
    return output_layer_norm->forward(ffn->forward(sa) + sa);
  }
  DistilAttention attention;
  nn::LayerNorm sa_layer_norm;
  DistilFfn ffn;
  nn::LayerNorm output_layer_norm;
};
TORCH_MODULE(DistilBlock);

struct DistilTransformerImpl : nn::Module {
  explicit DistilTransformerImpl(const DistilBertConfig& c) : layer(register_module("layer", nn::ModuleList())) {
    for (int64_t i = 0; i < c.n_layers; ++i) layer->push_back(DistilBlock(c));
  }
  nn::ModuleList layer;
};
TORCH_MODULE(DistilTransformer);

// DistilBertModel: its names are the "distilbert." prefix of every parameter.
struct DistilBertModelImpl : nn::Module {
  explicit DistilBertModelImpl(const DistilBertConfig& c)
      : embeddings(register_module("embeddings", DistilEmbeddings(c))),
        transformer(register_module("transformer", DistilTransformer(c))) {}
  DistilEmbeddings embeddings;
  DistilTransformer transformer;
};
TORCH_MODULE(DistilBertModel);

class DistilBertForSequenceClassification final : public Model {
 public:
  DistilBertForSequenceClassification(const DistilBertConfig& c, int64_t num_labels)
      : distilbert_(register_module("distilbert", DistilBertModel(c))),
        pre_classifier_(register_module("pre_classifier", nn::Linear(c.dim, c.dim))),
        classifier_(register_module("classifier", nn::Linear(c.dim, num_labels))),
        dropout_(register_module("dropout", nn::Dropout(c.seq_classif_dropout))) {}
  int64_t num_layers() const override { return static_cast<int64_t>(distilbert_->transformer->layer->size()); }
  at::Tensor Embed(const ModelInputs& in) override { return distilbert_->embeddings->forward(in.input_ids); }
  at::Tensor Layer(int64_t index, const at::Tensor& hidden, const LayerContext& context) override {
    return distilbert_->transformer->layer[static_cast<size_t>(index)]->as<DistilBlockImpl>()->forward(
        hidden, context.attention_bias);
  }
  at::Tensor Head(const at::Tensor& hidden) override {
    at::Tensor cls = hidden.select(1, 0);  // [B, dim]
    return classifier_->forward(dropout_->forward(at::relu(pre_classifier_->forward(cls))));
  }
  std::string architecture() const override { return "DistilBertForSequenceClassification"; }

 private:
  DistilBertModel distilbert_;
  nn::Linear pre_classifier_, classifier_;
  nn::Dropout dropout_;
};

class DistilBertFamily final : public ModelFamily {
 public:
  DistilBertFamily(const nlohmann::json& raw, const DistilBertConfig& c) : c_(c) {
    config_ = raw;
    dims_ = {c.vocab_size, c.dim, c.n_layers, c.max_position_embeddings};
  }
  std::string model_type() const override { return "distilbert"; }
  HeadKind default_head() const override { return HeadKind::kSequenceClassification; }
  Result<std::shared_ptr<Model>> Build(const HeadSpec& head) const override {
    return MakeInitializedModel<DistilBertForSequenceClassification>(c_.initializer_range, c_, head.num_labels);
  }
  std::string base_prefix() const override { return "distilbert"; }
  int64_t PieceOf(const std::string& parameter) const override {
    if (parameter.rfind("distilbert.embeddings.", 0) == 0) return -1;
    const int64_t layer = LayerIndexAfter(parameter, "distilbert.transformer.layer.");
    return layer >= 0 ? layer : dims_.num_layers;  // pre_classifier and classifier: the head
  }
  std::optional<std::string> RowSparseEmbedding() const override { return "distilbert.embeddings.word_embeddings.weight"; }
  std::string tokenizer_class() const override { return "DistilBertTokenizer"; }

 private:
  DistilBertConfig c_;
};

}  // namespace

Result<std::unique_ptr<ModelFamily>> ReadDistilBertFamily(const nlohmann::json& j, const std::string& source) {
  DistilBertConfig c;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "dim", c.dim, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "n_layers", c.n_layers, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "n_heads", c.n_heads, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "hidden_dim", c.hidden_dim, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "dropout", c.dropout, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "attention_dropout", c.attention_dropout, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "seq_classif_dropout", c.seq_classif_dropout, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "activation", c.activation, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "vocab_size", c.vocab_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "max_position_embeddings", c.max_position_embeddings, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "layer_norm_eps", c.layer_norm_eps, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "initializer_range", c.initializer_range, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "pad_token_id", c.pad_token_id, source));
  bool sinusoidal = false;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "sinusoidal_pos_embds", sinusoidal, source));
  if (sinusoidal) return Status::InvalidArgument(source + ": field 'sinusoidal_pos_embds': true is not supported");
  if (c.activation != "gelu" && c.activation != "relu") {
    return Status::InvalidArgument(source + ": activation '" + c.activation + "' is not supported (gelu or relu)");
  }
  if (c.dim <= 0 || c.n_heads <= 0 || c.dim % c.n_heads != 0) {
    return Status::InvalidArgument(source + ": hidden size " + std::to_string(c.dim) +
                                   " is not a positive multiple of the head count " + std::to_string(c.n_heads));
  }
  return std::unique_ptr<ModelFamily>(std::make_unique<DistilBertFamily>(j, c));
}

}  // namespace trainrt::trainer
