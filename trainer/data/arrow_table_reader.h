// Tabular data files read with Apache Arrow's C++ readers (the libraries inside the pyarrow
// wheel): Arrow IPC (the data-*.arrow shards of a datasets save_to_disk folder, stream or file
// format), Parquet, CSV and TSV. Rows become TextExamples; a table with an `input_ids` column is
// pre-tokenized (the SageMaker notebook's save_to_disk datasets) and its ids are used as they are.
// Errors name the file, the row (1-based) and the column.
#ifndef TRAINRT_TRAINER_DATA_ARROW_TABLE_READER_H_
#define TRAINRT_TRAINER_DATA_ARROW_TABLE_READER_H_

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/status.h"
#include "trainer/data/text_classification_data.h"

namespace trainrt::trainer {

// True for the file types this reader handles (.arrow, .parquet, .csv, .tsv).
bool IsArrowReadable(const std::string& path);
runtime::Status AppendArrowFileExamples(const std::string& path, const Columns& columns,
                                        std::vector<TextExample>& out);

// Calls `row` with each row of the table in `path` as a JSON object (strings, numbers, booleans,
// lists and structs as JSON values, nulls as null: a datasets conversation column, a list of
// structs, becomes its list of messages) and "<path>: row <n>" (1-based) for its errors.
runtime::Status ForEachArrowRow(const std::string& path,
                                const std::function<runtime::Status(const nlohmann::json&, const std::string&)>& row);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DATA_ARROW_TABLE_READER_H_
