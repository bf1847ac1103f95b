#include "trainer/data/arrow_table_reader.h"

#include <arrow/api.h>
#include <arrow/csv/api.h>
#include <arrow/io/api.h>
#include <arrow/ipc/api.h>
#include <nlohmann/json.hpp>
#include <parquet/arrow/reader.h>

#include "runtime/strings.h"

namespace trainrt::trainer {
namespace {

using runtime::EndsWith;

using runtime::Status;

Status FromArrow(const std::string& path, const arrow::Status& s) {
  return Status::InvalidArgument(path + ": " + s.ToString());
}

arrow::Result<std::shared_ptr<arrow::Table>> ReadIpc(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path));
  auto stream = arrow::ipc::RecordBatchStreamReader::Open(file);  // datasets writes the stream format
  if (stream.ok()) return (*stream)->ToTable();
  ARROW_RETURN_NOT_OK(file->Seek(0));
  ARROW_ASSIGN_OR_RAISE(auto reader, arrow::ipc::RecordBatchFileReader::Open(file));
  return reader->ToTable();
}

arrow::Result<std::shared_ptr<arrow::Table>> ReadParquet(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path));
  ARROW_ASSIGN_OR_RAISE(auto reader, parquet::arrow::OpenFile(file, arrow::default_memory_pool()));
  return reader->ReadTable();
}

arrow::Result<std::shared_ptr<arrow::Table>> ReadCsv(const std::string& path, char delimiter) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path));
  auto parse = arrow::csv::ParseOptions::Defaults();
  parse.delimiter = delimiter;
  ARROW_ASSIGN_OR_RAISE(auto reader, arrow::csv::TableReader::Make(arrow::io::default_io_context(), file,
                                                                   arrow::csv::ReadOptions::Defaults(), parse,
                                                                   arrow::csv::ConvertOptions::Defaults()));
  return reader->Read();
}

// One column as a single array, or nullptr when the table has no such column.
arrow::Result<std::shared_ptr<arrow::Array>> Column(const arrow::Table& table, const std::string& name) {
  auto column = table.GetColumnByName(name);
  if (column == nullptr) return std::shared_ptr<arrow::Array>();
  if (column->num_chunks() == 1) return column->chunk(0);
  return arrow::Concatenate(column->chunks());
}

bool IsInteger(arrow::Type::type t) {
  return t == arrow::Type::INT8 || t == arrow::Type::INT16 || t == arrow::Type::INT32 || t == arrow::Type::INT64 ||
         t == arrow::Type::UINT8 || t == arrow::Type::UINT16 || t == arrow::Type::UINT32;
}

int64_t IntAt(const arrow::Array& a, int64_t i) {
  switch (a.type_id()) {
    case arrow::Type::INT8: return static_cast<const arrow::Int8Array&>(a).Value(i);
    case arrow::Type::INT16: return static_cast<const arrow::Int16Array&>(a).Value(i);
    case arrow::Type::INT32: return static_cast<const arrow::Int32Array&>(a).Value(i);
    case arrow::Type::UINT8: return static_cast<const arrow::UInt8Array&>(a).Value(i);
    case arrow::Type::UINT16: return static_cast<const arrow::UInt16Array&>(a).Value(i);
    case arrow::Type::UINT32: return static_cast<const arrow::UInt32Array&>(a).Value(i);
    default: return static_cast<const arrow::Int64Array&>(a).Value(i);
  }
}

bool IsString(arrow::Type::type t) { return t == arrow::Type::STRING || t == arrow::Type::LARGE_STRING; }

std::string StringAt(const arrow::Array& a, int64_t i) {
  if (a.type_id() == arrow::Type::LARGE_STRING) return static_cast<const arrow::LargeStringArray&>(a).GetString(i);
  return static_cast<const arrow::StringArray&>(a).GetString(i);
}

