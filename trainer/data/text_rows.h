// Rows of text columns from a SageMaker channel folder, for tasks whose examples are text fields
// (the SFT formats: `text`, `prompt` and `completion`, or `messages`), each either a string or a
// conversation (a list of {"role", "content"} messages). Reads, in name order, JSON Lines files
// (*.jsonl, *.json with one object per line) and the tables Arrow reads (Parquet, CSV, TSV, and
// the .arrow shards of a datasets save_to_disk folder, whose metadata files are skipped). Errors
// name the file, the row (1-based) and the column. Plain structs: no libtorch here.
#ifndef TRAINRT_TRAINER_DATA_TEXT_ROWS_H_
#define TRAINRT_TRAINER_DATA_TEXT_ROWS_H_

#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::trainer {

struct TextRows {
  std::vector<std::string> columns;       // the columns read, in the order asked for
  std::vector<std::vector<std::string>> rows;  // one value per column: the text, or the conversation's JSON
  std::vector<std::string> first_row_keys;     // every key of the first row (to say what a file holds)
  bool conversational = false;                 // the values are conversations, as the first row's are
};

// The rows of the first of `alternatives` (each a list of columns) whose columns the first row
// has, every row then having all of them, all strings or all conversations as the first row's
// first column is. InvalidArgument names the file, the row and the column, or the alternatives
// when the first row has none of them.
runtime::Result<TextRows> ReadTextRows(const std::string& dir, const std::vector<std::vector<std::string>>& alternatives);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DATA_TEXT_ROWS_H_
