#include "launcher/user_program.h"

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

namespace trainrt::launcher {
namespace {

class UserProgramTest : public ::testing::Test {
 protected:
  runtime::Result<UserProgram> Resolve(const std::string& hps, const runtime::EnvMap& extra = {}) {
    dir_.Write("input/config/resourceconfig.json", R"({"current_host":"algo-1","hosts":["algo-1"]})");
    dir_.Write("input/config/inputdataconfig.json", "{}");
    dir_.Write("input/config/hyperparameters.json", hps);
    runtime::EnvMap env{{"SAGEMAKER_BASE_DIR", dir_.path()}, {"TRAINRT_NUM_GPUS", "0"}};
    env.insert(extra.begin(), extra.end());
    auto job = runtime::JobConfig::Load(env);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return ResolveUserProgram(*job, "/bin/trainrt-finetune", "python3");
  }
  testing::ScratchDir dir_;
};

using Argv = std::vector<std::string>;

TEST_F(UserProgramTest, NoProgramRunsBuiltinFinetuner) {
  auto p = Resolve(R"({"epochs":"1","model_name_or_path":"\"distilbert-base-uncased\""})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, ProgramKind::kBuiltinFinetuner);
  EXPECT_EQ(p->argv, (Argv{"/bin/trainrt-finetune", "--epochs", "1", "--model_name_or_path", "distilbert-base-uncased"}));
}

TEST_F(UserProgramTest, KindsAsTheToolkitDecidesThem) {
  dir_.Write("code/train.py", "");
  dir_.Write("code/run.sh", "");
  dir_.Write("code/bin/tool", "");
  auto py = Resolve(R"({"sagemaker_program":"\"train.py\"","lr":"5e-05","msg":"\"a b\""})");
  ASSERT_TRUE(py.ok());
  EXPECT_EQ(py->kind, ProgramKind::kPythonProgram);
  EXPECT_EQ(py->argv, (Argv{"python3", "train.py", "--lr", "5e-05", "--msg", "a b"}));
  EXPECT_EQ(py->cwd, dir_.path() + "/code");
  auto sh = Resolve(R"({"sagemaker_program":"\"run.sh\""})");
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(sh->kind, ProgramKind::kShellCommand);
  EXPECT_EQ(sh->argv, (Argv{"/bin/sh", "run.sh"}));
  auto exe = Resolve("{}", {{"SAGEMAKER_PROGRAM", "bin/tool"}});
  ASSERT_TRUE(exe.ok());
  EXPECT_EQ(exe->kind, ProgramKind::kExecutable);
  EXPECT_EQ(exe->argv, (Argv{"./bin/tool"}));
  dir_.Write("code/setup.py", "");
  auto pkg = Resolve(R"({"sagemaker_program":"\"train.py\""})");
  ASSERT_TRUE(pkg.ok());
  EXPECT_EQ(pkg->kind, ProgramKind::kPythonPackage);
  EXPECT_EQ(pkg->argv, (Argv{"python3", "-m", "train"}));
}

TEST_F(UserProgramTest, EntryPointMustStayInsideTheCodeDir) {
  for (const char* bad : {"../etc/passwd", "/bin/sh", "a/../../b", "./x"}) {
    auto p = Resolve("{}", {{"SAGEMAKER_PROGRAM", bad}});
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.status().ToString().find("expected a relative path inside the code dir"), std::string::npos);
  }
  auto missing = Resolve("{}", {{"SAGEMAKER_PROGRAM", "absent.py"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("entry point 'absent.py' not found in code dir"), std::string::npos);
}

}  // namespace
}  // namespace trainrt::launcher
