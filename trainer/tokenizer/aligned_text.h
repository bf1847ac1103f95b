// AlignedText: a text that normalizers and pre-tokenizers have rewritten, with, for each of its
// bytes, the bytes of the original text it came from (tokenizers' NormalizedString alignments).
// It is what lets a token say where in the caller's text it came from (offsets), which the
// assistant-only loss needs to find the assistant's tokens in a rendered conversation.
#ifndef TRAINRT_TRAINER_TOKENIZER_ALIGNED_TEXT_H_
#define TRAINRT_TRAINER_TOKENIZER_ALIGNED_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trainrt::trainer {

struct AlignedText {
  std::string text;
  std::vector<std::pair<size_t, size_t>> origin;  // per byte of text: [begin, end) in the original

  // `original` as it is, its bytes at `base` onwards.
  static AlignedText Of(std::string_view original, size_t base);
  AlignedText Slice(size_t begin, size_t end) const;  // bytes [begin, end)

  // Unicode NFC (utf8proc). The text is exact; where composition changed it, the characters of
  // each combining sequence map in order to those it came from (tokenizers' alignment).
  void Nfc();
  // `prefix` in front (tokenizers' Prepend normalizer), aligned to the first character. No-op on
  // an empty text.
  void Prepend(const std::string& prefix);
  // Every occurrence of `pattern` becomes `content`, aligned to what it replaced.
  void Replace(const std::string& pattern, const std::string& content);
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TOKENIZER_ALIGNED_TEXT_H_
