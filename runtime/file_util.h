// Small POSIX file helpers that report failures as Status values naming the path.
//
// Code that links libtorch must use these rather than std::filesystem: the torch 2.11 wheel's
// libtorch.so exports its own std::filesystem symbols, which take over ours and crash.
#ifndef TRAINRT_RUNTIME_FILE_UTIL_H_
#define TRAINRT_RUNTIME_FILE_UTIL_H_

#include <string>

#include "runtime/status.h"

namespace trainrt::runtime {

Result<std::string> ReadFileToString(const std::string& path);
bool PathExists(const std::string& path);
// mkdir -p.
Status MakeDirs(const std::string& path);
// rm -rf: removes `path` and everything below it (symbolic links are removed, not followed).
Status RemoveTree(const std::string& path);
// Writes `contents` to a temporary file beside `path`, fsyncs it and renames it over `path`.
Status WriteFileAtomically(const std::string& path, const std::string& contents);
// Creates `path` with `contents` only if it does not exist yet (O_EXCL): the first writer wins.
// Returns OK without writing when the file already exists.
Status WriteFileIfAbsent(const std::string& path, const std::string& contents);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_FILE_UTIL_H_
