// UTF-8 decoding and encoding through utf8proc, shared by everything that walks text by code point.
#ifndef TRAINRT_RUNTIME_UTF8_H_
#define TRAINRT_RUNTIME_UTF8_H_

#include <string>
#include <string_view>

namespace trainrt::runtime {

// Code points of `s`; each invalid byte becomes U+FFFD.
std::u32string DecodeUtf8(std::string_view s);
// Whether `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);
// Appends the UTF-8 encoding of `cp` to `out`.
void AppendUtf8(std::string& out, char32_t cp);
// The UTF-8 encoding of s[begin, end).
std::string EncodeUtf8(const std::u32string& s, size_t begin = 0, size_t end = std::u32string::npos);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_UTF8_H_
