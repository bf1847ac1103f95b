#include "runtime/python_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include <utf8proc.h>

#include "runtime/utf8.h"

namespace trainrt::runtime {
namespace {

void AppendHex(std::string& out, const char* prefix, unsigned value, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, width, value);
  out += buf;
}

// Python's str.isprintable() for one code point: everything but the "Other" and "Separator"
// categories, except the ASCII space.
bool IsPythonPrintable(int32_t cp) {
  if (cp == ' ') return true;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

void AppendStringRepr(std::string& out, const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  out += quote;
  for (const char32_t c : DecodeUtf8(s)) {
    const int32_t cp = static_cast<int32_t>(c);
    if (cp == quote || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < ' ' || cp == 0x7f) {
      AppendHex(out, "\\x", static_cast<unsigned>(cp), 2);
    } else if (cp < 0x7f || IsPythonPrintable(cp)) {
      AppendUtf8(out, c);
    } else if (cp <= 0xff) {
      AppendHex(out, "\\x", static_cast<unsigned>(cp), 2);
    } else if (cp <= 0xffff) {
      AppendHex(out, "\\u", static_cast<unsigned>(cp), 4);
    } else {
      AppendHex(out, "\\U", static_cast<unsigned>(cp), 8);
    }
  }
  out += quote;
}

void AppendJsonString(std::string& out, const std::string& s) {
  out += '"';
  for (const char32_t c : DecodeUtf8(s)) {
    const int32_t cp = static_cast<int32_t>(c);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp < 0x7f) {
      out += static_cast<char>(cp);
    } else if (cp < 0x10000) {
      AppendHex(out, "\\u", static_cast<unsigned>(cp), 4);
    } else {
      const unsigned v = static_cast<unsigned>(cp) - 0x10000;
      AppendHex(out, "\\u", 0xd800 | (v >> 10), 4);
      AppendHex(out, "\\u", 0xdc00 | (v & 0x3ff), 4);
    }
  }
  out += '"';
}

std::vector<const std::pair<std::string, PyValue>*> Items(const PyValue::Dict& dict, bool sorted) {
  std::vector<const std::pair<std::string, PyValue>*> items;
  items.reserve(dict.size());
  for (const auto& item : dict) items.push_back(&item);
  // std::string compares as unsigned bytes, and UTF-8 byte order is code point order: Python's.
  if (sorted) {
    std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
  }
  return items;
}

void AppendRepr(std::string& out, const PyValue& v) {
  switch (v.type()) {
    case PyValue::Type::kNone: out += "None"; return;
    case PyValue::Type::kBool: out += v.bool_value() ? "True" : "False"; return;
    case PyValue::Type::kInt: out += v.int_decimal(); return;
    case PyValue::Type::kFloat: out += PythonFloatRepr(v.float_value()); return;
    case PyValue::Type::kString: AppendStringRepr(out, v.string_value()); return;
    case PyValue::Type::kList: {
      out += '[';
      for (size_t i = 0; i < v.list().size(); ++i) {
        if (i) out += ", ";
        AppendRepr(out, v.list()[i]);
      }
      out += ']';
      return;
    }
    case PyValue::Type::kDict: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.dict()) {
        if (!first) out += ", ";
        first = false;
        AppendStringRepr(out, key);
        out += ": ";
        AppendRepr(out, value);
      }
      out += '}';
      return;
    }
  }
}

