// How `train` decides to run a job (modes, layout, master) and the mpirun line it builds.
#include "launcher/job_launch.h"

#include <gtest/gtest.h>

#include "launcher/mpi_launch.h"
#include "tests/runtime/test_util.h"

namespace trainrt::launcher {
namespace {

using Argv = std::vector<std::string>;

class JobLaunchTest : public ::testing::Test {
 protected:
  runtime::JobConfig Job(const std::string& rc, const std::string& hps, int gpus) {
    dir_.Write("input/config/resourceconfig.json", rc);
    dir_.Write("input/config/inputdataconfig.json", "{}");
    dir_.Write("input/config/hyperparameters.json", hps);
    dir_.Write("code/train.py", "");
    env_ = {{"SAGEMAKER_BASE_DIR", dir_.path()}, {"TRAINRT_NUM_GPUS", std::to_string(gpus)}, {"PATH", "/usr/bin"}};
    auto job = runtime::JobConfig::Load(env_);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }
  JobLaunchPlan Plan(const runtime::JobConfig& job) {
    auto program = ResolveUserProgram(job, "/opt/trainrt/trainrt-finetune", "python3");
    EXPECT_TRUE(program.ok()) << program.status().ToString();
    auto plan = PlanJobLaunch(job, *program, env_);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    return *plan;
  }
  testing::ScratchDir dir_;
  runtime::EnvMap env_;
};

constexpr char kTwoP4d[] =
    R"({"current_host":"algo-2","hosts":["algo-1","algo-2"],"current_group_name":"homogeneousCluster",
        "instance_groups":[{"instance_group_name":"homogeneousCluster","instance_type":"ml.p4d.24xlarge",
        "hosts":["algo-2","algo-1"]}],"current_instance_type":"ml.p4d.24xlarge"})";

TEST_F(JobLaunchTest, BuiltinFinetunerRunsOnEveryGpuOfEveryHost) {
  JobLaunchPlan plan = Plan(Job(kTwoP4d, R"({"epochs":"1"})", 8));
  EXPECT_EQ(plan.mode, JobMode::kNativeDistributed);
  EXPECT_EQ(plan.launch.nnodes, 2);
  EXPECT_EQ(plan.launch.node_rank, 1);  // hosts order, the same on every host
  EXPECT_EQ(plan.launch.nproc_per_node, 8);
  EXPECT_EQ(plan.launch.master_addr, "algo-1");
  EXPECT_EQ(plan.launch.master_port, 7777);
  EXPECT_EQ(plan.launch.argv, (Argv{"/opt/trainrt/trainrt-finetune", "--epochs", "1"}));
  EXPECT_NE(plan.summary.find("2 host(s) x 8 process(es) = world size 16, native rendezvous, NCCL"), std::string::npos);
}

TEST_F(JobLaunchTest, BuiltinFinetunerRunsUnderMpirunWhenTheJobAsksForMpi) {
  JobLaunchPlan plan = Plan(Job(kTwoP4d,
                                R"({"epochs":"1","sagemaker_mpi_enabled":"true",
                                    "sagemaker_mpi_num_of_processes_per_host":"8"})",
                                8));
  EXPECT_EQ(plan.mode, JobMode::kMpi);
  EXPECT_EQ(plan.launch.master_addr, "algo-2");  // the toolkit's master: distribution_hosts[0]
  EXPECT_EQ(plan.launch.nproc_per_node, 8);
  EXPECT_EQ(plan.launch.argv, (Argv{"/opt/trainrt/trainrt-finetune", "--epochs", "1"}));
  EXPECT_NE(plan.summary.find("world size 16, mpirun"), std::string::npos);
}

