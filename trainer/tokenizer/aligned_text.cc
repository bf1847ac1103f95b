#include "trainer/tokenizer/aligned_text.h"

#include <algorithm>
#include <cstdlib>

#include <utf8proc.h>

namespace trainrt::trainer {
namespace {

std::string NfcOf(const std::string& text) {
  utf8proc_uint8_t* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(text.c_str()));
  if (out == nullptr) return text;  // not UTF-8: left as it is
  std::string s(reinterpret_cast<const char*>(out));
  std::free(out);
  return s;
}

}  // namespace

AlignedText AlignedText::Of(std::string_view original, size_t base) {
  AlignedText a;
  a.text = std::string(original);
  a.origin.reserve(original.size());
  for (size_t i = 0; i < original.size(); ++i) a.origin.emplace_back(base + i, base + i + 1);
  return a;
}

AlignedText AlignedText::Slice(size_t begin, size_t end) const {
  AlignedText a;
  a.text = text.substr(begin, end - begin);
  a.origin.assign(origin.begin() + static_cast<std::ptrdiff_t>(begin), origin.begin() + static_cast<std::ptrdiff_t>(end));
  return a;
}

void AlignedText::Nfc() {
  const std::string full = NfcOf(text);
  if (full == text) return;
  // Composition happens inside a combining sequence (a starter and the marks after it): each
  // sequence is normalized alone and its output aligned to its input.
  std::vector<std::pair<size_t, size_t>> runs;  // byte ranges of the sequences
  for (size_t i = 0; i < text.size();) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                                    static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    const size_t len = n > 0 ? static_cast<size_t>(n) : 1;
    const bool starter = n <= 0 || utf8proc_get_property(cp)->combining_class == 0;
    if (starter || runs.empty()) runs.emplace_back(i, i + len);
    else runs.back().second = i + len;
    i += len;
  }
  std::string joined;
  std::vector<std::pair<size_t, size_t>> aligned;
  auto char_starts = [](const std::string& t, size_t b, size_t e) {
    std::vector<size_t> starts;
    for (size_t i = b; i < e; ++i) {
      if ((static_cast<unsigned char>(t[i]) & 0xC0) != 0x80) starts.push_back(i);
    }
    return starts;
  };
  for (const auto& [b, e] : runs) {
    const std::string part = NfcOf(text.substr(b, e - b));
    // The k-th character out takes the k-th character in (as tokenizers aligns a composition:
    // the marks it absorbed are left without output); any extra ones take the last.
    const std::vector<size_t> in = char_starts(text, b, e), out = char_starts(part, 0, part.size());
    for (size_t k = 0; k < out.size(); ++k) {
      const size_t from = in[std::min(k, in.size() - 1)];
      const size_t from_end = std::min(k, in.size() - 1) + 1 < in.size() ? in[std::min(k, in.size() - 1) + 1] : e;
      const size_t to_end = k + 1 < out.size() ? out[k + 1] : part.size();
      aligned.insert(aligned.end(), to_end - out[k], {origin[from].first, origin[from_end - 1].second});
    }
    joined += part;
  }
  if (joined != full) {  // a composition across sequences (Hangul jamo): aligned by proportion
    aligned.clear();
    for (size_t i = 0; i < full.size(); ++i) aligned.push_back(origin[std::min(origin.size() - 1, i * text.size() / full.size())]);
  }
  text = full;
  origin = std::move(aligned);
}

void AlignedText::Prepend(const std::string& prefix) {
  if (text.empty()) return;
  text.insert(0, prefix);
  origin.insert(origin.begin(), prefix.size(), origin.front());
}

void AlignedText::Replace(const std::string& pattern, const std::string& content) {
  if (pattern.empty() || text.find(pattern) == std::string::npos) return;
  std::string out;
  std::vector<std::pair<size_t, size_t>> aligned;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, pattern.size(), pattern) == 0) {
      out += content;
      aligned.insert(aligned.end(), content.size(), {origin[i].first, origin[i + pattern.size() - 1].second});
      i += pattern.size();
    } else {
      out += text[i];
      aligned.push_back(origin[i]);
      ++i;
    }
  }
  text = std::move(out);
  origin = std::move(aligned);
}

}  // namespace trainrt::trainer
