// Token ids (and type ids, masks, word ids) identical to Hugging Face `tokenizers` on the corpus of
// scripts/tokenizer/gen_golden.py, from tokenizer.json and from the vocab.txt fallback.
#include "trainer/tokenizer/wordpiece_tokenizer.h"

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/runtime/test_util.h"

namespace trainrt::trainer {
namespace {

nlohmann::json Corpus() {
  std::ifstream in(testing::TestDataDir() + "/tokenizer/expected.json");
  return nlohmann::json::parse(in);
}

void ExpectParity(const WordPieceTokenizer& tok) {
  const nlohmann::json corpus = Corpus();
  ASSERT_GE(corpus.size(), 50u);
  for (const auto& c : corpus) {
    EncodeOptions options;
    options.max_length = c["max_length"].get<int>();
    options.pad_to_max_length = c["pad"].get<bool>();
    std::optional<std::string> pair;
    if (!c["pair"].is_null()) pair = c["pair"].get<std::string>();
    const std::string text = c["text"].get<std::string>();
    Encoding e = tok.Encode(text, pair ? std::optional<std::string_view>(*pair) : std::nullopt, options);
    const std::string what = "text=" + c["text"].dump() + " pair=" + c["pair"].dump() +
                             " max_length=" + std::to_string(options.max_length);
    EXPECT_EQ(e.input_ids, c["ids"].get<std::vector<int32_t>>()) << what;
    EXPECT_EQ(e.token_type_ids, c["type_ids"].get<std::vector<int32_t>>()) << what;
    EXPECT_EQ(e.attention_mask, c["attention_mask"].get<std::vector<int32_t>>()) << what;
    EXPECT_EQ(e.word_ids, c["word_ids"].get<std::vector<int32_t>>()) << what;
  }
}

TEST(WordPieceTokenizer, IdsEqualHuggingFaceTokenizersFromTokenizerJson) {
  auto tok = WordPieceTokenizer::FromTokenizerJson(std::string(TRAINRT_MINILM_DIR) + "/tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(tok->vocab_size(), 30522u);
  EXPECT_EQ(tok->cls_id(), 101);
  EXPECT_EQ(tok->sep_id(), 102);
  ExpectParity(*tok);
}

TEST(WordPieceTokenizer, VocabTxtFallbackGivesTheSameIds) {
  testing::ScratchDir dir;
  for (const char* name : {"vocab.txt", "tokenizer_config.json"}) {
    auto contents = runtime::ReadFileToString(std::string(TRAINRT_MINILM_DIR) + "/" + name);
    ASSERT_TRUE(contents.ok());
    dir.Write(name, *contents);
  }
  auto tok = WordPieceTokenizer::Load(dir.path());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  ExpectParity(*tok);
}

TEST(WordPieceTokenizer, BadFilesGiveClearErrors) {
  testing::ScratchDir dir;
  EXPECT_EQ(WordPieceTokenizer::Load(dir.path()).status().ToString(), dir.path() + ": no tokenizer.json or vocab.txt");
  dir.Write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {}}})");
  EXPECT_NE(WordPieceTokenizer::Load(dir.path()).status().ToString().find(
                "key 'model': expected a WordPiece model with a vocab"),
            std::string::npos);
  dir.Write("tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})");
  EXPECT_NE(WordPieceTokenizer::Load(dir.path()).status().ToString().find("vocabulary has no '[UNK]' token"),
            std::string::npos);
}

}  // namespace
}  // namespace trainrt::trainer