// The ids of a list<int> or large_list<int> cell.
bool IdsAt(const arrow::Array& a, int64_t i, std::vector<int32_t>& out) {
  std::shared_ptr<arrow::Array> values;
  if (a.type_id() == arrow::Type::LIST) {
    values = static_cast<const arrow::ListArray&>(a).value_slice(i);
  } else if (a.type_id() == arrow::Type::LARGE_LIST) {
    values = static_cast<const arrow::LargeListArray&>(a).value_slice(i);
  } else {
    return false;
  }
  if (!IsInteger(values->type_id())) return false;
  out.clear();
  for (int64_t j = 0; j < values->length(); ++j) out.push_back(static_cast<int32_t>(IntAt(*values, j)));
  return true;
}

Status TableExamples(const std::string& path, const arrow::Table& table, const Columns& columns,
                     std::vector<TextExample>& out) {
  auto ids = Column(table, "input_ids");
  if (!ids.ok()) return FromArrow(path, ids.status());
  auto mask = Column(table, "attention_mask");
  if (!mask.ok()) return FromArrow(path, mask.status());
  const bool pretokenized = *ids != nullptr;
  std::string label_name = columns.label;
  if (table.GetColumnByName(label_name) == nullptr && table.GetColumnByName("labels") != nullptr) label_name = "labels";
  auto label = Column(table, label_name);
  auto text = Column(table, columns.text);
  auto pair = columns.pair.empty() ? arrow::Result<std::shared_ptr<arrow::Array>>(std::shared_ptr<arrow::Array>())
                                   : Column(table, columns.pair);
  for (auto* r : {&label, &text, &pair}) {
    if (!r->ok()) return FromArrow(path, r->status());
  }
  auto missing = [&](const std::string& column) {
    return Status::InvalidArgument(path + ": missing column '" + column + "' (columns: " +
                                   table.schema()->ToString(false) + ")");
  };
  if (*label == nullptr) return missing(columns.label);
  if (!pretokenized && *text == nullptr) return missing(columns.text);
  if (!pretokenized && !columns.pair.empty() && *pair == nullptr) return missing(columns.pair);
  const arrow::Array& labels = **label;
  if (!IsInteger(labels.type_id()) && !IsString(labels.type_id())) {
    return Status::InvalidArgument(path + ": column '" + label_name + "': expected integers or names, got " +
                                   labels.type()->ToString());
  }
  for (const auto* c : {text->get(), pair->get()}) {
    if (!pretokenized && c != nullptr && !IsString(c->type_id())) {
      return Status::InvalidArgument(path + ": text column has type " + c->type()->ToString() + ", expected strings");
    }
  }
  for (int64_t row = 0; row < table.num_rows(); ++row) {
    const std::string where = path + ": row " + std::to_string(row + 1);
    TextExample ex;
    if (labels.IsNull(row)) return Status::InvalidArgument(where + ": column '" + label_name + "' is empty");
    ex.label_is_int = IsInteger(labels.type_id());
    ex.label = ex.label_is_int ? std::to_string(IntAt(labels, row)) : StringAt(labels, row);
    if (pretokenized) {
      if ((*ids)->IsNull(row) || !IdsAt(**ids, row, ex.input_ids)) {
        return Status::InvalidArgument(where + ": column 'input_ids': expected a list of token ids");
      }
      if (*mask != nullptr && (!IdsAt(**mask, row, ex.attention_mask) || ex.attention_mask.size() != ex.input_ids.size())) {
        return Status::InvalidArgument(where + ": column 'attention_mask': expected a list as long as input_ids");
      }
    } else {
      if ((*text)->IsNull(row)) return Status::InvalidArgument(where + ": column '" + columns.text + "' is empty");
      ex.text = StringAt(**text, row);
      if (*pair != nullptr) {
        if ((*pair)->IsNull(row)) return Status::InvalidArgument(where + ": column '" + columns.pair + "' is empty");
        ex.pair = StringAt(**pair, row);
      }
    }
    out.push_back(std::move(ex));
  }
  return Status::Ok();
}