TEST_F(JobLaunchTest, MoreProcessesThanGpusIsRefusedUnlessAllowed) {
  runtime::JobConfig job = Job(kTwoP4d, R"({"epochs":"1"})", 2);
  env_["TRAINRT_NPROC_PER_HOST"] = "4";
  auto program = ResolveUserProgram(job, "/opt/trainrt/trainrt-finetune", "python3");
  EXPECT_EQ(PlanJobLaunch(job, *program, env_).status().ToString(),
            "4 processes per host (TRAINRT_NPROC_PER_HOST or sagemaker_mpi_num_of_processes_per_host) but this host "
            "has 2 GPU(s): at most one process per GPU (TRAINRT_OVERSUBSCRIBE_GPUS=1 allows more)");
  env_["TRAINRT_OVERSUBSCRIBE_GPUS"] = "1";
  EXPECT_EQ(Plan(job).launch.nproc_per_node, 4);
}

TEST_F(JobLaunchTest, BuiltinFinetunerOnCpuRunsOnePerHostUnlessAsked) {
  EXPECT_EQ(Plan(Job(kTwoP4d, "{}", 0)).launch.nproc_per_node, 1);
  runtime::JobConfig job = Job(kTwoP4d, "{}", 0);
  env_["TRAINRT_NPROC_PER_HOST"] = "3";
  EXPECT_EQ(Plan(job).launch.nproc_per_node, 3);
  env_["TRAINRT_NPROC_PER_HOST"] = "many";
  auto program = ResolveUserProgram(job, "/opt/trainrt/trainrt-finetune", "python3");
  EXPECT_EQ(PlanJobLaunch(job, *program, env_).status().ToString(),
            "TRAINRT_NPROC_PER_HOST='many': expected a positive integer");
}

TEST_F(JobLaunchTest, TorchDistributedUsesTheToolkitsMasterAndProcessesPerHost) {
  JobLaunchPlan plan = Plan(Job(kTwoP4d,
                                R"({"sagemaker_program":"\"train.py\"","sagemaker_torch_distributed_enabled":"true",
                                    "sagemaker_mpi_num_of_processes_per_host":"4"})",
                                8));
  EXPECT_EQ(plan.mode, JobMode::kNativeDistributed);
  EXPECT_EQ(plan.launch.master_addr, "algo-2");  // distribution_hosts[0], as the toolkit computes it
  EXPECT_EQ(plan.launch.node_rank, 0);
  EXPECT_EQ(plan.launch.nproc_per_node, 4);
  EXPECT_EQ(plan.launch.env.at("PYTHONUNBUFFERED"), "1");
  EXPECT_EQ(plan.launch.env.at("SM_CURRENT_HOST"), "algo-2");
}

TEST_F(JobLaunchTest, EveryDataParallelFlagRunsOneWorkerPerGpuThroughTheNativeRendezvous) {
  // The HuggingFace estimator's pytorchddp and smdistributed dataparallel (which the PyTorch
  // estimator also writes for pytorchddp) run as torch_distributed does: no smddprun here.
  for (const char* flag : {"sagemaker_pytorch_ddp_enabled", "sagemaker_distributed_dataparallel_enabled",
                           "sagemaker_torch_distributed_enabled"}) {
    const std::string hps = std::string(R"({"sagemaker_program":"\"train.py\"",")") + flag + R"(":"true"})";
    JobLaunchPlan plan = Plan(Job(kTwoP4d, hps, 8));
    EXPECT_EQ(plan.mode, JobMode::kNativeDistributed) << flag;
    EXPECT_EQ(plan.launch.nproc_per_node, 8) << flag;
    EXPECT_EQ(plan.launch.nnodes, 2) << flag;
    EXPECT_NE(plan.summary.find("world size 16, native rendezvous, NCCL"), std::string::npos) << flag;
  }
  // "false" is not a flag.
  EXPECT_EQ(Plan(Job(kTwoP4d, R"({"sagemaker_program":"\"train.py\"","sagemaker_pytorch_ddp_enabled":"false"})", 8)).mode,
            JobMode::kSingleProcess);
}

