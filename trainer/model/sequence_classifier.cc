// The BERT and DistilBERT encoders and their classification heads, written after
// transformers' modeling_bert.py and modeling_distilbert.py (post-LayerNorm blocks, erf GELU,
// masked attention), with the same module and parameter names.
#include "trainer/model/sequence_classifier.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;
namespace nn = torch::nn;

at::Tensor Activation(const ModelConfig& c, const at::Tensor& x) {
  return c.activation == "relu" ? at::relu(x) : at::gelu(x);  // gelu: the exact erf form
}

at::Tensor AttentionBias(const at::Tensor& attention_mask, at::ScalarType dtype) {
  return AttentionBiasFor(attention_mask, dtype);
}

// Scaled dot-product attention over heads (ATen's fused kernel, as transformers' "sdpa" attention).
// q, k, v: [B, T, H*D]; bias: [B, 1, 1, T] additive. Attention dropout applies in training mode.
at::Tensor MultiHead(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
                     int64_t heads, nn::Dropout& dropout) {
  const int64_t b = q.size(0), t = q.size(1), d = q.size(2) / heads;
  auto split = [&](const at::Tensor& x) { return x.view({b, -1, heads, d}).transpose(1, 2); };  // [B, H, T, D]
  const double p = dropout->is_training() ? dropout->options.p() : 0.0;
  at::Tensor context = at::scaled_dot_product_attention(split(q), split(k), split(v), bias.to(q.scalar_type()), p);
  return context.transpose(1, 2).contiguous().view({b, t, heads * d});
}

// ---- DistilBERT -------------------------------------------------------------------------------

struct DistilEmbeddingsImpl : nn::Module {
  explicit DistilEmbeddingsImpl(const ModelConfig& c)
      : word_embeddings(register_module(
            "word_embeddings", nn::Embedding(nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)))),
        position_embeddings(register_module("position_embeddings",
                                            nn::Embedding(c.max_position_embeddings, c.hidden_size))),
        LayerNorm(register_module("LayerNorm", nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)))),
        dropout(register_module("dropout", nn::Dropout(c.hidden_dropout))) {}
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
  explicit DistilAttentionImpl(const ModelConfig& c)
      : heads(c.num_heads),
        q_lin(register_module("q_lin", nn::Linear(c.hidden_size, c.hidden_size))),
        k_lin(register_module("k_lin", nn::Linear(c.hidden_size, c.hidden_size))),
        v_lin(register_module("v_lin", nn::Linear(c.hidden_size, c.hidden_size))),
        out_lin(register_module("out_lin", nn::Linear(c.hidden_size, c.hidden_size))),
        dropout(register_module("dropout", nn::Dropout(c.attention_dropout))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
    return out_lin->forward(MultiHead(q_lin->forward(x), k_lin->forward(x), v_lin->forward(x), bias, heads, dropout));
  }
  int64_t heads;
  nn::Linear q_lin, k_lin, v_lin, out_lin;
  nn::Dropout dropout;
};
TORCH_MODULE(DistilAttention);

struct DistilFfnImpl : nn::Module {
  explicit DistilFfnImpl(const ModelConfig& c)
      : config(c),
        lin1(register_module("lin1", nn::Linear(c.hidden_size, c.intermediate_size))),
        lin2(register_module("lin2", nn::Linear(c.intermediate_size, c.hidden_size))),
        dropout(register_module("dropout", nn::Dropout(c.hidden_dropout))) {}
  at::Tensor forward(const at::Tensor& x) { return dropout->forward(lin2->forward(Activation(config, lin1->forward(x)))); }
  ModelConfig config;
  nn::Linear lin1, lin2;
  nn::Dropout dropout;
};
TORCH_MODULE(DistilFfn);

struct DistilBlockImpl : nn::Module {
  explicit DistilBlockImpl(const ModelConfig& c)
      : attention(register_module("attention", DistilAttention(c))),
        sa_layer_norm(register_module("sa_layer_norm",
                                      nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)))),
        ffn(register_module("ffn", DistilFfn(c))),
        output_layer_norm(register_module("output_layer_norm",
                                          nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)))) {}
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
  explicit DistilTransformerImpl(const ModelConfig& c) : layer(register_module("layer", nn::ModuleList())) {
    for (int64_t i = 0; i < c.num_layers; ++i) layer->push_back(DistilBlock(c));
  }
  nn::ModuleList layer;
};
TORCH_MODULE(DistilTransformer);

