#include "runtime/job_outcome.h"

#include "runtime/file_util.h"

namespace trainrt::runtime {

Status WriteFailureFile(const ContainerPaths& paths, const std::string& reason) {
  TRAINRT_RETURN_IF_ERROR(MakeDirs(paths.output_dir));
  std::string text = reason;
  if (text.empty() || text.back() != '\n') text += '\n';
  return WriteFileIfAbsent(paths.FailureFile(), text);
}

Status WriteSuccessFile(const ContainerPaths& paths) {
  TRAINRT_RETURN_IF_ERROR(MakeDirs(paths.output_dir));
  return WriteFileAtomically(paths.SuccessFile(), "");
}

}  // namespace trainrt::runtime
