// BpeTokenizer: byte-level BPE as Hugging Face `tokenizers` runs it for GPT-2, Llama 3 and
// Qwen2/3, from tokenizer.json: the normalizer (none or NFC, through utf8proc), the pre-tokenizer
// (Split on the model's regex with behavior Isolated, matched by PCRE2 with Unicode classes, and
// ByteLevel with or without its own GPT-2 regex and prefix space), the BPE model (merges by rank,
// ignore_merges), added and special tokens found in the raw text first, and the post-processor
// (ByteLevel, TemplateProcessing, or a Sequence of them). Special token ids come from
// tokenizer_config.json beside it. Immutable after loading; safe to share between threads.
#ifndef TRAINRT_TRAINER_TOKENIZER_BPE_TOKENIZER_H_
#define TRAINRT_TRAINER_TOKENIZER_BPE_TOKENIZER_H_

#include <cstdint>
#include <memory>
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

class BpeTokenizer final : public Tokenizer {
 public:
  // tokenizer.json's contents, read from `path`; tokenizer_config.json is looked for beside it.
  // InvalidArgument names the file and the key of what is malformed or not supported.
  static runtime::Result<BpeTokenizer> FromTokenizerJson(nlohmann::json j, const std::string& path);

  std::vector<int32_t> TokenizeToIds(std::string_view text) const override;
  Encoding Encode(std::string_view text, const std::optional<std::string_view>& pair,
                  const EncodeOptions& options) const override;
  const SpecialTokens& special_tokens() const override { return special_; }
  size_t vocab_size() const override { return id_to_token_.size(); }
  std::string TokenText(int32_t id) const override {
    return id >= 0 && static_cast<size_t>(id) < id_to_token_.size() ? id_to_token_[static_cast<size_t>(id)] : "";
  }
  // The tokenizer files it was loaded from (tokenizer.json, tokenizer_config.json,
  // special_tokens_map.json, chat_template.jinja), copied as they are.
  runtime::Status Save(const std::string& dir, const TokenizerExport& options) const override;

  // Byte-level decoding: each token's code points back to bytes (a token with other code points,
  // an added token, as its own bytes).
  std::string Decode(const std::vector<int32_t>& ids) const override;

  std::optional<int32_t> IdOf(const std::string& token) const;

 private:
  struct Regex;  // a compiled PCRE2 pattern
  struct TemplatePiece {
    bool special = false;   // a special token's ids, else sequence A or B
    bool second = false;    // sequence B (when not special)
    std::vector<int32_t> ids;
    int32_t type_id = 0;
  };

  BpeTokenizer() = default;
  // Appends the ids of `text` (no template) to `ids`, and each id's word to `words` if set.
  void Tokenize(std::string_view text, std::vector<int32_t>& ids, std::vector<int32_t>* words) const;
  void TokenizeSegment(std::string_view text, std::vector<int32_t>& ids, std::vector<int32_t>* words,
                       int32_t& next_word) const;
  void Bpe(const std::string& piece, std::vector<int32_t>& out) const;  // one pre-token, byte-level mapped

  bool nfc_ = false;
  std::vector<std::shared_ptr<const Regex>> splits_;  // Split pre-tokenizers, in order
  bool byte_level_regex_ = false;                     // ByteLevel's use_regex
  std::shared_ptr<const Regex> byte_level_split_;     // its GPT-2 split, when use_regex
  bool add_prefix_space_ = false;
  bool ignore_merges_ = false;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int32_t> merge_rank_;  // "left right" -> rank
  std::optional<int32_t> unk_id_;
  std::vector<std::pair<std::string, int32_t>> added_tokens_;  // matched on the raw text, longest first
  std::vector<bool> special_ids_;                              // by id: an added token marked special
  std::vector<TemplatePiece> single_, pair_;                   // TemplateProcessing; empty: ids as they are
  SpecialTokens special_;
  std::string source_dir_;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TOKENIZER_BPE_TOKENIZER_H_
