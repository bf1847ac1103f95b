#include "runtime/container_paths.h"

#include "runtime/contract_names.h"

namespace trainrt::runtime {

std::string JoinPath(const std::string& a, const std::string& b) {
  if (!b.empty() && b[0] == '/') return b;
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

ContainerPaths ContainerPaths::FromBase(const std::string& base_dir) {
  ContainerPaths p;
  p.base_dir = base_dir;
  p.code_dir = JoinPath(base_dir, "code");
  p.model_dir = JoinPath(base_dir, "model");
  p.input_dir = JoinPath(base_dir, "input");
  p.input_config_dir = JoinPath(p.input_dir, "config");
  p.input_data_dir = JoinPath(p.input_dir, "data");
  p.output_dir = JoinPath(base_dir, "output");
  p.output_data_dir = JoinPath(p.output_dir, "data");
  p.output_intermediate_dir = JoinPath(p.output_dir, "intermediate");
  return p;
}

ContainerPaths ContainerPaths::FromEnv(const EnvMap& env) {
  return FromBase(EnvOr(env, names::kBaseDirEnv, names::kDefaultBaseDir));
}

std::string ContainerPaths::ConfigFile(const std::string& name) const { return JoinPath(input_config_dir, name); }
std::string ContainerPaths::ChannelDir(const std::string& channel) const { return JoinPath(input_data_dir, channel); }
std::string ContainerPaths::FailureFile() const { return JoinPath(output_dir, names::kFailureFile); }
std::string ContainerPaths::SuccessFile() const { return JoinPath(output_dir, names::kSuccessFile); }

}  // namespace trainrt::runtime
