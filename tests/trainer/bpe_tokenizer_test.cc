// BPE ids, type ids, word ids, offsets and decoded text identical to Hugging Face `tokenizers`,
// for tokenizers its own trainer made in GPT-2's, Llama 3's and Qwen2's byte-level layouts and in
// Llama 2's and Mistral's SentencePiece layouts with byte fallback (scripts/tokenizer/
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
    const std::optional<std::string_view> pair = name == "llama3" || name == "llama2"
                                                     ? std::optional<std::string_view>("second sequence here")
                                                     : std::nullopt;
    const Encoding cut = tok.Encode(text, pair, EncodeOptions{6, false});
    EXPECT_EQ(cut.input_ids, c["cut_ids"].get<std::vector<int32_t>>()) << what << " truncated to 6";
    EXPECT_EQ(cut.token_type_ids, c["cut_type_ids"].get<std::vector<int32_t>>()) << what << " truncated to 6";
    EXPECT_EQ(tok.Decode(full.input_ids), c["decoded"].get<std::string>()) << what << " decoded";
    // Offsets, as characters: tokenizers' before a ByteLevel post-processor trims them (GPT-2's).
    std::vector<ByteSpan> spans;
    EXPECT_EQ(tok.TokenizeWithSpans(text, spans), c["plain_ids"].get<std::vector<int32_t>>()) << what;
    if (name == "gpt2" || name == "prefix") continue;
    // A token that holds part of a character's bytes has all of that character, as in tokenizers.
    std::vector<size_t> char_of(text.size(), 0);  // byte -> the character it belongs to
    for (size_t i = 0, chars = 0; i < text.size(); ++i) {
      if (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++chars;
      char_of[i] = chars;
    }
    std::vector<std::pair<size_t, size_t>> offsets;
    for (const ByteSpan& s : spans) {
      ASSERT_LT(s.begin, s.end) << what;
      offsets.emplace_back(char_of[s.begin], char_of[s.end - 1] + 1);
    }
    EXPECT_EQ(offsets, (c["plain_offsets"].get<std::vector<std::pair<size_t, size_t>>>())) << what << " offsets";
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, BpeTokenizers, ::testing::Values("gpt2", "llama3", "qwen2", "prefix", "llama2", "mistral", "spsplit"));

TEST(BpeTokenizer, UnsupportedPiecesAreNamed) {
  testing::ScratchDir dir;
  auto load = [&](const std::string& json) {
    dir.Write("tokenizer.json", json);
    return LoadTokenizer(dir.path()).status().ToString();
  };
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0}, "merges": []})";
  EXPECT_NE(load("{" + model + R"(, "pre_tokenizer": {"type": "Whitespace"}})").find(
                "key 'pre_tokenizer': type 'Whitespace' is not supported"),
            std::string::npos);
  EXPECT_NE(load(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}})")
                .find("key 'model.merges': entry 0 ('a', 'b'): its parts and their merge must be in the vocab"),
            std::string::npos);
  EXPECT_NE(load("{" + model + R"(, "pre_tokenizer": {"type": "Metaspace", "prepend_scheme": "sometimes"}})")
                .find("prepend_scheme 'sometimes'"),
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
