// BpeTokenizer: BPE as Hugging Face `tokenizers` runs it from tokenizer.json, in both layouts
// decoder LMs use:
//   - byte-level (GPT-2, Llama 3, Qwen2/3): Split pre-tokenizers on the model's regex (behavior
//     Isolated, matched by PCRE2 with Unicode classes) and ByteLevel (with or without its own
//     GPT-2 regex and prefix space), every byte a symbol;
//   - SentencePiece-style (Llama 2, Mistral): the Prepend("▁") + Replace(" ", "▁") normalizers or
//     the Metaspace pre-tokenizer (prepend_scheme always/first/never, split), characters as
//     symbols, and byte_fallback to <0xXX> tokens for characters outside the vocabulary.
// Common to both: an NFC normalizer (utf8proc), merges applied by rank as tokenizers' word merge
// does (lowest rank, then leftmost, first), ignore_merges, fuse_unk, added and special tokens found
// in the raw text first, the post-processor (ByteLevel, TemplateProcessing, RobertaProcessing or a
// Sequence), and the decoder (ByteLevel, or Replace/ByteFallback/Fuse/Strip/Metaspace). Special
// token ids come from tokenizer_config.json beside it. Immutable after loading; thread-safe.
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
  // Spans exact where normalization only replaced or added text; where NFC composed characters,
  // a combining sequence's tokens span all of it.
  std::vector<int32_t> TokenizeWithSpans(std::string_view text, std::vector<ByteSpan>& spans) const override;
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

  // tokens' text through the decoder; special added tokens skipped.
  std::string Decode(const std::vector<int32_t>& ids) const override;

  std::optional<int32_t> IdOf(const std::string& token) const;

 private:
  struct Regex;  // a compiled PCRE2 pattern
  struct Step {   // one normalizer or decoder of a Sequence
    std::string type;
    std::string pattern, content;  // Replace, Prepend (content), Strip (content)
    int start = 0, stop = 0;       // Strip
  };
  struct Output {  // where Tokenize puts what it makes
    std::vector<int32_t>& ids;
    std::vector<int32_t>* words;
    std::vector<ByteSpan>* spans;
  };
  struct TemplatePiece {
    bool special = false;   // a special token's ids, else sequence A or B
    bool second = false;    // sequence B (when not special)
    std::vector<int32_t> ids;
    int32_t type_id = 0;
  };

  BpeTokenizer() = default;
  // Appends the ids of `text` (no template), and each id's word and span where asked.
  void Tokenize(std::string_view text, Output out) const;
  // One run between added tokens, at byte `base` of the text.
  void TokenizeSegment(std::string_view segment, size_t base, Output out, int32_t& next_word) const;
  // One pre-token's ids and their byte ranges in it.
  void Bpe(const std::string& piece, std::vector<int32_t>& ids, std::vector<ByteSpan>& ranges) const;

  std::vector<Step> normalizers_;                     // NFC, Prepend, Replace, in order
  std::vector<std::shared_ptr<const Regex>> splits_;  // Split pre-tokenizers, in order
  bool byte_level_ = false;                           // a ByteLevel pre-tokenizer: bytes are the symbols
  std::shared_ptr<const Regex> byte_level_split_;     // its GPT-2 split, when use_regex
  bool add_prefix_space_ = false;
  bool metaspace_ = false;  // a Metaspace pre-tokenizer
  std::string metaspace_replacement_ = "\u2581";  // ▁
  std::string metaspace_prepend_ = "always";  // always, first or never
  bool metaspace_split_ = true;
  bool ignore_merges_ = false, byte_fallback_ = false, fuse_unk_ = false;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left id, right id) -> (rank, merged id)
  std::vector<Step> decoders_;
  std::optional<int32_t> unk_id_;
  std::vector<std::pair<std::string, int32_t>> added_tokens_;  // matched on the raw text, longest first
  std::vector<bool> special_ids_;                              // by id: an added token marked special
  std::vector<TemplatePiece> single_, pair_;                   // TemplateProcessing; empty: ids as they are
  SpecialTokens special_;
  std::string source_dir_;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TOKENIZER_BPE_TOKENIZER_H_
