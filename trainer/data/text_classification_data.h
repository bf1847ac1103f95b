// Text-classification examples from a SageMaker channel folder, and their labels.
// Reads, in name order, JSON Lines files (*.jsonl, *.json with one object per line) and, through
// Apache Arrow (arrow_table_reader.h), *.arrow (datasets save_to_disk shards; its state.json and
// dataset_info.json are skipped), *.parquet, *.csv and *.tsv. Errors name the file, the row
// (1-based) and the column. Plain structs: no libtorch here.
#ifndef TRAINRT_TRAINER_DATA_TEXT_CLASSIFICATION_DATA_H_
#define TRAINRT_TRAINER_DATA_TEXT_CLASSIFICATION_DATA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::trainer {

struct TextExample {
  std::string text;
  std::optional<std::string> pair;
  std::string label;        // as written: "1", "positive"
  bool label_is_int = false;
  std::vector<int32_t> input_ids;       // pre-tokenized rows: used as they are (text is then empty)
  std::vector<int32_t> attention_mask;  // pre-tokenized rows' mask when the data has one (padded rows)
};

struct Columns {
  std::string text = "text";
  std::string pair;  // "" for single texts
  std::string label = "label";
};

runtime::Result<std::vector<TextExample>> ReadTextClassificationChannel(const std::string& dir, const Columns& columns);

// Label ids: integer labels are their own ids (0..num_labels-1); string labels get ids in sorted
// order. `num_labels` 0 derives the count from the data.
struct LabelMap {
  std::vector<std::string> names;  // id -> name (for id2label); integer labels: "LABEL_<id>"
  bool named = false;              // string labels (id2label is worth exporting)
  std::map<std::string, int64_t> ids;
};
runtime::Result<LabelMap> BuildLabelMap(const std::vector<TextExample>& train, const std::vector<TextExample>& eval,
                                        int64_t num_labels);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DATA_TEXT_CLASSIFICATION_DATA_H_