struct DistilBertModelImpl : nn::Module {
  explicit DistilBertModelImpl(const ModelConfig& c)
      : embeddings(register_module("embeddings", DistilEmbeddings(c))),
        transformer(register_module("transformer", DistilTransformer(c))) {}
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask) {  // -> [B, T, dim]
    at::Tensor h = embeddings->forward(ids);
    const at::Tensor bias = AttentionBias(mask, h.scalar_type());
    for (const auto& block : *transformer->layer) h = block->as<DistilBlockImpl>()->forward(h, bias);
    return h;
  }
  DistilEmbeddings embeddings;
  DistilTransformer transformer;
};
TORCH_MODULE(DistilBertModel);

class DistilBertForSequenceClassification final : public SequenceClassifier {
 public:
  explicit DistilBertForSequenceClassification(const ModelConfig& c)
      : distilbert_(register_module("distilbert", DistilBertModel(c))),
        pre_classifier_(register_module("pre_classifier", nn::Linear(c.hidden_size, c.hidden_size))),
        classifier_(register_module("classifier", nn::Linear(c.hidden_size, c.num_labels))),
        dropout_(register_module("dropout", nn::Dropout(c.classifier_dropout))) {}
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask, const at::Tensor&) override {
    return Head(distilbert_->forward(input_ids, attention_mask));
  }
  int64_t num_layers() const override { return static_cast<int64_t>(distilbert_->transformer->layer->size()); }
  at::Tensor Embed(const at::Tensor& input_ids, const at::Tensor&) override {
    return distilbert_->embeddings->forward(input_ids);
  }
  at::Tensor Layer(int64_t index, const at::Tensor& hidden, const at::Tensor& bias) override {
    return distilbert_->transformer->layer[static_cast<size_t>(index)]->as<DistilBlockImpl>()->forward(hidden, bias);
  }
  at::Tensor Head(const at::Tensor& hidden) override {
    at::Tensor cls = hidden.select(1, 0);  // [B, dim]
    return classifier_->forward(dropout_->forward(at::relu(pre_classifier_->forward(cls))));
  }
  std::string base_prefix() const override { return "distilbert"; }
  std::string architecture() const override { return "DistilBertForSequenceClassification"; }

 private:
  DistilBertModel distilbert_;
  nn::Linear pre_classifier_, classifier_;
  nn::Dropout dropout_;
};

// ---- BERT -------------------------------------------------------------------------------------

struct BertEmbeddingsImpl : nn::Module {
  explicit BertEmbeddingsImpl(const ModelConfig& c)
      : word_embeddings(register_module(
            "word_embeddings", nn::Embedding(nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)))),
        position_embeddings(register_module("position_embeddings",
                                            nn::Embedding(c.max_position_embeddings, c.hidden_size))),
        token_type_embeddings(register_module("token_type_embeddings", nn::Embedding(c.type_vocab_size, c.hidden_size))),
        LayerNorm(register_module("LayerNorm", nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)))),
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
  explicit BertSelfAttentionImpl(const ModelConfig& c)
      : heads(c.num_heads),
        query(register_module("query", nn::Linear(c.hidden_size, c.hidden_size))),
        key(register_module("key", nn::Linear(c.hidden_size, c.hidden_size))),
        value(register_module("value", nn::Linear(c.hidden_size, c.hidden_size))),
        dropout(register_module("dropout", nn::Dropout(c.attention_dropout))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
    return MultiHead(query->forward(x), key->forward(x), value->forward(x), bias, heads, dropout);
  }
  int64_t heads;
  nn::Linear query, key, value;
  nn::Dropout dropout;
};
TORCH_MODULE(BertSelfAttention);

// dense -> dropout -> LayerNorm(x + residual): BertSelfOutput and BertOutput alike.
struct BertDenseOutputImpl : nn::Module {
  BertDenseOutputImpl(const ModelConfig& c, int64_t in)
      : dense(register_module("dense", nn::Linear(in, c.hidden_size))),
        LayerNorm(register_module("LayerNorm", nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)))),
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
  explicit BertAttentionImpl(const ModelConfig& c)
      : self(register_module("self", BertSelfAttention(c))),
        output(register_module("output", BertDenseOutput(c, c.hidden_size))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) { return output->forward(self->forward(x, bias), x); }
  BertSelfAttention self;
  BertDenseOutput output;
};
TORCH_MODULE(BertAttention);

