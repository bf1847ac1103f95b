// Small string helpers shared across trainrt.
#ifndef TRAINRT_RUNTIME_STRINGS_H_
#define TRAINRT_RUNTIME_STRINGS_H_

#include <string>
#include <string_view>
#include <vector>

namespace trainrt::runtime {

bool EndsWith(std::string_view s, std::string_view suffix);
// "a, b, c".
std::string JoinComma(const std::vector<std::string>& items);
// `s` with every occurrence of `from` (non-empty) replaced by `to`.
std::string ReplaceAll(std::string s, const std::string& from, const std::string& to);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_STRINGS_H_
