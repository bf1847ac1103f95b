// Every data format a channel may hold gives the same examples: JSON Lines, CSV, TSV, Parquet and
// datasets' save_to_disk (read with Apache Arrow), and pre-tokenized save_to_disk folders keep
// their ids and attention masks. Fixtures come from scripts/data/make_format_fixtures.py.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/trainer/python_fixture.h"
#include "trainer/data/text_classification_data.h"
#include "trainer/data/text_rows.h"

namespace trainrt::trainer {
namespace {

class DataFormats : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new testing::PythonFixture("scripts/data/make_format_fixtures.py");
    ASSERT_TRUE(fixture_->ok()) << "scripts/data/make_format_fixtures.py failed";
  }
  static void TearDownTestSuite() { delete fixture_; }
  static testing::PythonFixture* fixture_;
};
testing::PythonFixture* DataFormats::fixture_ = nullptr;

TEST_F(DataFormats, TextFormatsGiveTheSameExamples) {
  for (const char* format : {"jsonl", "csv", "tsv", "parquet", "save_to_disk"}) {
    auto examples = ReadTextClassificationChannel(fixture_->path() + "/" + format, Columns{});
    ASSERT_TRUE(examples.ok()) << format << ": " << examples.status().ToString();
    const auto& rows = fixture_->expected()["rows"];
    ASSERT_EQ(examples->size(), rows.size()) << format;
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ((*examples)[i].text, rows[i]["text"].get<std::string>()) << format << " row " << i;
      EXPECT_EQ((*examples)[i].label, rows[i]["label"].get<std::string>()) << format << " row " << i;
      EXPECT_FALSE((*examples)[i].label_is_int) << format;
    }
  }
}

TEST_F(DataFormats, PretokenizedSaveToDiskKeepsIdsMasksAndLabels) {
  auto examples = ReadTextClassificationChannel(fixture_->path() + "/pretokenized", Columns{});
  ASSERT_TRUE(examples.ok()) << examples.status().ToString();
  ASSERT_EQ(examples->size(), 4u);
  EXPECT_EQ((*examples)[2].input_ids, fixture_->expected()["input_ids"][2].get<std::vector<int32_t>>());
  EXPECT_EQ((*examples)[2].attention_mask, fixture_->expected()["attention_mask"][2].get<std::vector<int32_t>>());
  EXPECT_EQ((*examples)[2].label, "1");  // the "labels" column, as the notebook names it
  EXPECT_TRUE((*examples)[2].label_is_int);
}

TEST_F(DataFormats, MissingColumnNamesFileAndColumns) {
  auto r = ReadTextClassificationChannel(fixture_->path() + "/parquet", Columns{"sentence", "", "label"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("data.parquet: missing column 'sentence' (columns: text: string"),
            std::string::npos)
      << r.status().ToString();
}

// The causal-LM task's rows: conversations from JSON Lines, Parquet and save_to_disk (a list of
// structs), prompt/completion pairs from JSON Lines, CSV and Parquet, all alike.
TEST_F(DataFormats, SftFormatsGiveTheSameRows) {
  const std::vector<std::vector<std::string>> alternatives = {{"text"}, {"prompt", "completion"}, {"messages"}};
  for (const char* format : {"messages_jsonl", "messages_parquet", "messages_save_to_disk"}) {
    auto rows = ReadTextRows(fixture_->path() + "/sft/" + format, alternatives);
    ASSERT_TRUE(rows.ok()) << format << ": " << rows.status().ToString();
    EXPECT_TRUE(rows->conversational) << format;
    EXPECT_EQ(rows->columns, std::vector<std::string>{"messages"}) << format;
    const auto& want = fixture_->expected()["conversations"];
    ASSERT_EQ(rows->rows.size(), want.size()) << format;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(nlohmann::json::parse(rows->rows[i][0]), want[i]["messages"]) << format << " row " << i;
    }
  }
  for (const char* format : {"pairs_jsonl", "pairs_csv", "pairs_parquet"}) {
    auto rows = ReadTextRows(fixture_->path() + "/sft/" + format, alternatives);
    ASSERT_TRUE(rows.ok()) << format << ": " << rows.status().ToString();
    EXPECT_FALSE(rows->conversational) << format;
    const auto& want = fixture_->expected()["pairs"];
    ASSERT_EQ(rows->rows.size(), want.size()) << format;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(rows->rows[i], (std::vector<std::string>{want[i]["prompt"], want[i]["completion"]})) << format << " row " << i;
    }
  }
}

}  // namespace
}  // namespace trainrt::trainer
