// The safetensors format (Hugging Face's weight files): read, validated as the reference reader
// validates (header bound, dtype, shape, offsets that cover the buffer exactly), and written as
// the reference writer writes (tensors by dtype alignment then name, 8-byte padded compact header,
// "__metadata__" first), atomically. Sharded checkpoints (model.safetensors.index.json) load too.
#ifndef TRAINRT_TRAINER_MODEL_SAFETENSORS_H_
#define TRAINRT_TRAINER_MODEL_SAFETENSORS_H_

#include <map>
#include <string>

#include <ATen/core/Tensor.h>

#include "runtime/status.h"

namespace trainrt::trainer {

using TensorMap = std::map<std::string, at::Tensor>;  // name -> CPU tensor
using StringMap = std::map<std::string, std::string>;

struct SafetensorsFile {
  TensorMap tensors;
  StringMap metadata;  // "__metadata__"
};

// Every error names the file and, where it applies, the tensor.
runtime::Result<SafetensorsFile> ReadSafetensors(const std::string& path);
// Tensors are written contiguous, little-endian, as they are (dtype kept). Transformers writes
// metadata {"format": "pt"}.
runtime::Status WriteSafetensors(const std::string& path, const TensorMap& tensors, const StringMap& metadata);
// A model folder's weights: model.safetensors, or the shards named by model.safetensors.index.json.
runtime::Result<TensorMap> LoadModelWeights(const std::string& dir);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_SAFETENSORS_H_
