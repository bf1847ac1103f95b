#include "runtime/python_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "runtime/utf8.h"

namespace trainrt::runtime {
namespace {

constexpr int kMaxDepth = 512;  // deeper documents are rejected rather than overflowing the stack

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<PyValue> ParseDocument() {
    SkipWhitespace();
    PyValue v;
    if (!ParseValue(v, 0)) return Error();
    SkipWhitespace();
    if (pos_ != s_.size()) {
      error_ = "extra data";
      return Error();
    }
    return v;
  }

 private:
  Status Error() const {
    return Status::InvalidArgument("invalid JSON: " + error_ + " at character " + std::to_string(pos_));
  }

  void SkipWhitespace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool Consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool Fail(const char* what) {
    error_ = what;
    return false;
  }

  bool ParseValue(PyValue& out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    if (pos_ >= s_.size()) return Fail("expecting value");
    const char c = s_[pos_];
    if (c == '{') return ParseObject(out, depth);
    if (c == '[') return ParseArray(out, depth);
    if (c == '"') {
      std::string str;
      if (!ParseString(str)) return false;
      out = PyValue::String(std::move(str));
      return true;
    }
    if (Consume("null")) { out = PyValue::None(); return true; }
    if (Consume("true")) { out = PyValue::Bool(true); return true; }
    if (Consume("false")) { out = PyValue::Bool(false); return true; }
    if (Consume("NaN")) { out = PyValue::Float(std::numeric_limits<double>::quiet_NaN()); return true; }
    if (Consume("Infinity")) { out = PyValue::Float(std::numeric_limits<double>::infinity()); return true; }
    if (Consume("-Infinity")) { out = PyValue::Float(-std::numeric_limits<double>::infinity()); return true; }
    return ParseNumber(out);
  }

  // Python's NUMBER_RE: (-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?; int when neither part follows.
  bool ParseNumber(PyValue& out) {
    const size_t start = pos_;
    size_t p = pos_;
    auto digit = [&](size_t i) { return i < s_.size() && s_[i] >= '0' && s_[i] <= '9'; };
    if (p < s_.size() && s_[p] == '-') ++p;
    if (!digit(p)) return Fail("expecting value");
    if (s_[p] == '0') {
      ++p;
    } else {
      while (digit(p)) ++p;
    }
    bool is_float = false;
    if (p < s_.size() && s_[p] == '.' && digit(p + 1)) {
      is_float = true;
      ++p;
      while (digit(p)) ++p;
    }
    if (p < s_.size() && (s_[p] == 'e' || s_[p] == 'E')) {
      size_t q = p + 1;
      if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
      if (digit(q)) {
        is_float = true;
        p = q;
        while (digit(p)) ++p;
      }
    }
    pos_ = p;
    const std::string text(s_.substr(start, p - start));
    if (is_float) {
      out = PyValue::Float(std::strtod(text.c_str(), nullptr));  // correctly rounded; overflow -> inf
    } else {
      out = PyValue::IntFromDecimal(text);
    }
    return true;
  }

  bool ParseHex4(unsigned& out) {
    if (pos_ + 4 > s_.size()) return Fail("invalid \\uXXXX escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      out <<= 4;
      if (h >= '0' && h <= '9') out |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') out |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') out |= static_cast<unsigned>(h - 'A' + 10);
      else return Fail("invalid \\uXXXX escape");
    }
    return true;
  }

  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return Fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("invalid control character in string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) return Fail("unterminated string");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp;
          if (!ParseHex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
            const size_t save = pos_;
            pos_ += 2;
            unsigned low;
            if (!ParseHex4(low)) return false;
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          // A lone surrogate cannot be carried in UTF-8 (Python keeps it, then fails to export it).
          if (cp >= 0xD800 && cp <= 0xDFFF) return Fail("lone surrogate in \\u escape");
          AppendUtf8(out, static_cast<char32_t>(cp));
          break;
        }
        default: return Fail("invalid escape");
      }
    }
  }

  bool ParseArray(PyValue& out, int depth) {
    ++pos_;
    PyValue::List items;
    SkipWhitespace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      out = PyValue::MakeList(std::move(items));
      return true;
    }
    while (true) {
      SkipWhitespace();
      PyValue item;
      if (!ParseValue(item, depth + 1)) return false;
      items.push_back(std::move(item));
      SkipWhitespace();
      if (pos_ < s_.size() && s_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < s_.size() && s_[pos_] == ']') { ++pos_; break; }
      return Fail("expecting ',' delimiter");
    }
    out = PyValue::MakeList(std::move(items));
    return true;
  }

  bool ParseObject(PyValue& out, int depth) {
    ++pos_;
    PyValue dict = PyValue::MakeDict({});
    SkipWhitespace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      out = std::move(dict);
      return true;
    }
    while (true) {
      SkipWhitespace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Fail("expecting property name enclosed in double quotes");
      std::string key;
      if (!ParseString(key)) return false;
      SkipWhitespace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Fail("expecting ':' delimiter");
      ++pos_;
      SkipWhitespace();
      PyValue value;
      if (!ParseValue(value, depth + 1)) return false;
      dict.Set(key, std::move(value));
      SkipWhitespace();
      if (pos_ < s_.size() && s_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < s_.size() && s_[pos_] == '}') { ++pos_; break; }
      return Fail("expecting ',' delimiter");
    }
    out = std::move(dict);
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

Result<PyValue> ParsePythonJson(std::string_view text) { return Parser(text).ParseDocument(); }

}  // namespace trainrt::runtime
