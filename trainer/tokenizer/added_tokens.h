// What every tokenizer model does the same way around its own algorithm: added tokens found in
// the raw text before anything else (leftmost, longest first, as tokenizers' AddedVocabulary),
// and longest-first truncation of a sequence or a pair.
#ifndef TRAINRT_TRAINER_TOKENIZER_ADDED_TOKENS_H_
#define TRAINRT_TRAINER_TOKENIZER_ADDED_TOKENS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trainrt::trainer {

// Calls `segment` for each run of `text` between added tokens and `token` with each added
// token's id and where it is, in order (both views into `text`). `added` must be sorted longest first.
void SplitOnAddedTokens(std::string_view text, const std::vector<std::pair<std::string, int32_t>>& added,
                        const std::function<void(std::string_view)>& segment,
                        const std::function<void(int32_t, std::string_view)>& token);

// Cuts `a` and `b` (with `a_words`, `b_words`) to `budget` ids together, one id at a time from
// the longer, the second giving way on a tie (tokenizers' longest-first).
void TruncateLongestFirst(size_t budget, std::vector<int32_t>& a, std::vector<int32_t>& a_words, std::vector<int32_t>& b,
                          std::vector<int32_t>& b_words);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TOKENIZER_ADDED_TOKENS_H_
