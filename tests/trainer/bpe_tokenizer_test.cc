// Byte-level BPE ids, type ids and word ids identical to Hugging Face `tokenizers`, for tokenizers
// its own trainer made in GPT-2's, Llama 3's and Qwen2's layouts (scripts/tokenizer/
// make_bpe_tokenizers.py), on a corpus with emoji, CJK, combining marks, whitespace runs, digits,
// code and special tokens in the text; with and without the post-processor, and truncated.
#include "trainer/tokenizer/bpe_tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/trainer/python_fixture.h"

namespace trainrt::trainer {
namespace {

class BpeTokenizers : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new testing::PythonFixture("scripts/tokenizer/make_bpe_tokenizers.py");
    ASSERT_TRUE(fixture_->ok()) << "scripts/tokenizer/make_bpe_tokenizers.py failed";
  }
  static void TearDownTestSuite() { delete fixture_; }
  static testing::PythonFixture* fixture_;
};
testing::PythonFixture* BpeTokenizers::fixture_ = nullptr;

TEST_P(BpeTokenizers, IdsEqualHuggingFaceTokenizers) {
  const std::string name = GetParam();
  auto loaded = LoadTokenizer(fixture_->path() + "/" + name);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Tokenizer& tok = **loaded;
  const nlohmann::json& e = fixture_->expected()[name];
  EXPECT_EQ(tok.vocab_size(), e["vocab_size"].get<size_t>());
  EXPECT_EQ(tok.special_tokens().bos, e["bos"].is_null() ? -1 : e["bos"].get<int32_t>());
  EXPECT_EQ(tok.special_tokens().eos, e["eos"].is_null() ? -1 : e["eos"].get<int32_t>());
  ASSERT_GE(e["cases"].size(), 20u);
  for (const auto& c : e["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const std::string what = name + ": text=" + c["text"].dump();
    const Encoding full = tok.Encode(text, std::nullopt, EncodeOptions{0, false});
    EXPECT_EQ(full.input_ids, c["ids"].get<std::vector<int32_t>>()) << what;
    EXPECT_EQ(full.token_type_ids, c["type_ids"].get<std::vector<int32_t>>()) << what;
    EXPECT_EQ(full.word_ids, c["word_ids"].get<std::vector<int32_t>>()) << what;
    EXPECT_EQ(tok.TokenizeToIds(text), c["plain_ids"].get<std::vector<int32_t>>()) << what;
    const std::optional<std::string_view> pair =
        name == "llama3" ? std::optional<std::string_view>("second sequence here") : std::nullopt;
    const Encoding cut = tok.Encode(text, pair, EncodeOptions{6, false});
    EXPECT_EQ(cut.input_ids, c["cut_ids"].get<std::vector<int32_t>>()) << what << " truncated to 6";
    EXPECT_EQ(cut.token_type_ids, c["cut_type_ids"].get<std::vector<int32_t>>()) << what << " truncated to 6";
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, BpeTokenizers, ::testing::Values("gpt2", "llama3", "qwen2", "prefix"));

TEST(BpeTokenizer, UnsupportedPiecesAreNamed) {
  testing::ScratchDir dir;
  auto load = [&](const std::string& json) {
    dir.Write("tokenizer.json", json);
    return LoadTokenizer(dir.path()).status().ToString();
  };
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0}, "merges": []})";
  EXPECT_NE(load("{" + model + R"(, "pre_tokenizer": {"type": "Metaspace"}})").find(
                "key 'pre_tokenizer': type 'Metaspace' is not supported"),
            std::string::npos);
  EXPECT_NE(load("{" + model + R"(, "pre_tokenizer": {"type": "ByteLevel"}, "normalizer": {"type": "NFKD"}})")
                .find("key 'normalizer': type 'NFKD' is not supported"),
            std::string::npos);
  EXPECT_NE(load("{" + model + R"(, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(("}, "behavior": "Isolated"}})")
                .find("regex does not compile"),
            std::string::npos);
  EXPECT_NE(load(R"({"model": {"type": "Unigram", "vocab": []}})").find("type 'Unigram' is not supported (expected WordPiece or BPE)"),
            std::string::npos);
}

}  // namespace
}  // namespace trainrt::trainer