void AppendJson(std::string& out, const PyValue& v, bool sort_keys, bool spaced) {
  switch (v.type()) {
    case PyValue::Type::kNone: out += "null"; return;
    case PyValue::Type::kBool: out += v.bool_value() ? "true" : "false"; return;
    case PyValue::Type::kInt: out += v.int_decimal(); return;
    case PyValue::Type::kFloat: {
      const double d = v.float_value();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
      } else {
        out += PythonFloatRepr(d);
      }
      return;
    }
    case PyValue::Type::kString: AppendJsonString(out, v.string_value()); return;
    case PyValue::Type::kList: {
      out += '[';
      for (size_t i = 0; i < v.list().size(); ++i) {
        if (i) out += spaced ? ", " : ",";
        AppendJson(out, v.list()[i], sort_keys, spaced);
      }
      out += ']';
      return;
    }
    case PyValue::Type::kDict: {
      out += '{';
      bool first = true;
      for (const auto* item : Items(v.dict(), sort_keys)) {
        if (!first) out += spaced ? ", " : ",";
        first = false;
        AppendJsonString(out, item->first);
        out += spaced ? ": " : ":";
        AppendJson(out, item->second, sort_keys, spaced);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

PyValue PyValue::Bool(bool b) {
  PyValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

PyValue PyValue::Int(int64_t i) { return IntFromDecimal(std::to_string(i)); }

PyValue PyValue::IntFromDecimal(std::string decimal) {
  PyValue v;
  v.type_ = Type::kInt;
  v.text_ = decimal == "-0" ? "0" : std::move(decimal);
  return v;
}

PyValue PyValue::Float(double d) {
  PyValue v;
  v.type_ = Type::kFloat;
  v.float_ = d;
  return v;
}

PyValue PyValue::String(std::string utf8) {
  PyValue v;
  v.type_ = Type::kString;
  v.text_ = std::move(utf8);
  return v;
}

PyValue PyValue::MakeList(List items) {
  PyValue v;
  v.type_ = Type::kList;
  v.list_ = std::move(items);
  return v;
}

PyValue PyValue::MakeDict(Dict items) {
  PyValue v;
  v.type_ = Type::kDict;
  v.dict_ = std::move(items);
  return v;
}

std::optional<int64_t> PyValue::AsInt64() const {
  if (type_ != Type::kInt) return std::nullopt;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), out);
  if (ec != std::errc() || ptr != text_.data() + text_.size()) return std::nullopt;
  return out;
}

const PyValue* PyValue::Find(const std::string& key) const {
  for (const auto& [k, v] : dict_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void PyValue::Set(const std::string& key, PyValue value) {
  for (auto& [k, v] : dict_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  dict_.emplace_back(key, std::move(value));
}

bool PyValue::Truthy() const {
  switch (type_) {
    case Type::kNone: return false;
    case Type::kBool: return bool_;
    case Type::kInt: return text_ != "0";
    case Type::kFloat: return float_ != 0.0;  // NaN is truthy in Python too
    case Type::kString: return !text_.empty();
    case Type::kList: return !list_.empty();
    case Type::kDict: return !dict_.empty();
  }
  return false;
}

bool operator==(const PyValue& a, const PyValue& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case PyValue::Type::kNone: return true;
    case PyValue::Type::kBool: return a.bool_ == b.bool_;
    case PyValue::Type::kFloat: return a.float_ == b.float_;
    case PyValue::Type::kInt:
    case PyValue::Type::kString: return a.text_ == b.text_;
    case PyValue::Type::kList: return a.list_ == b.list_;
    case PyValue::Type::kDict: return a.dict_ == b.dict_;
  }
  return false;
}

std::string PythonFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, as "d.ddde±XX".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string out;
  size_t pos = 0;
  if (sci[0] == '-') {
    out += '-';
    pos = 1;
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t i = pos; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  const int exponent = std::stoi(sci.substr(e + 1));
  const int decpt = exponent + 1;  // digits are 0.DIGITS x 10^decpt
  const int n = static_cast<int>(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (decpt >= n) {
      out += digits + std::string(static_cast<size_t>(decpt - n), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
    }
  } else {
    out += digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += exp_buf;
  }
  return out;
}

std::string PythonRepr(const PyValue& value) {
  std::string out;
  AppendRepr(out, value);
  return out;
}

std::string PythonStr(const PyValue& value) {
  return value.is_string() ? value.string_value() : PythonRepr(value);
}

std::string PythonJsonDumps(const PyValue& value, bool sort_keys) {
  std::string out;
  AppendJson(out, value, sort_keys, /*spaced=*/false);
  return out;
}

std::string PythonJsonDump(const PyValue& value) {
  std::string out;
  AppendJson(out, value, /*sort_keys=*/false, /*spaced=*/true);
  return out;
}

}  // namespace trainrt::runtime
