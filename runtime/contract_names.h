// Every name of the SageMaker container contract, in one place. No other file spells these as
// literals. Sources: sagemaker-training-toolkit params.py / environment.py (see
// shared/reference/sagemaker-toolkit.md).
#ifndef TRAINRT_RUNTIME_CONTRACT_NAMES_H_
#define TRAINRT_RUNTIME_CONTRACT_NAMES_H_

#include <array>
#include <string_view>

namespace trainrt::runtime::names {

// Environment variables read.
inline constexpr char kBaseDirEnv[] = "SAGEMAKER_BASE_DIR";
inline constexpr char kDefaultBaseDir[] = "/opt/ml";
inline constexpr char kProgramEnv[] = "SAGEMAKER_PROGRAM";
inline constexpr char kTrainingModuleEnv[] = "SAGEMAKER_TRAINING_MODULE";
inline constexpr char kTrainingJobNameEnv[] = "TRAINING_JOB_NAME";
inline constexpr char kMpParametersEnv[] = "SM_HP_MP_PARAMETERS";
inline constexpr char kDlcTorchVersionEnv[] = "SM_DLC_TORCH_VERSION";
inline constexpr char kAwsRegionEnv[] = "AWS_REGION";
inline constexpr char kAwsDefaultRegionEnv[] = "AWS_DEFAULT_REGION";
inline constexpr char kStudioLocalModeEnv[] = "SM_STUDIO_LOCAL_MODE";
// trainrt's own overrides (tests, containers without NVML).
inline constexpr char kNumGpusOverrideEnv[] = "TRAINRT_NUM_GPUS";
// trainrt's launch settings, which `trainrt local` hands the `train` of each simulated host.
inline constexpr char kHostAddressesEnv[] = "TRAINRT_HOST_ADDRESSES";  // name=address,...
inline constexpr char kMasterPortOverrideEnv[] = "TRAINRT_MASTER_PORT";
inline constexpr char kLogPrefixEnv[] = "TRAINRT_LOG_PREFIX";
inline constexpr char kNprocPerHostEnv[] = "TRAINRT_NPROC_PER_HOST";
inline constexpr char kGlooSocketIfnameEnv[] = "GLOO_SOCKET_IFNAME";
inline constexpr char kCudaVisibleDevicesEnv[] = "CUDA_VISIBLE_DEVICES";
inline constexpr char kNumCpusOverrideEnv[] = "TRAINRT_NUM_CPUS";
inline constexpr char kNumNeuronsOverrideEnv[] = "TRAINRT_NUM_NEURONS";

// Environment variables set for the user's program besides SM_*.
inline constexpr char kPythonPathEnv[] = "PYTHONPATH";
inline constexpr char kJobNameEnv[] = "SAGEMAKER_JOB_NAME";
inline constexpr char kRegionEnv[] = "SAGEMAKER_REGION";
inline constexpr char kCurrentHostEnv[] = "CURRENT_HOST";
inline constexpr char kMasterAddrEnv[] = "MASTER_ADDR";
inline constexpr char kMasterPortEnv[] = "MASTER_PORT";
inline constexpr char kDefaultMasterPort[] = "7777";
inline constexpr char kNcclSocketIfnameEnv[] = "NCCL_SOCKET_IFNAME";
inline constexpr char kNcclIbDisableEnv[] = "NCCL_IB_DISABLE";
inline constexpr char kNcclDebugEnv[] = "NCCL_DEBUG";
inline constexpr char kSmPrefix[] = "SM_";
// The SM_* variables the built-in fine-tuner reads (sm_env.cc makes them as SM_ + the key).
inline constexpr char kModelDirEnv[] = "SM_MODEL_DIR";
inline constexpr char kOutputDataDirEnv[] = "SM_OUTPUT_DATA_DIR";
inline constexpr char kChannelEnvPrefix[] = "SM_CHANNEL_";  // + the channel's name upper-cased
inline constexpr char kDefaultModelDir[] = "/opt/ml/model";
inline constexpr char kDefaultOutputDataDir[] = "/opt/ml/output/data";

// Files under the base directory.
inline constexpr char kHyperparametersFile[] = "hyperparameters.json";
inline constexpr char kResourceConfigFile[] = "resourceconfig.json";
inline constexpr char kInputDataConfigFile[] = "inputdataconfig.json";
inline constexpr char kCheckpointConfigFile[] = "checkpointconfig.json";
inline constexpr char kFailureFile[] = "failure";
inline constexpr char kSuccessFile[] = "success";
inline constexpr char kDefaultCheckpointDir[] = "/opt/ml/checkpoints";

// resourceconfig.json keys.
inline constexpr char kCurrentHostKey[] = "current_host";
inline constexpr char kHostsKey[] = "hosts";
inline constexpr char kCurrentInstanceTypeKey[] = "current_instance_type";
inline constexpr char kCurrentGroupNameKey[] = "current_group_name";
inline constexpr char kInstanceGroupsKey[] = "instance_groups";
inline constexpr char kInstanceGroupNameKey[] = "instance_group_name";
inline constexpr char kInstanceTypeKey[] = "instance_type";
inline constexpr char kNetworkInterfaceNameKey[] = "network_interface_name";
inline constexpr char kTopologyKey[] = "topology";
inline constexpr char kDefaultInstanceType[] = "local";
inline constexpr char kDefaultGroupName[] = "homogeneousCluster";
inline constexpr char kDefaultNetworkInterface[] = "eth0";
// checkpointconfig.json keys.
inline constexpr char kLocalPathKey[] = "LocalPath";
inline constexpr char kS3UriKey[] = "S3Uri";
// inputdataconfig.json keys.
inline constexpr char kTrainingInputModeKey[] = "TrainingInputMode";

// Hyperparameters.
inline constexpr char kSagemakerPrefix[] = "sagemaker_";
inline constexpr char kProgramParam[] = "sagemaker_program";
inline constexpr char kSubmitDirParam[] = "sagemaker_submit_directory";
inline constexpr char kLogLevelParam[] = "sagemaker_container_log_level";
inline constexpr char kJobNameParam[] = "sagemaker_job_name";
inline constexpr char kRegionParam[] = "sagemaker_region";
inline constexpr char kDistributionInstanceGroupsParam[] = "sagemaker_distribution_instance_groups";
inline constexpr char kMpiEnabledParam[] = "sagemaker_mpi_enabled";
inline constexpr char kMpiProcessesPerHostParam[] = "sagemaker_mpi_num_of_processes_per_host";
inline constexpr char kMpiNumProcessesParam[] = "sagemaker_mpi_num_processes";
inline constexpr char kMpiCustomOptionsParam[] = "sagemaker_mpi_custom_mpi_options";
inline constexpr char kSmddpEnabledParam[] = "sagemaker_distributed_dataparallel_enabled";
inline constexpr char kPytorchDdpEnabledParam[] = "sagemaker_pytorch_ddp_enabled";
inline constexpr char kTorchDistributedEnabledParam[] = "sagemaker_torch_distributed_enabled";
inline constexpr char kInstanceTypeParam[] = "sagemaker_instance_type";
inline constexpr int kDefaultLogLevel = 20;  // logging.INFO

// Reserved keys that are stripped from the user's hyperparameters but are not framework params.
inline constexpr std::array<std::string_view, 9> kToolkitHyperparameters = {
    "sagemaker_program",     "sagemaker_submit_directory",          "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_region",      "sagemaker_container_log_level",       "sagemaker_job_name",
    "default_user_module_name", "_tuning_objective_metric",         "sagemaker_s3_output"};

// Any of these truthy puts the current group into the distribution groups (environment.py).
inline constexpr std::array<std::string_view, 7> kDistributionFlags = {
    "sagemaker_mpi_enabled",
    "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_pytorch_ddp_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
    "sagemaker_torch_distributed_enabled"};

// Instance types whose MPI jobs get EFA settings (sagemaker_training/__init__.py, 5.1.4).
inline constexpr std::array<std::string_view, 10> kEfaNcclInstances = {
    "ml.g4dn.8xlarge", "ml.g4dn.12xlarge", "ml.g5.48xlarge",  "ml.p3dn.24xlarge", "ml.p4d.24xlarge",
    "ml.p4de.24xlarge", "ml.p5.48xlarge",  "ml.p5e.48xlarge", "ml.trn1.32xlarge", "ml.p6e-gb200.36xlarge"};
inline constexpr std::array<std::string_view, 6> kEfaRdmaInstances = {
    "ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.p5e.48xlarge", "ml.trn1.32xlarge",
    "ml.p6e-gb200.36xlarge"};

}  // namespace trainrt::runtime::names

#endif  // TRAINRT_RUNTIME_CONTRACT_NAMES_H_
