// DownloadFromHub: fetches a model repository's files from the Hugging Face Hub (or a mirror:
// HF_ENDPOINT) into the hub cache layout that ResolveModelPath and transformers read
// ($HF_HOME/hub/models--org--name/{refs/main, snapshots/<commit>/...}), over HTTPS with libcurl.
// Only what the fine-tuner uses is fetched: config.json, the safetensors weights (one file, or an
// index and its shards), and the tokenizer files. Each file is written to a temporary name and
// renamed, so an interrupted download never leaves a half file in the cache. HF_TOKEN authorises
// private repositories. No libtorch here.
#ifndef TRAINRT_TRAINER_MODEL_HUB_DOWNLOAD_H_
#define TRAINRT_TRAINER_MODEL_HUB_DOWNLOAD_H_

#include <string>

#include "runtime/status.h"

namespace trainrt::trainer {

struct HubOptions {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT
  std::string token;                                // HF_TOKEN; "" for public repositories
  std::string revision = "main";
  std::string cache_dir;                            // the hub cache: $HF_HUB_CACHE or $HF_HOME/hub
};

// Returns the snapshot folder. Errors name the repository, the file and the HTTP status.
runtime::Result<std::string> DownloadFromHub(const std::string& repo_id, const HubOptions& options);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_HUB_DOWNLOAD_H_
