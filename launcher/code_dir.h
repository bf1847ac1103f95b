// PrepareCodeDir: fills the code dir from sagemaker_submit_directory, as the toolkit's
// files.download_and_extract does: a code dir that already has files wins (code baked into the
// image); otherwise a folder is copied, a tar archive (any compression libarchive reads) is
// extracted, and any other file is copied in. `file://` URIs are accepted. Archives are checked
// entirely before anything is extracted: no absolute paths, no "..", no links, no devices.
// s3:// sources are refused with a clear error (trainrt has no S3 client yet).
#ifndef TRAINRT_LAUNCHER_CODE_DIR_H_
#define TRAINRT_LAUNCHER_CODE_DIR_H_

#include <string>

#include "runtime/status.h"

namespace trainrt::launcher {

// `source` is the job's module_dir; `code_dir` the container's code dir.
runtime::Status PrepareCodeDir(const std::string& source, const std::string& code_dir);

// Extracts a tar archive into `dest` after checking every entry (see above).
runtime::Status ExtractArchiveSafely(const std::string& archive, const std::string& dest);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_CODE_DIR_H_
