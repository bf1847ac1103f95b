// ParsePythonJson: decode text exactly as Python's json.loads does (the toolkit decodes every config
// file and every hyperparameter value with it): NaN, Infinity and -Infinity are accepted, integers
// keep every digit, duplicate object keys keep the last value at the first key's position, and only
// space, tab, CR and LF count as whitespace.
#ifndef TRAINRT_RUNTIME_PYTHON_JSON_H_
#define TRAINRT_RUNTIME_PYTHON_JSON_H_

#include <string_view>

#include "runtime/python_value.h"
#include "runtime/status.h"

namespace trainrt::runtime {

// InvalidArgument naming the offending character position when `text` is not one JSON document.
Result<PyValue> ParsePythonJson(std::string_view text);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_PYTHON_JSON_H_
