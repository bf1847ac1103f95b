// WordPieceTokenizer: BERT-family tokenization identical to Hugging Face `tokenizers`
// (BertNormalizer, BertPreTokenizer, greedy longest-match WordPiece, the [CLS] A [SEP] (B [SEP])
// template, longest-first truncation, right padding), loaded from tokenizer.json or, failing that,
// vocab.txt + tokenizer_config.json. Unicode properties, NFD and case mapping come from utf8proc.
// Emits plain integer vectors (no libtorch). Immutable after loading; safe to share between threads.
#ifndef TRAINRT_TRAINER_TOKENIZER_WORDPIECE_TOKENIZER_H_
#define TRAINRT_TRAINER_TOKENIZER_WORDPIECE_TOKENIZER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/status.h"

namespace trainrt::trainer {

struct Encoding {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> attention_mask;  // 1 for tokens, 0 for padding
  std::vector<int32_t> token_type_ids;  // 0 for [CLS] A [SEP], 1 for B [SEP], 0 for padding
};

struct EncodeOptions {
  int max_length = 512;          // truncate longest-first to this many ids, specials included; 0: never
  bool pad_to_max_length = false;  // pad on the right with [PAD] up to max_length
};

struct NormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // unset: follows lowercase
  bool lowercase = true;
};

class WordPieceTokenizer {
 public:
  // `dir`/tokenizer.json when present, else `dir`/vocab.txt with `dir`/tokenizer_config.json.
  static runtime::Result<WordPieceTokenizer> Load(const std::string& dir);
  static runtime::Result<WordPieceTokenizer> FromTokenizerJson(const std::string& path);
  // `config_path` may name a missing file (BERT uncased defaults then apply).
  static runtime::Result<WordPieceTokenizer> FromVocabFile(const std::string& vocab_path,
                                                           const std::string& config_path);

  // Ids of `text` without special tokens.
  std::vector<int32_t> TokenizeToIds(std::string_view text) const;
  // The model inputs for a text, or a pair when `pair` is given.
  Encoding Encode(std::string_view text, const std::optional<std::string_view>& pair,
                  const EncodeOptions& options) const;

  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  size_t vocab_size() const { return id_to_token_.size(); }
  const std::vector<std::string>& vocab() const { return id_to_token_; }  // token by id
  const NormalizerOptions& normalizer() const { return normalizer_; }

 private:
  WordPieceTokenizer() = default;
  runtime::Status Finish(const std::string& source);  // resolves special ids
  void TokenizeSegment(std::string_view text, std::vector<int32_t>& out) const;
  void WordPiece(const std::u32string& word, std::vector<int32_t>& out) const;

  NormalizerOptions normalizer_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<std::string> id_to_token_;
  std::vector<std::pair<std::string, int32_t>> added_tokens_;  // matched on the raw text, longest first
  std::string unk_token_ = "[UNK]";
  std::string prefix_ = "##";
  size_t max_chars_per_word_ = 100;
  int32_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TOKENIZER_WORDPIECE_TOKENIZER_H_
