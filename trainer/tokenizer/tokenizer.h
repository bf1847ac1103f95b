// Tokenizer: text to model inputs, as Hugging Face `tokenizers` makes them from a model folder's
// tokenizer files, and those files written back for an export. One implementation per tokenizer
// model (WordPiece, byte-level BPE), chosen by LoadTokenizer; nothing outside trainer/tokenizer/
// names one.
// Emits plain integer vectors (no libtorch). Immutable after loading; safe to share between threads.
#ifndef TRAINRT_TRAINER_TOKENIZER_TOKENIZER_H_
#define TRAINRT_TRAINER_TOKENIZER_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/status.h"

namespace trainrt::trainer {

struct Encoding {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> attention_mask;  // 1 for tokens, 0 for padding
  std::vector<int32_t> token_type_ids;  // the segment of each id: 0 for the text, 1 for the pair
  std::vector<int32_t> word_ids;        // the word of its segment each id came from; -1 for special tokens
                                        // and padding (tokenizers' word_ids(), None as -1)
};

struct EncodeOptions {
  int max_length = 512;            // truncate longest-first to this many ids, specials included; 0: never
  bool pad_to_max_length = false;  // pad on the right up to max_length
};

// Where a token came from in the text it was made of: bytes [begin, end) (tokenizers' offsets, in
// bytes rather than characters).
struct ByteSpan {
  size_t begin = 0, end = 0;
  bool operator==(const ByteSpan& o) const { return begin == o.begin && end == o.end; }
};

// Special token ids; -1 where the tokenizer has none.
struct SpecialTokens {
  int32_t pad = -1;
  int32_t unk = -1;
  int32_t bos = -1;  // BERT's [CLS]
  int32_t eos = -1;  // BERT's [SEP]
};

// What an export's tokenizer_config.json says when the model folder had none.
struct TokenizerExport {
  std::string tokenizer_class;      // the model family's: "BertTokenizer"
  int64_t model_max_length = 512;  // the model's longest input
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // The model inputs for a text, or a text pair, with the tokenizer's special tokens.
  virtual Encoding Encode(std::string_view text, const std::optional<std::string_view>& pair,
                          const EncodeOptions& options) const = 0;
  // Ids of `text` without special tokens.
  virtual std::vector<int32_t> TokenizeToIds(std::string_view text) const = 0;
  // TokenizeToIds, with each id's span of `text` in `spans`. A tokenizer that cannot tell leaves
  // `spans` empty (the default).
  virtual std::vector<int32_t> TokenizeWithSpans(std::string_view text, std::vector<ByteSpan>& spans) const {
    spans.clear();
    return TokenizeToIds(text);
  }
  virtual const SpecialTokens& special_tokens() const = 0;
  virtual size_t vocab_size() const = 0;
  // A token as the vocabulary spells it: the text itself for added and special tokens.
  virtual std::string TokenText(int32_t id) const = 0;
  // The text of `ids`, as tokenizers' decode(ids, skip_special_tokens=True) makes it.
  virtual std::string Decode(const std::vector<int32_t>& ids) const = 0;

  // Writes the files transformers' AutoTokenizer loads into `dir`: those the tokenizer was loaded
  // from, completed with what `options` says.
  virtual runtime::Status Save(const std::string& dir, const TokenizerExport& options) const = 0;
};

// The tokenizer of the model folder `dir`: tokenizer.json (its model type picks the
// implementation), else vocab.txt with tokenizer_config.json. The error names the file.
runtime::Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& dir);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TOKENIZER_TOKENIZER_H_
