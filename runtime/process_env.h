// EnvMap: a snapshot of environment variables. Contract code reads variables from a snapshot
// passed in, never from the live process, so tests and `trainrt local` can inject any environment.
#ifndef TRAINRT_RUNTIME_PROCESS_ENV_H_
#define TRAINRT_RUNTIME_PROCESS_ENV_H_

#include <map>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::runtime {

using EnvMap = std::map<std::string, std::string>;

// The calling process's environment (environ), copied.
EnvMap CurrentProcessEnv();
// The value of `name`, or `fallback` when unset.
std::string EnvOr(const EnvMap& env, const std::string& name, const std::string& fallback);
// The integer setting `name`: `fallback` when unset; InvalidArgument "NAME='v': expected <expected>"
// unless it is a whole number in [min, max].
Result<int> EnvInt(const EnvMap& env, const std::string& name, int fallback, int min, int max,
                   const std::string& expected);
// "NAME=value" strings, as execve wants them.
std::vector<std::string> ToEnvStrings(const EnvMap& env);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_PROCESS_ENV_H_
