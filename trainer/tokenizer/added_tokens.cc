#include "trainer/tokenizer/added_tokens.h"

namespace trainrt::trainer {

void SplitOnAddedTokens(std::string_view text, const std::vector<std::pair<std::string, int32_t>>& added,
                        const std::function<void(std::string_view)>& segment,
                        const std::function<void(int32_t, std::string_view)>& token) {
  size_t pos = 0, segment_start = 0;
  while (pos < text.size()) {
    bool matched = false;
    for (const auto& [content, id] : added) {
      if (!content.empty() && text.compare(pos, content.size(), content) == 0) {
        segment(text.substr(segment_start, pos - segment_start));
        token(id, text.substr(pos, content.size()));
        pos += content.size();
        segment_start = pos;
        matched = true;
        break;
      }
    }
    if (!matched) ++pos;
  }
  segment(text.substr(segment_start));
}

void TruncateLongestFirst(size_t budget, std::vector<int32_t>& a, std::vector<int32_t>& a_words, std::vector<int32_t>& b,
                          std::vector<int32_t>& b_words) {
  size_t na = a.size(), nb = b.size();
  while (na + nb > budget) {
    if (na > nb) --na; else --nb;
  }
  a.resize(na);
  a_words.resize(na);
  b.resize(nb);
  b_words.resize(nb);
}

}  // namespace trainrt::trainer
