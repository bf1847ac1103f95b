// WaitForHosts: SageMaker's host names (algo-1, algo-2, ...) may not resolve the moment a
// container starts. Resolve every host, retrying with backoff, printing which are still
// unresolved every 15 s, and give up after a bound with an error naming them.
#ifndef TRAINRT_LAUNCHER_HOST_RESOLUTION_H_
#define TRAINRT_LAUNCHER_HOST_RESOLUTION_H_

#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::launcher {

runtime::Status WaitForHosts(const std::vector<std::string>& hosts, int timeout_seconds);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_HOST_RESOLUTION_H_