struct BertIntermediateImpl : nn::Module {
  explicit BertIntermediateImpl(const ModelConfig& c)
      : config(c), dense(register_module("dense", nn::Linear(c.hidden_size, c.intermediate_size))) {}
  at::Tensor forward(const at::Tensor& x) { return Activation(config, dense->forward(x)); }
  ModelConfig config;
  nn::Linear dense;
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : nn::Module {
  explicit BertLayerImpl(const ModelConfig& c)
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
  explicit BertEncoderImpl(const ModelConfig& c) : layer(register_module("layer", nn::ModuleList())) {
    for (int64_t i = 0; i < c.num_layers; ++i) layer->push_back(BertLayer(c));
  }
  nn::ModuleList layer;
};
TORCH_MODULE(BertEncoder);

struct BertPoolerImpl : nn::Module {
  explicit BertPoolerImpl(const ModelConfig& c) : dense(register_module("dense", nn::Linear(c.hidden_size, c.hidden_size))) {}
  at::Tensor forward(const at::Tensor& h) { return at::tanh(dense->forward(h.select(1, 0))); }
  nn::Linear dense;
};
TORCH_MODULE(BertPooler);

struct BertModelImpl : nn::Module {
  explicit BertModelImpl(const ModelConfig& c)
      : embeddings(register_module("embeddings", BertEmbeddings(c))),
        encoder(register_module("encoder", BertEncoder(c))),
        pooler(register_module("pooler", BertPooler(c))) {}
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask, const at::Tensor& types) {  // -> pooled [B, H]
    at::Tensor h = embeddings->forward(ids, types);
    const at::Tensor bias = AttentionBias(mask, h.scalar_type());
    for (const auto& layer : *encoder->layer) h = layer->as<BertLayerImpl>()->forward(h, bias);
    return pooler->forward(h);
  }
  BertEmbeddings embeddings;
  BertEncoder encoder;
  BertPooler pooler;
};
TORCH_MODULE(BertModel);

class BertForSequenceClassification final : public SequenceClassifier {
 public:
  explicit BertForSequenceClassification(const ModelConfig& c)
      : bert_(register_module("bert", BertModel(c))),
        dropout_(register_module("dropout", nn::Dropout(c.classifier_dropout))),
        classifier_(register_module("classifier", nn::Linear(c.hidden_size, c.num_labels))) {}
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                     const at::Tensor& token_type_ids) override {
    const at::Tensor types = token_type_ids.defined() ? token_type_ids : at::zeros_like(input_ids);
    return classifier_->forward(dropout_->forward(bert_->forward(input_ids, attention_mask, types)));
  }
  int64_t num_layers() const override { return static_cast<int64_t>(bert_->encoder->layer->size()); }
  at::Tensor Embed(const at::Tensor& input_ids, const at::Tensor& token_type_ids) override {
    return bert_->embeddings->forward(input_ids, token_type_ids.defined() ? token_type_ids : at::zeros_like(input_ids));
  }
  at::Tensor Layer(int64_t index, const at::Tensor& hidden, const at::Tensor& bias) override {
    return bert_->encoder->layer[static_cast<size_t>(index)]->as<BertLayerImpl>()->forward(hidden, bias);
  }
  at::Tensor Head(const at::Tensor& hidden) override {
    return classifier_->forward(dropout_->forward(bert_->pooler->forward(hidden)));
  }
  std::string base_prefix() const override { return "bert"; }
  std::string architecture() const override { return "BertForSequenceClassification"; }

 private:
  BertModel bert_;
  nn::Dropout dropout_;
  nn::Linear classifier_;
};

