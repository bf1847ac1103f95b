// The files of a SageMaker channel folder, and JSON Lines files as the channel readers take them:
// one object per non-blank line.
#ifndef TRAINRT_TRAINER_DATA_CHANNEL_FILES_H_
#define TRAINRT_TRAINER_DATA_CHANNEL_FILES_H_

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/status.h"

namespace trainrt::trainer {

// The regular files of `dir` but hidden ones, by name.
runtime::Result<std::vector<std::string>> ChannelFiles(const std::string& dir);

// Calls `row` with each line's object and "<path>: row <n>" (1-based) for its errors; stops at
// the first error, its own or a line that is not a JSON object.
runtime::Status ForEachJsonLine(const std::string& path,
                                const std::function<runtime::Status(const nlohmann::json&, const std::string&)>& row);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DATA_CHANNEL_FILES_H_
