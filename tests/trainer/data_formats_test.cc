// Every data format a channel may hold gives the same examples: JSON Lines, CSV, TSV, Parquet and
// datasets' save_to_disk (read with Apache Arrow), and pre-tokenized save_to_disk folders keep
// their ids and attention masks. Fixtures come from scripts/data/make_format_fixtures.py.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/runtime/test_util.h"
#include "trainer/data/text_classification_data.h"

namespace trainrt::trainer {
namespace {

class DataFormats : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::ScratchDir();
    const std::string cmd = std::string(TRAINRT_PYTHON) + " " + TRAINRT_SOURCE_DIR +
                            "/scripts/data/make_format_fixtures.py " + dir_->path() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(dir_->path() + "/expected.json");
    expected_ = new nlohmann::json(nlohmann::json::parse(in));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete expected_;
  }
  static testing::ScratchDir* dir_;
  static nlohmann::json* expected_;
};
testing::ScratchDir* DataFormats::dir_ = nullptr;
nlohmann::json* DataFormats::expected_ = nullptr;

TEST_F(DataFormats, TextFormatsGiveTheSameExamples) {
  for (const char* format : {"jsonl", "csv", "tsv", "parquet", "save_to_disk"}) {
    auto examples = ReadTextClassificationChannel(dir_->path() + "/" + format, Columns{});
    ASSERT_TRUE(examples.ok()) << format << ": " << examples.status().ToString();
    const auto& rows = (*expected_)["rows"];
    ASSERT_EQ(examples->size(), rows.size()) << format;
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ((*examples)[i].text, rows[i]["text"].get<std::string>()) << format << " row " << i;
      EXPECT_EQ((*examples)[i].label, rows[i]["label"].get<std::string>()) << format << " row " << i;
      EXPECT_FALSE((*examples)[i].label_is_int) << format;
    }
  }
}

TEST_F(DataFormats, PretokenizedSaveToDiskKeepsIdsMasksAndLabels) {
  auto examples = ReadTextClassificationChannel(dir_->path() + "/pretokenized", Columns{});
  ASSERT_TRUE(examples.ok()) << examples.status().ToString();
  ASSERT_EQ(examples->size(), 4u);
  EXPECT_EQ((*examples)[2].input_ids, (*expected_)["input_ids"][2].get<std::vector<int32_t>>());
  EXPECT_EQ((*examples)[2].attention_mask, (*expected_)["attention_mask"][2].get<std::vector<int32_t>>());
  EXPECT_EQ((*examples)[2].label, "1");  // the "labels" column, as the notebook names it
  EXPECT_TRUE((*examples)[2].label_is_int);
}

TEST_F(DataFormats, MissingColumnNamesFileAndColumns) {
  auto r = ReadTextClassificationChannel(dir_->path() + "/parquet", Columns{"sentence", "", "label"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("data.parquet: missing column 'sentence' (columns: text: string"),
            std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace trainrt::trainer
