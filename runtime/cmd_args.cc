#include "runtime/cmd_args.h"

#include <algorithm>

namespace trainrt::runtime {
namespace {

size_t CodePointCount(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string ArgName(const std::string& key) {
  if (key.empty()) return "";
  return (CodePointCount(key) > 1 ? "--" : "-") + key;
}

std::string ArgValue(const PyValue& value) {
  if (value.is_none()) return "";
  if (!value.is_dict()) return PythonStr(value);
  auto items = value.dict();
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i].first + "=" + PythonStr(items[i].second);  // "%s=%s": None prints as None
  }
  return out;
}

}  // namespace

std::vector<std::string> ToCmdArgs(const PyValue::Dict& hyperparameters) {
  std::vector<const std::pair<std::string, PyValue>*> sorted;
  for (const auto& item : hyperparameters) sorted.push_back(&item);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::vector<std::string> argv;
  argv.reserve(sorted.size() * 2);
  for (const auto* item : sorted) {
    argv.push_back(ArgName(item->first));
    argv.push_back(ArgValue(item->second));
  }
  return argv;
}

}  // namespace trainrt::runtime
