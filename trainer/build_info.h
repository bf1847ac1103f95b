// BuildInfo: what the linked libtorch offers on this machine (version, CUDA, NCCL, GPU count),
// for `trainrt-finetune --version` and for logs. Keeps libtorch headers out of callers.
#ifndef TRAINRT_TRAINER_BUILD_INFO_H_
#define TRAINRT_TRAINER_BUILD_INFO_H_

#include <string>

namespace trainrt::trainer {

struct BuildInfo {
  std::string torch_version;  // e.g. "2.11.0"
  bool cuda_compiled = false; // libtorch built with CUDA
  bool cuda_available = false;// a driver and at least one GPU are usable now
  int cuda_devices = 0;
  std::string cuda_device0;   // name of GPU 0, "" without one
};

BuildInfo QueryBuildInfo();
std::string DescribeBuildInfo(const BuildInfo& info);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_BUILD_INFO_H_
