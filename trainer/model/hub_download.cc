#include "trainer/model/hub_download.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/file_util.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

size_t Append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// GET `url` into memory (following redirects: the Hub sends weights to its CDN).
Result<std::string> Get(const std::string& url, const std::string& token) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("libcurl: cannot start a transfer");
  std::string body;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  if (!token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "trainrt-finetune");
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return Status::IOError(url + ": " + (error[0] ? error : curl_easy_strerror(rc)));
  if (status != 200) {
    return Status::NotFound(url + ": HTTP " + std::to_string(status) +
                            (status == 401 || status == 403 ? " (a private or gated repository: set HF_TOKEN)" : ""));
  }
  return body;
}

}  // namespace

Result<std::string> DownloadFromHub(const std::string& repo_id, const HubOptions& o) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // The repository's commit and file list (what huggingface_hub's snapshot_download asks first).
  auto info_text = Get(o.endpoint + "/api/models/" + repo_id + "/revision/" + o.revision, o.token);
  if (!info_text.ok()) return info_text.status().WithContext("model '" + repo_id + "' on the Hub");
  nlohmann::json info = nlohmann::json::parse(*info_text, nullptr, /*allow_exceptions=*/false);
  if (!info.is_object() || !info.contains("sha") || !info["sha"].is_string() || !info.contains("siblings")) {
    return Status::InvalidArgument("model '" + repo_id + "' on the Hub: unexpected answer from " + o.endpoint);
  }
  const std::string commit = info["sha"].get<std::string>();
  std::set<std::string> available;
  for (const auto& s : info["siblings"]) {
    if (s.is_object() && s.contains("rfilename") && s["rfilename"].is_string()) available.insert(s["rfilename"]);
  }
  std::string org_name = repo_id;
  for (size_t pos; (pos = org_name.find('/')) != std::string::npos;) org_name.replace(pos, 1, "--");
  const std::string repo_dir = o.cache_dir + "/models--" + org_name;
  const std::string snapshot = repo_dir + "/snapshots/" + commit;
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(snapshot));
  auto fetch = [&](const std::string& file) -> Status {
    if (runtime::PathExists(snapshot + "/" + file)) return Status::Ok();
    auto body = Get(o.endpoint + "/" + repo_id + "/resolve/" + commit + "/" + file, o.token);
    if (!body.ok()) return body.status().WithContext("model '" + repo_id + "' on the Hub");
    std::fprintf(stderr, "trainrt-finetune: downloaded %s/%s (%zu bytes)\n", repo_id.c_str(), file.c_str(), body->size());
    return runtime::WriteFileAtomically(snapshot + "/" + file, *body);
  };
  if (!available.count("config.json")) return Status::NotFound("model '" + repo_id + "' on the Hub: no config.json");
  TRAINRT_RETURN_IF_ERROR(fetch("config.json"));
  if (available.count("model.safetensors")) {
    TRAINRT_RETURN_IF_ERROR(fetch("model.safetensors"));
  } else if (available.count("model.safetensors.index.json")) {
    TRAINRT_RETURN_IF_ERROR(fetch("model.safetensors.index.json"));
    auto index_text = runtime::ReadFileToString(snapshot + "/model.safetensors.index.json");
    if (!index_text.ok()) return index_text.status();
    nlohmann::json index = nlohmann::json::parse(*index_text, nullptr, false);
    std::set<std::string> shards;
    if (index.is_object() && index.contains("weight_map") && index["weight_map"].is_object()) {
      for (const auto& [tensor, file] : index["weight_map"].items()) {
        if (file.is_string()) shards.insert(file.get<std::string>());
      }
    }
    for (const auto& shard : shards) TRAINRT_RETURN_IF_ERROR(fetch(shard));
  } else {
    return Status::NotFound("model '" + repo_id + "' on the Hub has no safetensors weights (model.safetensors); "
                            "trainrt does not read pickled pytorch_model.bin");
  }
  for (const char* file : {"tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"}) {
    if (available.count(file)) TRAINRT_RETURN_IF_ERROR(fetch(file));
  }
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(repo_dir + "/refs"));
  TRAINRT_RETURN_IF_ERROR(runtime::WriteFileAtomically(repo_dir + "/refs/" + o.revision, commit));
  return snapshot;
}

}  // namespace trainrt::trainer