// One cell as JSON; false for a type with no JSON counterpart (binary, dates, ...).
bool CellToJson(const arrow::Array& a, int64_t i, nlohmann::json& out) {
  if (a.IsNull(i)) {
    out = nullptr;
    return true;
  }
  const arrow::Type::type t = a.type_id();
  if (IsString(t)) {
    out = StringAt(a, i);
  } else if (IsInteger(t)) {
    out = IntAt(a, i);
  } else if (t == arrow::Type::UINT64) {
    out = static_cast<const arrow::UInt64Array&>(a).Value(i);
  } else if (t == arrow::Type::DOUBLE) {
    out = static_cast<const arrow::DoubleArray&>(a).Value(i);
  } else if (t == arrow::Type::FLOAT) {
    out = static_cast<const arrow::FloatArray&>(a).Value(i);
  } else if (t == arrow::Type::BOOL) {
    out = static_cast<const arrow::BooleanArray&>(a).Value(i);
  } else if (t == arrow::Type::LIST || t == arrow::Type::LARGE_LIST) {
    const std::shared_ptr<arrow::Array> values = t == arrow::Type::LIST
                                                     ? static_cast<const arrow::ListArray&>(a).value_slice(i)
                                                     : static_cast<const arrow::LargeListArray&>(a).value_slice(i);
    out = nlohmann::json::array();
    for (int64_t j = 0; j < values->length(); ++j) {
      nlohmann::json item;
      if (!CellToJson(*values, j, item)) return false;
      out.push_back(std::move(item));
    }
  } else if (t == arrow::Type::STRUCT) {
    const auto& s = static_cast<const arrow::StructArray&>(a);
    out = nlohmann::json::object();
    for (int f = 0; f < s.num_fields(); ++f) {
      nlohmann::json field;
      if (!CellToJson(*s.field(f), i, field)) return false;
      out[s.type()->field(f)->name()] = std::move(field);
    }
  } else {
    return false;
  }
  return true;
}

arrow::Result<std::shared_ptr<arrow::Table>> ReadTable(const std::string& path) {
  return EndsWith(path, ".arrow")     ? ReadIpc(path)
         : EndsWith(path, ".parquet") ? ReadParquet(path)
                                      : ReadCsv(path, EndsWith(path, ".tsv") ? '\t' : ',');
}

}  // namespace

Status ForEachArrowRow(const std::string& path,
                       const std::function<Status(const nlohmann::json&, const std::string&)>& row) {
  auto table = ReadTable(path);
  if (!table.ok()) return FromArrow(path, table.status());
  auto combined = (*table)->CombineChunks();
  if (!combined.ok()) return FromArrow(path, combined.status());
  const arrow::Table& t = **combined;
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (int c = 0; c < t.num_columns(); ++c) {
    columns.push_back(t.column(c)->num_chunks() > 0 ? t.column(c)->chunk(0) : nullptr);
  }
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    const std::string where = path + ": row " + std::to_string(r + 1);
    nlohmann::json object = nlohmann::json::object();
    for (int c = 0; c < t.num_columns(); ++c) {
      nlohmann::json cell;
      if (columns[static_cast<size_t>(c)] == nullptr || !CellToJson(*columns[static_cast<size_t>(c)], r, cell)) {
        return Status::InvalidArgument(where + ": column '" + t.field(c)->name() + "' has type " +
                                       t.field(c)->type()->ToString() + ", which has no JSON form");
      }
      object[t.field(c)->name()] = std::move(cell);
    }
    TRAINRT_RETURN_IF_ERROR(row(object, where));
  }
  return Status::Ok();
}

bool IsArrowReadable(const std::string& path) {
  return EndsWith(path, ".arrow") || EndsWith(path, ".parquet") || EndsWith(path, ".csv") || EndsWith(path, ".tsv");
}

Status AppendArrowFileExamples(const std::string& path, const Columns& columns, std::vector<TextExample>& out) {
  arrow::Result<std::shared_ptr<arrow::Table>> table = ReadTable(path);
  if (!table.ok()) return FromArrow(path, table.status());
  return TableExamples(path, **table, columns, out);
}

}  // namespace trainrt::trainer
