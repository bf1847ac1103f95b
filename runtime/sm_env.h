// The environment the toolkit hands a training program, rendered from a JobConfig:
// the SM_* variables (same names, order, formats and values as sagemaker-training 5.1's
// Environment.to_env_vars()), SM_TRAINING_ENV's 37-key dictionary, and the other variables the
// toolkits set (PYTHONPATH, SAGEMAKER_JOB_NAME, SAGEMAKER_REGION, CURRENT_HOST, and the PyTorch
// toolkit's MASTER_ADDR, MASTER_PORT and NCCL_* settings).
#ifndef TRAINRT_RUNTIME_SM_ENV_H_
#define TRAINRT_RUNTIME_SM_ENV_H_

#include <string>
#include <utility>
#include <vector>

#include "runtime/job_config.h"
#include "runtime/process_env.h"
#include "runtime/python_value.h"

namespace trainrt::runtime {

using EnvList = std::vector<std::pair<std::string, std::string>>;  // ordered NAME, value

// dict(Environment): the 37 properties, as SM_TRAINING_ENV carries them.
PyValue TrainingEnvDict(const JobConfig& job);
// The SM_* variables, in the toolkit's order.
EnvList SmEnvironment(const JobConfig& job);
// SM_* plus PYTHONPATH (code dir first, then `inherited`'s PYTHONPATH), SAGEMAKER_JOB_NAME,
// SAGEMAKER_REGION, CURRENT_HOST, MASTER_ADDR, MASTER_PORT and NCCL_SOCKET_IFNAME, NCCL_IB_DISABLE,
// NCCL_DEBUG (the last unless already set in `inherited`).
EnvList ProgramEnvironment(const JobConfig& job, const EnvMap& inherited);
// Python's str.upper() for environment-variable names (simple Unicode case mapping).
std::string PythonUpper(const std::string& s);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_SM_ENV_H_
