#include "runtime/device_counts.h"

#include <dlfcn.h>
#include <unistd.h>

#include "runtime/contract_names.h"

namespace trainrt::runtime {
int CountGpusWithNvml() {
  void* lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return 0;
  using InitFn = int (*)();
  using CountFn = int (*)(unsigned*);
  auto init = reinterpret_cast<InitFn>(::dlsym(lib, "nvmlInit_v2"));
  auto count = reinterpret_cast<CountFn>(::dlsym(lib, "nvmlDeviceGetCount_v2"));
  auto shutdown = reinterpret_cast<InitFn>(::dlsym(lib, "nvmlShutdown"));
  int gpus = 0;
  if (init != nullptr && count != nullptr && init() == 0) {  // 0 == NVML_SUCCESS
    unsigned n = 0;
    if (count(&n) == 0) gpus = static_cast<int>(n);
    if (shutdown != nullptr) shutdown();
  }
  ::dlclose(lib);
  return gpus;
}

Result<DeviceCounts> CountDevices(const EnvMap& env, const std::string& instance_type) {
  DeviceCounts counts;
  constexpr int kMax = 1 << 30;
  const char* kExpected = "a non-negative integer";
  auto cpus = EnvInt(env, names::kNumCpusOverrideEnv, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)), 0, kMax, kExpected);
  if (!cpus.ok()) return cpus.status();
  counts.num_cpus = *cpus;
  // Only consult NVML when no override is given: loading the driver library costs milliseconds.
  auto gpus = env.count(names::kNumGpusOverrideEnv) ? EnvInt(env, names::kNumGpusOverrideEnv, 0, 0, kMax, kExpected)
                                                    : Result<int>(CountGpusWithNvml());
  if (!gpus.ok()) return gpus.status();
  counts.num_gpus = *gpus;
  const int neuron_default = instance_type.find("trn2.48xlarge") != std::string::npos ? 64 : 0;
  auto neurons = EnvInt(env, names::kNumNeuronsOverrideEnv, neuron_default, 0, kMax, kExpected);
  if (!neurons.ok()) return neurons.status();
  counts.num_neurons = *neurons;
  return counts;
}

}  // namespace trainrt::runtime
