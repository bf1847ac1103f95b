// Parity with the real sagemaker-training toolkit: for every job configuration under
// tests/data/contract (made by scripts/contract/gen_golden.py from the toolkit itself), the SM_*
// variables we render must equal the toolkit's byte for byte, in the same order.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/job_config.h"
#include "runtime/strings.h"
#include "runtime/sm_env.h"
#include "tests/runtime/test_util.h"

namespace trainrt::runtime {
namespace {

using runtime::ReplaceAll;

namespace fs = std::filesystem;
constexpr char kBasePlaceholder[] = "@BASE@";

nlohmann::json ReadJson(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

fs::path DataDir() { return fs::path(testing::TestDataDir()); }

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(DataDir() / "contract")) {
    if (e.is_directory()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ContractParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ContractParity, SmEnvironmentEqualsToolkit) {
  const fs::path dir = DataDir() / "contract" / GetParam();
  const nlohmann::json c = ReadJson(dir / "case.json");
  const nlohmann::json expected = ReadJson(dir / "expected.json");

  testing::ScratchDir scratch;
  const std::string base = scratch.path() + "/opt/ml";
  for (const auto& [name, text] : c["files"].items()) scratch.Write("opt/ml/input/config/" + name, text.get<std::string>());
  EnvMap env;
  for (const auto& [k, v] : c["env"].items()) env[k] = v.get<std::string>();
  env["SAGEMAKER_BASE_DIR"] = base;
  env["TRAINRT_NUM_GPUS"] = std::to_string(c["devices"]["gpus"].get<int>());
  env["TRAINRT_NUM_CPUS"] = std::to_string(c["devices"]["cpus"].get<int>());
  env["PATH"] = scratch.path();  // no smddprun / smddpmprun, as on the generating machine

  auto job = JobConfig::Load(env);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  const EnvList got = SmEnvironment(*job);

  std::vector<std::pair<std::string, std::string>> want;
  for (const auto& pair : expected["sm_env"]) want.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first) << "variable #" << i;
    EXPECT_EQ(ReplaceAll(got[i].second, base, kBasePlaceholder), want[i].second) << want[i].first;
  }

  const EnvList program = ProgramEnvironment(*job, env);
  for (const auto& [name, value] : expected["extra"].items()) {
    auto it = std::find_if(program.begin(), program.end(), [&](const auto& p) { return p.first == name; });
    ASSERT_NE(it, program.end()) << name;
    EXPECT_EQ(it->second, value.get<std::string>()) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Toolkit, ContractParity, ::testing::ValuesIn(CaseNames()),
                         [](const auto& info) { return info.param; });

TEST(ContractCorpus, HasAtLeastTwentyCases) { EXPECT_GE(CaseNames().size(), 20u); }

}  // namespace
}  // namespace trainrt::runtime
