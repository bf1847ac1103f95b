// ContainerPaths: every path of the /opt/ml tree, derived from one base directory
// (SAGEMAKER_BASE_DIR, default /opt/ml), joined as Python's os.path.join does so that rendered
// paths match the toolkit's byte for byte.
#ifndef TRAINRT_RUNTIME_CONTAINER_PATHS_H_
#define TRAINRT_RUNTIME_CONTAINER_PATHS_H_

#include <string>

#include "runtime/process_env.h"

namespace trainrt::runtime {

struct ContainerPaths {
  std::string base_dir;                 // /opt/ml
  std::string code_dir;                 // /opt/ml/code
  std::string model_dir;                // /opt/ml/model
  std::string input_dir;                // /opt/ml/input
  std::string input_config_dir;         // /opt/ml/input/config
  std::string input_data_dir;           // /opt/ml/input/data
  std::string output_dir;               // /opt/ml/output
  std::string output_data_dir;          // /opt/ml/output/data
  std::string output_intermediate_dir;  // /opt/ml/output/intermediate

  static ContainerPaths FromBase(const std::string& base_dir);
  // From SAGEMAKER_BASE_DIR in `env`, else /opt/ml.
  static ContainerPaths FromEnv(const EnvMap& env);

  std::string ConfigFile(const std::string& name) const;   // input/config/<name>
  std::string ChannelDir(const std::string& channel) const;  // input/data/<channel>
  std::string FailureFile() const;                          // output/failure
  std::string SuccessFile() const;                          // output/success
};

// Python's os.path.join(a, b) for two parts.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_CONTAINER_PATHS_H_
