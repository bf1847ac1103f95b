// ModelFamily: a config.json as the family its `model_type` names reads it, and everything the
// rest of the trainer needs to know about that family. The job, the optimizer, the pipeline, the
// export and the gradient sync ask it; none of them names a family or a parameter.
//
// Families live one per folder (trainer/model/bert/, trainer/model/distilbert/) and are found by
// `model_type` in one registry (model_family.cc). Immutable once loaded; safe to share.
#ifndef TRAINRT_TRAINER_MODEL_MODEL_FAMILY_H_
#define TRAINRT_TRAINER_MODEL_MODEL_FAMILY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/status.h"
#include "trainer/model/model.h"
#include "trainer/model/safetensors.h"

namespace trainrt::trainer {

// The sizes every family has, in its own config names.
struct ModelDims {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;               // the width of the hidden states between layers
  int64_t num_layers = 0;
  int64_t max_position_embeddings = 0;   // the longest input
};

class ModelFamily {
 public:
  virtual ~ModelFamily() = default;

  virtual std::string model_type() const = 0;  // config.json's: "bert"
  const ModelDims& dims() const { return dims_; }
  const nlohmann::json& config() const { return config_; }  // the file as read, for the export

  // The head this family is fine-tuned with unless --task says otherwise.
  virtual HeadKind default_head() const = 0;
  // The network with `head`, freshly initialised as transformers' _init_weights draws it.
  virtual runtime::Result<std::shared_ptr<Model>> Build(const HeadSpec& head) const = 0;

  // ---- checkpoint names ----
  // The prefix of the base model's parameters ("bert"): checkpoints of the bare base model (names
  // without it) load under it.
  virtual std::string base_prefix() const = 0;
  // A checkpoint's tensor name as this family's parameter name (legacy spellings renamed).
  virtual std::string CanonicalName(const std::string& checkpoint_name) const { return checkpoint_name; }
  // Checkpoint tensors that are not parameters and are skipped silently (old buffers).
  virtual bool IsIgnoredCheckpointTensor(const std::string& checkpoint_name) const;

  // ---- training ----
  // transformers' weight-decay grouping: false for biases and normalisation weights. The default
  // is Trainer.get_decay_parameter_names' name patterns.
  virtual bool DecaysWeight(const std::string& parameter) const;
  // Which pipeline piece holds a parameter: -1 the embeddings, 0 .. num_layers-1 a layer,
  // num_layers the head.
  virtual int64_t PieceOf(const std::string& parameter) const = 0;
  // The input-embedding table whose gradient may travel between ranks as the looked-up rows
  // (gradient_sync.h); nullopt when there is none, or when it is tied to an output layer (whose
  // gradient is dense).
  virtual std::optional<std::string> RowSparseEmbedding() const = 0;
  // Whether the output layer is the input embeddings (tie_word_embeddings): one tensor that the
  // first and the last pipeline stage would both need.
  virtual bool ties_embeddings() const { return false; }

  // ---- export ----
  // tokenizer_config.json's tokenizer_class, written when the model folder had no such file.
  virtual std::string tokenizer_class() const = 0;

 protected:
  ModelDims dims_;
  nlohmann::json config_;
};

// The family of `config` (read from `source`, named in errors): InvalidArgument naming the file
// and field for an unknown model_type or a missing or malformed value.
runtime::Result<std::unique_ptr<ModelFamily>> ModelFamilyFromJson(const nlohmann::json& config,
                                                                  const std::string& source);
runtime::Result<std::unique_ptr<ModelFamily>> LoadModelFamily(const std::string& config_path);

struct WeightReport {
  std::vector<std::string> missing;     // model parameters the checkpoint lacked (kept freshly initialised)
  std::vector<std::string> unexpected;  // checkpoint tensors the model does not have (ignored)
};

// Copies `weights` into `model` by name, through the family's names. A tensor whose shape
// differs is an error naming it.
runtime::Result<WeightReport> LoadWeights(const ModelFamily& family, Model& model, const TensorMap& weights);

// The model's parameters as CPU float32 copies, by name (what an export writes).
TensorMap ModelWeights(Model& model);

// Parameters outside embedding tables: what Trainer's total_flos counts (6 x this x tokens).
int64_t NonEmbeddingParameterCount(Model& model);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_MODEL_FAMILY_H_
