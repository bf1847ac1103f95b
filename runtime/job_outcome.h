// The job's verdict files: output/failure (its first 1024 bytes become SageMaker's FailureReason)
// and output/success. A failure file that already exists is never overwritten: the user's
// program may have written its own reason first, and the first writer wins.
#ifndef TRAINRT_RUNTIME_JOB_OUTCOME_H_
#define TRAINRT_RUNTIME_JOB_OUTCOME_H_

#include <string>

#include "runtime/container_paths.h"
#include "runtime/status.h"

namespace trainrt::runtime {

inline constexpr size_t kFailureReasonBytes = 1024;  // what SageMaker shows as FailureReason

// Writes `reason` (reason first, details after) unless output/failure exists. Creates output/.
Status WriteFailureFile(const ContainerPaths& paths, const std::string& reason);
// Writes an empty output/success. Creates output/.
Status WriteSuccessFile(const ContainerPaths& paths);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_JOB_OUTCOME_H_
