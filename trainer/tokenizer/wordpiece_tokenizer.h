// WordPieceTokenizer: the Tokenizer of BERT-family models, identical to Hugging Face `tokenizers`
// (BertNormalizer, BertPreTokenizer, greedy longest-match WordPiece, the [CLS] A [SEP] (B [SEP])
// template, longest-first truncation, right padding), loaded from tokenizer.json or, failing that,
// vocab.txt + tokenizer_config.json. Unicode properties, NFD and case mapping come from utf8proc.
// Immutable after loading; safe to share between threads.
#ifndef TRAINRT_TRAINER_TOKENIZER_WORDPIECE_TOKENIZER_H_
#define TRAINRT_TRAINER_TOKENIZER_WORDPIECE_TOKENIZER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/status.h"
#include "trainer/tokenizer/tokenizer.h"

namespace trainrt::trainer {

struct NormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // unset: follows lowercase
  bool lowercase = true;
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  // `dir`/tokenizer.json when present, else `dir`/vocab.txt with `dir`/tokenizer_config.json.
  static runtime::Result<WordPieceTokenizer> Load(const std::string& dir);
  static runtime::Result<WordPieceTokenizer> FromTokenizerJson(const std::string& path);
  // tokenizer.json's contents, read from `path`.
  static runtime::Result<WordPieceTokenizer> FromTokenizerJson(nlohmann::json j, const std::string& path);
  // `config_path` may name a missing file (BERT uncased defaults then apply).
  static runtime::Result<WordPieceTokenizer> FromVocabFile(const std::string& vocab_path,
                                                           const std::string& config_path);

  std::vector<int32_t> TokenizeToIds(std::string_view text) const override;
  Encoding Encode(std::string_view text, const std::optional<std::string_view>& pair,
                  const EncodeOptions& options) const override;
  const SpecialTokens& special_tokens() const override { return special_; }
  size_t vocab_size() const override { return id_to_token_.size(); }
  // The WordPiece decoder: tokens joined by spaces, continuation prefixes ("##") joined to the
  // token before, special tokens skipped (without the decoder's clean-up of spaces before punctuation).
  std::string Decode(const std::vector<int32_t>& ids) const override;
  std::string TokenText(int32_t id) const override {
    return id >= 0 && static_cast<size_t>(id) < id_to_token_.size() ? id_to_token_[static_cast<size_t>(id)] : "";
  }
  // tokenizer.json and tokenizer_config.json as loaded (or a tokenizer_config.json made from the
  // normalizer and `options`), special_tokens_map.json and vocab.txt.
  runtime::Status Save(const std::string& dir, const TokenizerExport& options) const override;

  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  const std::vector<std::string>& vocab() const { return id_to_token_; }  // token by id
  const NormalizerOptions& normalizer() const { return normalizer_; }

 private:
  WordPieceTokenizer() = default;
  runtime::Status Finish(const std::string& source);  // resolves special ids
  // Appends the ids of `text` to `ids` and, when `words` is set, each id's word (numbered on from
  // `*next_word`).
  void Tokenize(std::string_view text, std::vector<int32_t>& ids, std::vector<int32_t>* words) const;
  void TokenizeSegment(std::string_view text, std::vector<int32_t>& out, std::vector<int32_t>* words,
                       int32_t& next_word) const;
  void WordPiece(const std::u32string& word, std::vector<int32_t>& out) const;

  NormalizerOptions normalizer_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<std::string> id_to_token_;
  std::vector<std::pair<std::string, int32_t>> added_tokens_;  // matched on the raw text, longest first
  std::string unk_token_ = "[UNK]";
  std::string prefix_ = "##";
  size_t max_chars_per_word_ = 100;
  int32_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1;
  SpecialTokens special_;
  std::string source_dir_;  // where the tokenizer files were read, for Save
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TOKENIZER_WORDPIECE_TOKENIZER_H_