// Hugging Face's _init_weights: Linear N(0, range) and zero bias, Embedding N(0, range) with a
// zero padding row, LayerNorm ones and zeros.
void InitWeights(nn::Module& model, const ModelConfig& c) {
  at::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    at::Tensor p = item.value();
    const bool layer_norm = name.find("LayerNorm") != std::string::npos || name.find("layer_norm") != std::string::npos;
    if (layer_norm) {
      (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0) ? p.fill_(1.0) : p.zero_();
    } else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) {
      p.zero_();
    } else {
      p.normal_(0.0, c.initializer_range);
      if (name.find("word_embeddings") != std::string::npos && c.pad_token_id >= 0 && c.pad_token_id < p.size(0)) {
        p[c.pad_token_id].zero_();
      }
    }
  }
}

}  // namespace

Result<std::shared_ptr<SequenceClassifier>> BuildSequenceClassifier(const ModelConfig& config) {
  std::shared_ptr<SequenceClassifier> model;
  try {
    if (config.family == ModelFamily::kDistilBert) {
      model = std::make_shared<DistilBertForSequenceClassification>(config);
    } else {
      model = std::make_shared<BertForSequenceClassification>(config);
    }
    InitWeights(*model, config);
  } catch (const c10::Error& e) {
    return Status::InvalidArgument(std::string("building the model: ") + e.what_without_backtrace());
  }
  return model;
}

Result<WeightReport> LoadWeights(SequenceClassifier& model, const TensorMap& weights) {
  const std::string prefix = model.base_prefix() + ".";
  bool has_prefix = false;
  for (const auto& [name, t] : weights) has_prefix = has_prefix || name.rfind(prefix, 0) == 0;
  // Checkpoints converted from TensorFlow (bert-base-uncased's among them) name LayerNorm's
  // parameters gamma and beta; transformers renames them on load, and so do we.
  std::map<std::string, std::string> source_of;  // today's name -> the checkpoint's
  for (const auto& [name, t] : weights) {
    std::string canonical = name;
    for (const auto& [legacy, current] : {std::pair<std::string, std::string>{"LayerNorm.gamma", "LayerNorm.weight"},
                                          {"LayerNorm.beta", "LayerNorm.bias"}}) {
      if (const size_t at = canonical.find(legacy); at != std::string::npos) canonical.replace(at, legacy.size(), current);
    }
    source_of.emplace(canonical, name);
  }
  auto params = model.named_parameters();
  WeightReport report;
  std::set<std::string> used;
  at::NoGradGuard no_grad;
  for (auto& item : params) {
    const std::string& name = item.key();
    std::string wanted = name;
    if (!has_prefix && name.rfind(prefix, 0) == 0) wanted = name.substr(prefix.size());  // a bare-encoder checkpoint
    auto found = source_of.find(wanted);
    if (found == source_of.end()) {
      report.missing.push_back(name);
      continue;
    }
    const std::string& source = found->second;
    const at::Tensor& tensor = weights.at(source);
    if (tensor.sizes() != item.value().sizes()) {
      return Status::InvalidArgument("weight '" + source + "' has shape " + c10::str(tensor.sizes()) +
                                     ", the model expects " + c10::str(item.value().sizes()));
    }
    item.value().copy_(tensor);
    used.insert(source);
  }
  for (const auto& [name, t] : weights) {
    // Older checkpoints carry the position_ids buffer, which transformers ignores on load too.
    const bool buffer = name.size() >= 12 && name.compare(name.size() - 12, 12, "position_ids") == 0;
    if (!used.count(name) && !buffer) report.unexpected.push_back(name);
  }
  return report;
}

at::Tensor AttentionBiasFor(const at::Tensor& attention_mask, at::ScalarType dtype) {
  const double lowest = dtype == at::kHalf ? -65504.0 : static_cast<double>(std::numeric_limits<float>::lowest());
  return (1.0 - attention_mask.to(dtype)).mul(lowest).unsqueeze(1).unsqueeze(2);
}

int64_t PieceOf(const std::string& name, int64_t num_layers) {
  if (name.find(".embeddings.") != std::string::npos || name.rfind("embeddings.", 0) == 0) return -1;
  for (const char* marker : {".layer.", "layer."}) {
    const size_t at = name.find(marker);
    if (at == std::string::npos || (marker[0] == 'l' && at != 0)) continue;
    const size_t digits = at + std::string(marker).size();
    size_t end = digits;
    while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
    if (end > digits && end < name.size() && name[end] == '.') return std::stoll(name.substr(digits, end - digits));
  }
  return num_layers;
}

}  // namespace trainrt::trainer
