#include "runtime/utf8.h"

#include <algorithm>

#include <utf8proc.h>

namespace trainrt::runtime {
namespace {

// Calls fn(code point, ok) for each code point; an invalid byte comes as (U+FFFD, false).
template <typename Fn>
void Walk(std::string_view s, Fn fn) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    const bool ok = n > 0;
    if (!ok) {
      cp = 0xFFFD;
      n = 1;
    }
    if (!fn(static_cast<char32_t>(cp), ok)) return;
    p += n;
    left -= n;
  }
}

}  // namespace

std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  Walk(s, [&](char32_t cp, bool) {
    out.push_back(cp);
    return true;
  });
  return out;
}

bool IsValidUtf8(std::string_view s) {
  bool valid = true;
  Walk(s, [&](char32_t, bool ok) { return valid = ok; });
  return valid;
}

void AppendUtf8(std::string& out, char32_t cp) {
  utf8proc_uint8_t buf[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

std::string EncodeUtf8(const std::u32string& s, size_t begin, size_t end) {
  std::string out;
  end = std::min(end, s.size());
  for (size_t i = begin; i < end; ++i) AppendUtf8(out, s[i]);
  return out;
}

}  // namespace trainrt::runtime
