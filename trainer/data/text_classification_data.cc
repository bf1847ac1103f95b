#include "trainer/data/text_classification_data.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "runtime/strings.h"
#include "trainer/data/arrow_table_reader.h"
#include "trainer/data/channel_files.h"

namespace trainrt::trainer {
namespace {

using runtime::EndsWith;

using runtime::Result;
using runtime::Status;

Status ReadJsonLines(const std::string& path, const Columns& columns, std::vector<TextExample>& out) {
  return ForEachJsonLine(path, [&](const nlohmann::json& row, const std::string& where) -> Status {
    auto field = [&](const std::string& column, std::string& value) -> Status {
      if (!row.contains(column)) return Status::InvalidArgument(where + ": missing column '" + column + "'");
      if (!row[column].is_string()) return Status::InvalidArgument(where + ": column '" + column + "': expected text");
      value = row[column].get<std::string>();
      return Status::Ok();
    };
    TextExample ex;
    TRAINRT_RETURN_IF_ERROR(field(columns.text, ex.text));
    if (!columns.pair.empty()) {
      std::string pair;
      TRAINRT_RETURN_IF_ERROR(field(columns.pair, pair));
      ex.pair = pair;
    }
    if (!row.contains(columns.label)) return Status::InvalidArgument(where + ": missing column '" + columns.label + "'");
    const auto& label = row[columns.label];
    if (label.is_number_integer()) {
      ex.label = std::to_string(label.get<int64_t>());
      ex.label_is_int = true;
    } else if (label.is_string() && !label.get<std::string>().empty()) {
      ex.label = label.get<std::string>();
    } else {
      return Status::InvalidArgument(where + ": column '" + columns.label + "': expected an integer or a name, got " +
                                     label.dump());
    }
    out.push_back(std::move(ex));
    return Status::Ok();
  });
}

}  // namespace

Result<std::vector<TextExample>> ReadTextClassificationChannel(const std::string& dir, const Columns& columns) {
  auto files = ChannelFiles(dir);
  if (!files.ok()) return files.status();
  std::vector<TextExample> out;
  for (const std::string& name : *files) {
    const std::string path = dir + "/" + name;
    if (name == "state.json" || name == "dataset_info.json") continue;  // save_to_disk metadata
    if (name == "dataset_dict.json") {
      return Status::InvalidArgument(dir + " holds a DatasetDict: point the channel at one split's folder");
    }
    if (EndsWith(name, ".jsonl") || EndsWith(name, ".json")) {
      TRAINRT_RETURN_IF_ERROR(ReadJsonLines(path, columns, out));
    } else if (IsArrowReadable(name)) {
      TRAINRT_RETURN_IF_ERROR(AppendArrowFileExamples(path, columns, out));
    } else {
      return Status::InvalidArgument(path + ": unsupported data file (expected .jsonl, .json, .arrow, .parquet, .csv "
                                     "or .tsv)");
    }
  }
  if (out.empty()) return Status::InvalidArgument("channel " + dir + ": no examples");
  return out;
}

Result<LabelMap> BuildLabelMap(const std::vector<TextExample>& train, const std::vector<TextExample>& eval,
                               int64_t num_labels) {
  LabelMap m;
  bool any_int = false, any_name = false;
  std::set<std::string> names;
  int64_t max_id = -1;
  for (const auto* set : {&train, &eval}) {
    for (const auto& ex : *set) {
      if (ex.label_is_int) {
        any_int = true;
        max_id = std::max<int64_t>(max_id, std::stoll(ex.label));
        if (std::stoll(ex.label) < 0) return Status::InvalidArgument("label " + ex.label + " is negative");
      } else {
        any_name = true;
        names.insert(ex.label);
      }
    }
  }
  if (any_int && any_name) return Status::InvalidArgument("labels mix integers and names; use one kind");
  if (any_name) {
    m.named = true;
    m.names.assign(names.begin(), names.end());
    if (num_labels > 0 && static_cast<int64_t>(m.names.size()) > num_labels) {
      return Status::InvalidArgument(std::to_string(m.names.size()) + " label names, more than --num_labels=" +
                                     std::to_string(num_labels));
    }
  } else {
    const int64_t n = num_labels > 0 ? num_labels : std::max<int64_t>(2, max_id + 1);
    if (max_id >= n) {
      return Status::InvalidArgument("label " + std::to_string(max_id) + " is outside num_labels=" + std::to_string(n));
    }
    for (int64_t i = 0; i < n; ++i) m.names.push_back("LABEL_" + std::to_string(i));
  }
  for (size_t i = 0; i < m.names.size(); ++i) {
    m.ids[m.named ? m.names[i] : std::to_string(i)] = static_cast<int64_t>(i);
  }
  return m;
}

}  // namespace trainrt::trainer
