// UserProgram: what `train` runs for a job, decided as the toolkit decides it (entry_point.py,
// _entry_point_type.py): the user's entry point from SAGEMAKER_PROGRAM / sagemaker_program in the
// code dir, or trainrt's built-in fine-tuner when the job names none.
#ifndef TRAINRT_LAUNCHER_USER_PROGRAM_H_
#define TRAINRT_LAUNCHER_USER_PROGRAM_H_

#include <string>
#include <vector>

#include "runtime/job_config.h"
#include "runtime/status.h"

namespace trainrt::launcher {

enum class ProgramKind {
  kBuiltinFinetuner,  // no entry point: trainrt-finetune
  kPythonProgram,     // *.py: python3 <entry> args
  kPythonPackage,     // setup.py in the code dir: python3 -m <module> args
  kShellCommand,      // *.sh: /bin/sh <entry> args
  kExecutable,        // anything else: ./<entry> args
};

struct UserProgram {
  ProgramKind kind = ProgramKind::kBuiltinFinetuner;
  std::vector<std::string> argv;  // argv[0] is the program to exec (searched in PATH if no '/')
  std::string cwd;                // the code dir for user programs
};

// `finetuner` is the path of trainrt-finetune; `python` the interpreter for Python entry points.
// InvalidArgument when the entry point is missing from the code dir or escapes it.
runtime::Result<UserProgram> ResolveUserProgram(const runtime::JobConfig& job, const std::string& finetuner,
                                                const std::string& python);

const char* ProgramKindName(ProgramKind kind);

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_USER_PROGRAM_H_
