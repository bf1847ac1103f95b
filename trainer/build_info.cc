#include "trainer/build_info.h"

#include <torch/version.h>

#ifdef TRAINRT_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace trainrt::trainer {

BuildInfo QueryBuildInfo() {
  BuildInfo info;
  info.torch_version = TORCH_VERSION;
#ifdef TRAINRT_HAVE_CUDA
  info.cuda_compiled = true;
  int n = 0;
  if (cudaGetDeviceCount(&n) == cudaSuccess && n > 0) {
    info.cuda_available = true;
    info.cuda_devices = n;
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) info.cuda_device0 = prop.name;
  }
#endif
  return info;
}

std::string DescribeBuildInfo(const BuildInfo& info) {
  std::string s = "libtorch " + info.torch_version + ", CUDA " + (info.cuda_compiled ? "compiled" : "not compiled");
  if (info.cuda_available) {
    s += ", " + std::to_string(info.cuda_devices) + " GPU(s): " + info.cuda_device0;
  } else {
    s += ", no GPU available";
  }
  return s;
}

}  // namespace trainrt::trainer