TEST_F(JobLaunchTest, NoDistributionFlagIsOneIndependentProcess) {
  JobLaunchPlan plan = Plan(Job(kTwoP4d, R"({"sagemaker_program":"\"train.py\""})", 8));
  EXPECT_EQ(plan.mode, JobMode::kSingleProcess);
}

TEST_F(JobLaunchTest, MpirunCommandMatchesTheToolkit) {
  runtime::JobConfig job = Job(kTwoP4d,
                               R"({"sagemaker_program":"\"train.py\"","sagemaker_mpi_enabled":"true",
                                   "sagemaker_mpi_num_of_processes_per_host":"8",
                                   "sagemaker_mpi_custom_mpi_options":"\"-verbose --NCCL_DEBUG=WARN\"",
                                   "epochs":"3"})",
                               8);
  JobLaunchPlan plan = Plan(job);
  EXPECT_EQ(plan.mode, JobMode::kMpi);
  plan.launch.env = {{"PATH", "/usr/bin"}, {"AWS_ACCESS_KEY_ID", "AKIA"}};
  auto cmd = MpirunCommand(job, plan.launch, {"algo-2", "algo-1"}, "/opt/trainrt/trainrt");
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  const Argv expected = {
      "mpirun", "--host", "algo-2:8,algo-1:8", "-np", "16", "--allow-run-as-root", "--display-map", "--tag-output",
      "-mca", "btl_tcp_if_include", "eth0", "-mca", "oob_tcp_if_include", "eth0", "-mca", "plm_rsh_no_tree_spawn", "1",
      "-bind-to", "none", "-map-by", "slot", "-mca", "pml", "ob1", "-mca", "btl", "^openib", "-mca",
      "orte_abort_on_non_zero_status", "1", "-mca", "btl_vader_single_copy_mechanism", "none", "-x",
      "NCCL_MIN_NRINGS=4", "-x", "NCCL_SOCKET_IFNAME=eth0", "-x", "NCCL_DEBUG=WARN", "-x", "PATH", "-verbose", "-x",
      "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple", "-x", "FI_EFA_USE_DEVICE_RDMA=1", "-x", "AWS_ACCESS_KEY_ID", "-x",
      "MASTER_ADDR=algo-2", "-x", "MASTER_PORT=7777", "-x", "TORCHELASTIC_USE_AGENT_STORE=True",
      "/opt/trainrt/trainrt", "mpi-rank", "--", "python3", "train.py", "--epochs", "3"};
  EXPECT_EQ(*cmd, expected);
}

TEST_F(JobLaunchTest, CustomMpiOptionsAcceptArgparsePrefixes) {
  runtime::JobConfig job = Job(R"({"current_host":"algo-1","hosts":["algo-1"]})",
                               R"({"sagemaker_program":"\"train.py\"","sagemaker_mpi_enabled":"true",
                                   "sagemaker_mpi_custom_mpi_options":"\"--NCCL TRACE -x FOO=1\""})",
                               0);
  JobLaunchPlan plan = Plan(job);
  auto cmd = MpirunCommand(job, plan.launch, {"127.0.0.1"}, "trainrt");
  ASSERT_TRUE(cmd.ok());
  const std::string line = MaskedCommand(*cmd);
  EXPECT_NE(line.find("--host 127.0.0.1 -np 1 "), std::string::npos) << line;  // one process: no ":1"
  EXPECT_NE(line.find("-x NCCL_DEBUG=TRACE -x PATH -x FOO=1 "), std::string::npos) << line;
}

TEST(MaskedCommand, HidesSecretsAndQuotes) {
  EXPECT_EQ(MaskedCommand({"python3", "train.py", "--hf_token", "hf_abc", "--api-key=xyz", "--msg", "a b", "--lr", "1"}),
            "python3 train.py --hf_token **** --api-key=**** --msg 'a b' --lr 1");
}

}  // namespace
}  // namespace trainrt::launcher
