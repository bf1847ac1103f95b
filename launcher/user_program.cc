#include "launcher/user_program.h"

#include "runtime/cmd_args.h"
#include "runtime/file_util.h"
#include "runtime/strings.h"

namespace trainrt::launcher {
namespace {

using runtime::EndsWith;

// Relative, no "." or ".." segments, no empty segments: the entry point stays inside the code dir.
bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

const char* ProgramKindName(ProgramKind kind) {
  switch (kind) {
    case ProgramKind::kBuiltinFinetuner: return "built-in fine-tuner";
    case ProgramKind::kPythonProgram: return "Python program";
    case ProgramKind::kPythonPackage: return "Python package";
    case ProgramKind::kShellCommand: return "shell command";
    case ProgramKind::kExecutable: return "executable";
  }
  return "?";
}

runtime::Result<UserProgram> ResolveUserProgram(const runtime::JobConfig& job, const std::string& finetuner,
                                                const std::string& python) {
  const std::vector<std::string> args = runtime::ToCmdArgs(job.hyperparameters);
  UserProgram program;
  const runtime::PyValue& entry_value = job.user_entry_point;
  if (entry_value.is_none() || (entry_value.is_string() && entry_value.string_value().empty())) {
    program.kind = ProgramKind::kBuiltinFinetuner;
    program.argv.push_back(finetuner);
    program.argv.insert(program.argv.end(), args.begin(), args.end());
    program.cwd = job.paths.base_dir;
    return program;
  }
  const std::string entry = runtime::PythonStr(entry_value);
  if (!IsSafeRelativePath(entry)) {
    return runtime::Status::InvalidArgument("entry point '" + entry +
                                            "': expected a relative path inside the code dir " + job.paths.code_dir);
  }
  const std::string path = runtime::JoinPath(job.paths.code_dir, entry);
  if (!runtime::PathExists(path)) {
    return runtime::Status::NotFound("entry point '" + entry + "' not found in code dir " + job.paths.code_dir);
  }
  program.cwd = job.paths.code_dir;
  if (EndsWith(entry, ".sh")) {
    program.kind = ProgramKind::kShellCommand;
    program.argv = {"/bin/sh", entry};
  } else if (runtime::PathExists(runtime::JoinPath(job.paths.code_dir, "setup.py"))) {
    program.kind = ProgramKind::kPythonPackage;
    program.argv = {python, "-m", EndsWith(entry, ".py") ? entry.substr(0, entry.size() - 3) : entry};
  } else if (EndsWith(entry, ".py")) {
    program.kind = ProgramKind::kPythonProgram;
    program.argv = {python, entry};
  } else {
    program.kind = ProgramKind::kExecutable;
    program.argv = {"./" + entry};
  }
  program.argv.insert(program.argv.end(), args.begin(), args.end());
  return program;
}

}  // namespace trainrt::launcher
