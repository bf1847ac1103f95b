#include "trainer/model/model_path.h"

#include <dirent.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "runtime/contract_names.h"
#include "runtime/file_util.h"
#include "trainer/model/hub_download.h"

namespace trainrt::trainer {

using runtime::Result;
using runtime::Status;

Result<std::string> ResolveModelPath(const std::string& name, const runtime::EnvMap& env) {
  if (runtime::PathExists(name + "/config.json")) return name;
  const std::string channel = runtime::EnvOr(env, std::string(runtime::names::kChannelEnvPrefix) + "MODEL", "");
  if (!channel.empty() && runtime::PathExists(channel + "/config.json")) return channel;
  std::string hub = runtime::EnvOr(env, "HF_HUB_CACHE", "");
  if (hub.empty()) {
    const std::string hf_home = runtime::EnvOr(env, "HF_HOME", runtime::EnvOr(env, "HOME", "/root") + "/.cache/huggingface");
    hub = hf_home + "/hub";
  }
  // org/name -> models--org--name
  const std::string repo_dir = hub + "/models--" + (name.find('/') != std::string::npos
                                                        ? name.substr(0, name.find('/')) + "--" + name.substr(name.find('/') + 1)
                                                        : name);
  auto ref = runtime::ReadFileToString(repo_dir + "/refs/main");
  if (ref.ok()) {
    std::string rev = *ref;
    while (!rev.empty() && (rev.back() == '\n' || rev.back() == ' ')) rev.pop_back();
    if (runtime::PathExists(repo_dir + "/snapshots/" + rev + "/config.json")) return repo_dir + "/snapshots/" + rev;
  }
  if (DIR* d = opendir((repo_dir + "/snapshots").c_str())) {
    std::string found;
    while (dirent* e = readdir(d)) {
      const std::string snapshot = repo_dir + "/snapshots/" + e->d_name;
      if (e->d_name[0] != '.' && runtime::PathExists(snapshot + "/config.json")) found = snapshot;
    }
    closedir(d);
    if (!found.empty()) return found;
  }
  // Not here: a Hub repository id ("org/name" or "name") is downloaded into that cache, unless
  // the job is offline (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, as huggingface_hub reads them).
  const bool offline = runtime::EnvOr(env, "HF_HUB_OFFLINE", "0") != "0" || runtime::EnvOr(env, "TRANSFORMERS_OFFLINE", "0") != "0";
  const bool repo_id = !name.empty() && name[0] != '/' && name[0] != '.' &&
                       std::count(name.begin(), name.end(), '/') <= 1 &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' || c == '.';
                       });
  if (repo_id && !offline) {
    HubOptions hub_options;
    hub_options.endpoint = runtime::EnvOr(env, "HF_ENDPOINT", hub_options.endpoint);
    hub_options.token = runtime::EnvOr(env, "HF_TOKEN", runtime::EnvOr(env, "HUGGING_FACE_HUB_TOKEN", ""));
    hub_options.cache_dir = hub;
    std::fprintf(stderr, "trainrt-finetune: model '%s' is not local: downloading it from %s into %s\n", name.c_str(),
                 hub_options.endpoint.c_str(), hub.c_str());
    return DownloadFromHub(name, hub_options);
  }
  return Status::NotFound("model '" + name + "': not a folder with config.json, not in the model channel, not in " +
                          "the Hugging Face cache " + hub + (offline ? " (offline: HF_HUB_OFFLINE is set)" : ""));
}

}  // namespace trainrt::trainer
