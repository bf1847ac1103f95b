#include "trainer/model/bert/bert.h"

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

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_layers = 12;
  int64_t num_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double hidden_dropout = 0.1;
  double attention_dropout = 0.1;
  double classifier_dropout = 0.1;  // classifier_dropout, else hidden_dropout_prob
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;
  int64_t pad_token_id = 0;
  std::string activation = "gelu";  // gelu (the erf form) | relu
};

at::Tensor Activation(const std::string& name, const at::Tensor& x) { return name == "relu" ? at::relu(x) : at::gelu(x); }

nn::LayerNorm Norm(const BertConfig& c) { return nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)); }

struct BertEmbeddingsImpl : nn::Module {
  explicit BertEmbeddingsImpl(const BertConfig& c)
      : word_embeddings(register_module(
            "word_embeddings", nn::Embedding(nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)))),
        position_embeddings(register_module("position_embeddings", nn::Embedding(c.max_position_embeddings, c.hidden_size))),
        token_type_embeddings(register_module("token_type_embeddings", nn::Embedding(c.type_vocab_size, c.hidden_size))),
        LayerNorm(register_module("LayerNorm", Norm(c))),
        dropout(register_module("dropout", nn::Dropout(c.hidden_dropout))) {}
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& types) {
    at::Tensor positions = at::arange(ids.size(1), ids.options().dtype(at::kLong)).unsqueeze(0);
    at::Tensor e = word_embeddings->forward(ids) + token_type_embeddings->forward(types) +
                   position_embeddings->forward(positions);
    return dropout->forward(LayerNorm->forward(e));
  }
  nn::Embedding word_embeddings, position_embeddings, token_type_embeddings;
  nn::LayerNorm LayerNorm;  // NOLINT: Hugging Face's name
  nn::Dropout dropout;
};
TORCH_MODULE(BertEmbeddings);

struct BertSelfAttentionImpl : nn::Module {
  explicit BertSelfAttentionImpl(const BertConfig& c)
      : heads(c.num_heads),
        dropout_p(c.attention_dropout),
        query(register_module("query", nn::Linear(c.hidden_size, c.hidden_size))),
        key(register_module("key", nn::Linear(c.hidden_size, c.hidden_size))),
        value(register_module("value", nn::Linear(c.hidden_size, c.hidden_size))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
    return MultiHeadAttention(query->forward(x), key->forward(x), value->forward(x), bias, heads,
                              is_training() ? dropout_p : 0.0);
  }
  int64_t heads;
  double dropout_p;
  nn::Linear query, key, value;
};
TORCH_MODULE(BertSelfAttention);

// dense -> dropout -> LayerNorm(x + residual): BertSelfOutput and BertOutput alike.
struct BertDenseOutputImpl : nn::Module {
  BertDenseOutputImpl(const BertConfig& c, int64_t in)
      : dense(register_module("dense", nn::Linear(in, c.hidden_size))),
        LayerNorm(register_module("LayerNorm", Norm(c))),
        dropout(register_module("dropout", nn::Dropout(c.hidden_dropout))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& residual) {
    return LayerNorm->forward(dropout->forward(dense->forward(x)) + residual);
  }
  nn::Linear dense;
  nn::LayerNorm LayerNorm;  // NOLINT: Hugging Face's name
  nn::Dropout dropout;
};
TORCH_MODULE(BertDenseOutput);

struct BertAttentionImpl : nn::Module {
  explicit BertAttentionImpl(const BertConfig& c)
      : self(register_module("self", BertSelfAttention(c))),
        output(register_module("output", BertDenseOutput(c, c.hidden_size))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) { return output->forward(self->forward(x, bias), x); }
  BertSelfAttention self;
  BertDenseOutput output;
};
TORCH_MODULE(BertAttention);

