#include "trainer/data/text_rows.h"

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "runtime/strings.h"
#include "trainer/data/arrow_table_reader.h"
#include "trainer/data/channel_files.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

std::string Describe(const std::vector<std::vector<std::string>>& alternatives) {
  std::string out;
  for (size_t a = 0; a < alternatives.size(); ++a) {
    out += a == 0 ? "" : a + 1 == alternatives.size() ? " or " : ", ";
    for (size_t c = 0; c < alternatives[a].size(); ++c) out += (c == 0 ? "'" : " and '") + alternatives[a][c] + "'";
  }
  return out;
}

}  // namespace

Result<TextRows> ReadTextRows(const std::string& dir, const std::vector<std::vector<std::string>>& alternatives) {
  auto files = ChannelFiles(dir);
  if (!files.ok()) return files.status();
  TextRows out;
  bool chosen = false;
  const std::function<Status(const nlohmann::json&, const std::string&)> take = [&](const nlohmann::json& row,
                                                                                   const std::string& where) -> Status {
    if (!chosen) {
      for (const auto& [key, value] : row.items()) out.first_row_keys.push_back(key);
      for (const auto& columns : alternatives) {
        if (std::all_of(columns.begin(), columns.end(), [&](const std::string& c) { return row.contains(c); })) {
          out.columns = columns;
          chosen = true;
          break;
        }
      }
      if (!chosen) {
        return Status::InvalidArgument(where + ": expected the column(s) " + Describe(alternatives) + ", found " +
                                       nlohmann::json(out.first_row_keys).dump());
      }
    }
    if (out.rows.empty()) out.conversational = row[out.columns[0]].is_array();
    std::vector<std::string> values;
    for (const std::string& column : out.columns) {
      const auto it = row.find(column);
      if (it == row.end()) return Status::InvalidArgument(where + ": missing column '" + column + "'");
      if (out.conversational) {
        const bool messages = it->is_array() && std::all_of(it->begin(), it->end(), [](const nlohmann::json& m) {
          return m.is_object() && m.contains("role") && m["role"].is_string();
        });
        if (!messages) {
          return Status::InvalidArgument(where + ": column '" + column +
                                         "': expected a conversation (a list of {\"role\", \"content\"} "
                                         "messages, as the first row has), got " + it->dump().substr(0, 200));
        }
        values.push_back(it->dump());
      } else if (!it->is_string()) {
        return Status::InvalidArgument(where + ": column '" + column + "': expected text, got " + it->dump().substr(0, 200));
      } else {
        values.push_back(it->get<std::string>());
      }
    }
    out.rows.push_back(std::move(values));
    return Status::Ok();
  };
  for (const std::string& name : *files) {
    const std::string path = dir + "/" + name;
    if (name == "state.json" || name == "dataset_info.json") continue;  // save_to_disk metadata
    if (IsArrowReadable(name)) {
      TRAINRT_RETURN_IF_ERROR(ForEachArrowRow(path, take));
    } else if (runtime::EndsWith(name, ".jsonl") || runtime::EndsWith(name, ".json")) {
      TRAINRT_RETURN_IF_ERROR(ForEachJsonLine(path, take));
    } else {
      return Status::InvalidArgument(path + ": unsupported data file (expected .jsonl, .json, .parquet, .arrow, .csv "
                                     "or .tsv)");
    }
  }
  if (out.rows.empty()) return Status::InvalidArgument("channel " + dir + ": no examples");
  return out;
}

}  // namespace trainrt::trainer
