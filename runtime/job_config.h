// JobConfig: the typed, read-once model of a SageMaker training job as this container sees it:
// the three config files under input/config (plus checkpointconfig.json when present), the
// environment snapshot and the device counts, with every value the toolkit derives from them.
//
// Load() reads and validates everything once; the result is an immutable value passed by const
// reference to whoever needs it (the toolkit rebuilds its Environment in six places; we do not).
// Field semantics follow sagemaker-training 5.1's environment.py exactly, except that malformed
// files are rejected with a one-line error naming the file and key instead of a Python traceback.
#ifndef TRAINRT_RUNTIME_JOB_CONFIG_H_
#define TRAINRT_RUNTIME_JOB_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "runtime/container_paths.h"
#include "runtime/device_counts.h"
#include "runtime/process_env.h"
#include "runtime/python_value.h"
#include "runtime/status.h"

namespace trainrt::runtime {

struct InstanceGroup {
  std::string name;
  std::string instance_type;
  std::vector<std::string> hosts;  // file order (not sorted: the master rule depends on it)
  PyValue raw;                     // the group object as written, for SM_INSTANCE_GROUPS_DICT
};

struct CheckpointConfig {
  bool present = false;     // checkpointconfig.json exists
  std::string local_path;   // LocalPath, default /opt/ml/checkpoints
  std::string s3_uri;       // S3Uri, "" when absent
};

struct JobConfig {
  ContainerPaths paths;

  // resourceconfig.json
  PyValue resource_config;             // the whole file as read
  std::string current_host;
  std::vector<std::string> hosts;      // as given
  std::string current_instance_type;   // default "local"
  std::string current_instance_group;  // current_group_name, default "homogeneousCluster"
  std::string network_interface_name;  // default "eth0"
  std::vector<InstanceGroup> instance_groups;  // empty in SDK local mode
  PyValue topology;                    // default []

  // inputdataconfig.json
  PyValue input_data_config;           // the whole file as read
  std::vector<std::string> channels;   // file order

  // hyperparameters.json, each value JSON-decoded (raw string when that fails)
  PyValue::Dict hyperparameters;       // the user's: everything not reserved
  PyValue::Dict framework_parameters;  // sagemaker_* keys not in the toolkit's own list
  PyValue::Dict toolkit_parameters;    // the toolkit's own reserved keys that were present

  // Derived exactly as environment.py derives them.
  PyValue user_entry_point;            // SAGEMAKER_PROGRAM, else sagemaker_program, else None
  std::string module_name;             // entry point minus ".py"; "None" when there is none
  std::string module_dir;              // str(sagemaker_submit_directory), default code dir
  PyValue log_level;                   // sagemaker_container_log_level, default 20
  std::optional<std::string> framework_module;  // SAGEMAKER_TRAINING_MODULE
  std::optional<std::string> job_name;          // TRAINING_JOB_NAME
  PyValue distribution_instance_groups_value;   // as rendered in SM_DISTRIBUTION_INSTANCE_GROUPS
  std::vector<std::string> distribution_instance_groups;
  std::vector<std::string> distribution_hosts;
  std::string master_hostname;
  bool is_master = false;
  bool is_hetero = false;
  PyValue is_modelparallel_enabled;    // None when SM_HP_MP_PARAMETERS is unset
  bool is_smddprun_installed = false;
  bool is_smddpmprun_installed = false;
  DeviceCounts devices;
  std::string sagemaker_job_name;      // exported as SAGEMAKER_JOB_NAME
  std::string region;                  // exported as SAGEMAKER_REGION

  CheckpointConfig checkpoint;

  // Reads the files under ContainerPaths::FromEnv(env).
  static Result<JobConfig> Load(const EnvMap& env);
  // As Load, with device counts given (tests and callers that counted already).
  static Result<JobConfig> Load(const EnvMap& env, const std::optional<DeviceCounts>& devices);

  // The current instance group takes part in distributed training (toolkit: distribution_enabled).
  bool DistributionEnabled() const;
  // A framework parameter by name, or nullptr.
  const PyValue* FrameworkParameter(const std::string& name) const;
};

// checkpointconfig.json alone (present == false when the file does not exist).
Result<CheckpointConfig> LoadCheckpointConfig(const ContainerPaths& paths);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_JOB_CONFIG_H_