struct BertIntermediateImpl : nn::Module {
  explicit BertIntermediateImpl(const BertConfig& c)
      : activation(c.activation), dense(register_module("dense", nn::Linear(c.hidden_size, c.intermediate_size))) {}
  at::Tensor forward(const at::Tensor& x) { return Activation(activation, dense->forward(x)); }
  std::string activation;
  nn::Linear dense;
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : nn::Module {
  explicit BertLayerImpl(const BertConfig& c)
      : attention(register_module("attention", BertAttention(c))),
        intermediate(register_module("intermediate", BertIntermediate(c))),
        output(register_module("output", BertDenseOutput(c, c.intermediate_size))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
    at::Tensor a = attention->forward(x, bias);
    return output->forward(intermediate->forward(a), a);
  }
  BertAttention attention;
  BertIntermediate intermediate;
  BertDenseOutput output;
};
TORCH_MODULE(BertLayer);

struct BertEncoderImpl : nn::Module {
  explicit BertEncoderImpl(const BertConfig& c) : layer(register_module("layer", nn::ModuleList())) {
    for (int64_t i = 0; i < c.num_layers; ++i) layer->push_back(BertLayer(c));
  }
  nn::ModuleList layer;
};
TORCH_MODULE(BertEncoder);

struct BertPoolerImpl : nn::Module {
  explicit BertPoolerImpl(const BertConfig& c) : dense(register_module("dense", nn::Linear(c.hidden_size, c.hidden_size))) {}
  at::Tensor forward(const at::Tensor& h) { return at::tanh(dense->forward(h.select(1, 0))); }
  nn::Linear dense;
};
TORCH_MODULE(BertPooler);

// BertModel: its names are the "bert." prefix of every parameter.
struct BertModelImpl : nn::Module {
  explicit BertModelImpl(const BertConfig& c)
      : embeddings(register_module("embeddings", BertEmbeddings(c))),
        encoder(register_module("encoder", BertEncoder(c))),
        pooler(register_module("pooler", BertPooler(c))) {}
  BertEmbeddings embeddings;
  BertEncoder encoder;
  BertPooler pooler;
};
TORCH_MODULE(BertModel);

class BertForSequenceClassification final : public Model {
 public:
  BertForSequenceClassification(const BertConfig& c, int64_t num_labels)
      : bert_(register_module("bert", BertModel(c))),
        dropout_(register_module("dropout", nn::Dropout(c.classifier_dropout))),
        classifier_(register_module("classifier", nn::Linear(c.hidden_size, num_labels))) {}
  int64_t num_layers() const override { return static_cast<int64_t>(bert_->encoder->layer->size()); }
  at::Tensor Embed(const ModelInputs& in) override {
    return bert_->embeddings->forward(in.input_ids,
                                      in.token_type_ids.defined() ? in.token_type_ids : at::zeros_like(in.input_ids));
  }
  at::Tensor Layer(int64_t index, const at::Tensor& hidden, const LayerContext& context) override {
    return bert_->encoder->layer[static_cast<size_t>(index)]->as<BertLayerImpl>()->forward(hidden, context.attention_bias);
  }
  at::Tensor Head(const at::Tensor& hidden) override {
    return classifier_->forward(dropout_->forward(bert_->pooler->forward(hidden)));
  }
  std::string architecture() const override { return "BertForSequenceClassification"; }

 private:
  BertModel bert_;
  nn::Dropout dropout_;
  nn::Linear classifier_;
};

class BertFamily final : public ModelFamily {
 public:
  BertFamily(const nlohmann::json& raw, const BertConfig& c) : c_(c) {
    config_ = raw;
    dims_ = {c.vocab_size, c.hidden_size, c.num_layers, c.max_position_embeddings};
  }
  std::string model_type() const override { return "bert"; }
  HeadKind default_head() const override { return HeadKind::kSequenceClassification; }
  Result<std::shared_ptr<Model>> Build(const HeadSpec& head) const override {
    return MakeInitializedModel<BertForSequenceClassification>(c_.initializer_range, c_, head.num_labels);
  }
  std::string base_prefix() const override { return "bert"; }
  // Checkpoints converted from TensorFlow (bert-base-uncased's among them) name LayerNorm's
  // parameters gamma and beta; transformers renames them on load, and so do we.
  std::string CanonicalName(const std::string& name) const override {
    std::string canonical = name;
    for (const auto& [legacy, current] : {std::pair<std::string, std::string>{"LayerNorm.gamma", "LayerNorm.weight"},
                                          {"LayerNorm.beta", "LayerNorm.bias"}}) {
      if (const size_t at = canonical.find(legacy); at != std::string::npos) canonical.replace(at, legacy.size(), current);
    }
    return canonical;
  }
  int64_t PieceOf(const std::string& parameter) const override {
    if (parameter.rfind("bert.embeddings.", 0) == 0) return -1;
    const int64_t layer = LayerIndexAfter(parameter, "bert.encoder.layer.");
    return layer >= 0 ? layer : dims_.num_layers;  // the pooler and the classifier: the head
  }
  std::optional<std::string> RowSparseEmbedding() const override { return "bert.embeddings.word_embeddings.weight"; }
  std::string tokenizer_class() const override { return "BertTokenizer"; }

 private:
  BertConfig c_;
};

}  // namespace

Result<std::unique_ptr<ModelFamily>> ReadBertFamily(const nlohmann::json& j, const std::string& source) {
  BertConfig c;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "hidden_size", c.hidden_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "num_hidden_layers", c.num_layers, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "num_attention_heads", c.num_heads, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "intermediate_size", c.intermediate_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "hidden_dropout_prob", c.hidden_dropout, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "attention_probs_dropout_prob", c.attention_dropout, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "type_vocab_size", c.type_vocab_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "hidden_act", c.activation, source));
  c.classifier_dropout = c.hidden_dropout;
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "classifier_dropout", c.classifier_dropout, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "vocab_size", c.vocab_size, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "max_position_embeddings", c.max_position_embeddings, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "layer_norm_eps", c.layer_norm_eps, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "initializer_range", c.initializer_range, source));
  TRAINRT_RETURN_IF_ERROR(ReadField(j, "pad_token_id", c.pad_token_id, source));
  if (c.activation != "gelu" && c.activation != "relu") {
    return Status::InvalidArgument(source + ": activation '" + c.activation + "' is not supported (gelu or relu)");
  }
  if (c.hidden_size <= 0 || c.num_heads <= 0 || c.hidden_size % c.num_heads != 0) {
    return Status::InvalidArgument(source + ": hidden size " + std::to_string(c.hidden_size) +
                                   " is not a positive multiple of the head count " + std::to_string(c.num_heads));
  }
  return std::unique_ptr<ModelFamily>(std::make_unique<BertFamily>(j, c));
}

}  // namespace trainrt::trainer
