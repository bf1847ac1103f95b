// ToCmdArgs: hyperparameters to an argv vector, exactly as the toolkit's mapping.to_cmd_args:
// keys in sorted order, "--key" ("-k" for one-character keys, nothing for ""), each followed by
// Python's str() of its value (True/False, 5e-05, [1, 'a b']); a dict value becomes "k=v,..." in
// key order; None becomes "". The result is an argv vector, never a shell string: values arrive
// byte for byte, with no word splitting, globbing or quote stripping.
#ifndef TRAINRT_RUNTIME_CMD_ARGS_H_
#define TRAINRT_RUNTIME_CMD_ARGS_H_

#include <string>
#include <vector>

#include "runtime/python_value.h"

namespace trainrt::runtime {

std::vector<std::string> ToCmdArgs(const PyValue::Dict& hyperparameters);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_CMD_ARGS_H_
