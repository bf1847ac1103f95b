// Reading a config.json field into a typed value, with the error naming the file and field:
// what every family's config reader uses.
#ifndef TRAINRT_TRAINER_MODEL_CONFIG_FIELDS_H_
#define TRAINRT_TRAINER_MODEL_CONFIG_FIELDS_H_

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/status.h"

namespace trainrt::trainer {

// Reads j[key] into `out` when present and not null (else `out` keeps its default); an error
// naming `source` and the field when it has the wrong type.
template <typename T>
runtime::Status ReadField(const nlohmann::json& j, const char* key, T& out, const std::string& source) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return runtime::Status::Ok();
  try {
    out = it->template get<T>();
    return runtime::Status::Ok();
  } catch (const nlohmann::json::exception&) {
    return runtime::Status::InvalidArgument(source + ": field '" + key + "': unexpected value " + it->dump());
  }
}

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_MODEL_CONFIG_FIELDS_H_
