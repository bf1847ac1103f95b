#include "runtime/job_config.h"

#include <gtest/gtest.h>

#include "runtime/sm_env.h"
#include "tests/runtime/test_util.h"

namespace trainrt::runtime {
namespace {

class JobConfigTest : public ::testing::Test {
 protected:
  void WriteConfig(const std::string& rc, const std::string& hps = "{}", const std::string& idc = "{}") {
    if (!rc.empty()) dir_.Write("input/config/resourceconfig.json", rc);
    dir_.Write("input/config/hyperparameters.json", hps);
    dir_.Write("input/config/inputdataconfig.json", idc);
  }
  Result<JobConfig> Load() {
    EnvMap env{{"SAGEMAKER_BASE_DIR", dir_.path()}, {"TRAINRT_NUM_GPUS", "0"}};
    return JobConfig::Load(env);
  }
  std::string ErrorOf() {
    auto job = Load();
    EXPECT_FALSE(job.ok());
    return job.ok() ? "" : job.status().ToString();
  }
  testing::ScratchDir dir_;
};

constexpr char kOneHost[] = R"({"current_host":"algo-1","hosts":["algo-1"]})";

TEST_F(JobConfigTest, MissingFileNamesThePath) {
  WriteConfig("");
  EXPECT_NE(ErrorOf().find("resourceconfig.json: No such file or directory"), std::string::npos);
}

TEST_F(JobConfigTest, BadJsonNamesFileAndPosition) {
  WriteConfig(R"({"current_host": "algo-1",)");
  const std::string err = ErrorOf();
  EXPECT_NE(err.find("resourceconfig.json: invalid JSON"), std::string::npos) << err;
  EXPECT_NE(err.find("at character"), std::string::npos) << err;
}

TEST_F(JobConfigTest, WrongTypesNameTheKey) {
  WriteConfig(R"({"current_host":"algo-1","hosts":"algo-1"})");
  EXPECT_NE(ErrorOf().find("resourceconfig.json: key 'hosts': expected a list of strings, got a string"),
            std::string::npos);
  WriteConfig(R"({"current_host":3,"hosts":["algo-1"]})");
  EXPECT_NE(ErrorOf().find("key 'current_host': expected a string, got an integer"), std::string::npos);
  WriteConfig(kOneHost, "[]");
  EXPECT_NE(ErrorOf().find("hyperparameters.json: expected a JSON object at the top level, got a list"),
            std::string::npos);
  WriteConfig(kOneHost, "{}", R"({"train": "File"})");
  EXPECT_NE(ErrorOf().find("inputdataconfig.json: key 'train': expected an object, got a string"), std::string::npos);
  WriteConfig(R"({"current_host":"algo-1","hosts":["algo-1"],"instance_groups":[{"hosts":["algo-1"]}]})");
  EXPECT_NE(ErrorOf().find("instance_groups[0]"), std::string::npos);
  WriteConfig(kOneHost, R"({"sagemaker_distribution_instance_groups": "\"train1\""})");
  EXPECT_NE(ErrorOf().find("key 'sagemaker_distribution_instance_groups': expected a list of strings"),
            std::string::npos);
}

TEST_F(JobConfigTest, CurrentHostMustBeInHosts) {
  WriteConfig(R"({"current_host":"algo-3","hosts":["algo-1","algo-2"]})");
  EXPECT_NE(ErrorOf().find("key 'current_host': 'algo-3' is not one of 'hosts' [\"algo-1\",\"algo-2\"]"),
            std::string::npos);
}

TEST_F(JobConfigTest, InvalidUtf8IsRejected) {
  WriteConfig(kOneHost, "{\"a\": \"\xff\"}");
  EXPECT_NE(ErrorOf().find("hyperparameters.json: not valid UTF-8"), std::string::npos);
}

TEST_F(JobConfigTest, CheckpointConfigLocalPath) {
  WriteConfig(kOneHost);
  auto job = Load();
  ASSERT_TRUE(job.ok());
  EXPECT_FALSE(job->checkpoint.present);
  EXPECT_EQ(job->checkpoint.local_path, "/opt/ml/checkpoints");
  dir_.Write("input/config/checkpointconfig.json", R"({"LocalPath":"/mnt/ckpt","S3Uri":"s3://b/p"})");
  job = Load();
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE(job->checkpoint.present);
  EXPECT_EQ(job->checkpoint.local_path, "/mnt/ckpt");
  EXPECT_EQ(job->checkpoint.s3_uri, "s3://b/p");
  dir_.Write("input/config/checkpointconfig.json", R"({"LocalPath":"relative"})");
  EXPECT_NE(ErrorOf().find("checkpointconfig.json: key 'LocalPath': expected an absolute path"), std::string::npos);
}

TEST_F(JobConfigTest, DeviceOverrideIsValidated) {
  WriteConfig(kOneHost);
  EnvMap env{{"SAGEMAKER_BASE_DIR", dir_.path()}, {"TRAINRT_NUM_GPUS", "two"}};
  auto job = JobConfig::Load(env);
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().ToString().find("TRAINRT_NUM_GPUS='two': expected a non-negative integer"), std::string::npos);
}

TEST_F(JobConfigTest, ProgramEnvironmentAddsPyTorchToolkitVariables) {
  WriteConfig(R"({"current_host":"algo-2","hosts":["algo-1","algo-2"],"network_interface_name":"ens5"})",
              R"({"sagemaker_torch_distributed_enabled":"true"})");
  auto job = Load();
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_TRUE(job->DistributionEnabled());
  EnvMap inherited{{"PYTHONPATH", "/usr/lib/extra"}};
  EnvMap out;
  for (auto& [k, v] : ProgramEnvironment(*job, inherited)) out[k] = v;
  EXPECT_EQ(out["MASTER_ADDR"], "algo-1");
  EXPECT_EQ(out["MASTER_PORT"], "7777");
  EXPECT_EQ(out["NCCL_SOCKET_IFNAME"], "ens5");
  EXPECT_EQ(out["NCCL_IB_DISABLE"], "1");
  EXPECT_EQ(out["NCCL_DEBUG"], "WARN");
  EXPECT_EQ(out["CURRENT_HOST"], "algo-2");
  EXPECT_EQ(out["PYTHONPATH"], dir_.path() + "/code:/usr/lib/extra");
}

}  // namespace
}  // namespace trainrt::runtime
