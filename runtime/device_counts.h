// DeviceCounts: the CPUs, GPUs and Neuron cores of this container, counted as the toolkit counts
// them: GPUs are physical GPUs (NVML, loaded at run time, so no driver means 0 and no process is
// spawned), CPUs are online logical CPUs (os.cpu_count()), Neuron cores are 64 on trn2.48xlarge.
// TRAINRT_NUM_GPUS / TRAINRT_NUM_CPUS / TRAINRT_NUM_NEURONS override each count (tests, and
// containers where NVML is not mounted).
#ifndef TRAINRT_RUNTIME_DEVICE_COUNTS_H_
#define TRAINRT_RUNTIME_DEVICE_COUNTS_H_

#include <string>

#include "runtime/process_env.h"
#include "runtime/status.h"

namespace trainrt::runtime {

struct DeviceCounts {
  int num_cpus = 0;
  int num_gpus = 0;
  int num_neurons = 0;
};

// InvalidArgument when an override variable is not a non-negative integer.
Result<DeviceCounts> CountDevices(const EnvMap& env, const std::string& instance_type);
// Physical GPUs reported by NVML (libnvidia-ml.so.1); 0 when the library or driver is missing.
int CountGpusWithNvml();

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_DEVICE_COUNTS_H_
