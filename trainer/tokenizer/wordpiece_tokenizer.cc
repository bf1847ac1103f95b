#include "trainer/tokenizer/wordpiece_tokenizer.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "runtime/file_util.h"
#include "runtime/utf8.h"
#include "trainer/tokenizer/added_tokens.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

using runtime::DecodeUtf8;
using runtime::EncodeUtf8;

utf8proc_category_t Category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

// Rust's char::is_whitespace (the Unicode White_Space property): separators and \t..\r, U+0085.
bool IsWhitespace(char32_t c) {
  if ((c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85) return true;
  const auto cat = Category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

// BertNormalizer's is_control: the "Other" categories, except the whitespace controls.
bool IsControl(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (Category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

bool IsChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// BertPreTokenizer's is_bert_punc: ASCII punctuation or a Unicode punctuation category.
bool IsPunctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  switch (Category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

std::u32string Normalize(const NormalizerOptions& o, std::string_view text) {
  std::u32string s = DecodeUtf8(text);
  if (o.clean_text) {
    std::u32string cleaned;
    for (char32_t c : s) {
      if (c == 0 || c == 0xFFFD || IsControl(c)) continue;
      cleaned.push_back(IsWhitespace(c) ? U' ' : c);
    }
    s.swap(cleaned);
  }
  if (o.handle_chinese_chars) {
    std::u32string padded;
    for (char32_t c : s) {
      if (IsChineseChar(c)) {
        padded += U' ';
        padded += c;
        padded += U' ';
      } else {
        padded += c;
      }
    }
    s.swap(padded);
  }
  if (o.strip_accents.value_or(o.lowercase)) {
    std::u32string stripped;
    for (char32_t c : s) {
      utf8proc_int32_t decomposed[8];
      int last_boundclass = 0;
      utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), decomposed, 8,
                                                   UTF8PROC_DECOMPOSE, &last_boundclass);
      if (n < 0 || n > 8) {
        stripped.push_back(c);
        continue;
      }
      for (utf8proc_ssize_t i = 0; i < n; ++i) {
        if (Category(static_cast<char32_t>(decomposed[i])) != UTF8PROC_CATEGORY_MN) {
          stripped.push_back(static_cast<char32_t>(decomposed[i]));
        }
      }
    }
    s.swap(stripped);
  }
  if (o.lowercase) {
    std::u32string lower;
    for (char32_t c : s) {
      if (c == 0x130) {  // İ: the one unconditional multi-character lowercase mapping
        lower += U"i\u0307";
      } else {
        lower.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
      }
    }
    s.swap(lower);
  }
  return s;
}

// Whitespace-separated words, each punctuation character its own word.
std::vector<std::u32string> PreTokenize(const std::u32string& s) {
  std::vector<std::u32string> words;
  std::u32string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (char32_t c : s) {
    if (IsWhitespace(c)) {
      flush();
    } else if (IsPunctuation(c)) {
      flush();
      words.emplace_back(1, c);
    } else {
      current.push_back(c);
    }
  }
  flush();
  return words;
}

Result<nlohmann::json> ReadJson(const std::string& path) {
  auto text = runtime::ReadFileToString(path);
  if (!text.ok()) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  return j;
}

}  // namespace

Result<WordPieceTokenizer> WordPieceTokenizer::Load(const std::string& dir) {
  const std::string json = dir + "/tokenizer.json";
  if (runtime::PathExists(json)) return FromTokenizerJson(json);
  const std::string vocab = dir + "/vocab.txt";
  if (runtime::PathExists(vocab)) return FromVocabFile(vocab, dir + "/tokenizer_config.json");
  return Status::NotFound(dir + ": no tokenizer.json or vocab.txt");
}

static std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Result<WordPieceTokenizer> WordPieceTokenizer::FromTokenizerJson(const std::string& path) {
  auto j = ReadJson(path);
  if (!j.ok()) return j.status();
  return FromTokenizerJson(std::move(*j), path);
}

Result<WordPieceTokenizer> WordPieceTokenizer::FromTokenizerJson(nlohmann::json json, const std::string& path) {
  nlohmann::json* j = &json;  // a copy: operator[] may add the keys it looks for
  WordPieceTokenizer t;
  t.source_dir_ = DirOf(path);
  const nlohmann::json& model = (*j)["model"];
  if (!model.is_object() || model.value("type", "") != "WordPiece" || !model["vocab"].is_object()) {
    return Status::InvalidArgument(path + ": key 'model': expected a WordPiece model with a vocab");
  }
  t.unk_token_ = model.value("unk_token", "[UNK]");
  t.prefix_ = model.value("continuing_subword_prefix", "##");
  t.max_chars_per_word_ = model.value("max_input_chars_per_word", 100);
  for (const auto& [token, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > 10'000'000) {
      return Status::InvalidArgument(path + ": model.vocab['" + token + "']: expected a non-negative id");
    }
    const auto i = static_cast<size_t>(id.get<int64_t>());
    if (t.id_to_token_.size() <= i) t.id_to_token_.resize(i + 1);
    t.id_to_token_[i] = token;
    t.token_to_id_[token] = static_cast<int32_t>(i);
  }
  const nlohmann::json& norm = (*j)["normalizer"];
  if (norm.is_object()) {
    if (norm.value("type", "") != "BertNormalizer") {
      return Status::InvalidArgument(path + ": normalizer type '" + norm.value("type", "") +
                                     "': only BertNormalizer is supported");
    }
    t.normalizer_.clean_text = norm.value("clean_text", true);
    t.normalizer_.handle_chinese_chars = norm.value("handle_chinese_chars", true);
    t.normalizer_.lowercase = norm.value("lowercase", true);
    if (norm.contains("strip_accents") && norm["strip_accents"].is_boolean()) {
      t.normalizer_.strip_accents = norm["strip_accents"].get<bool>();
    }
  }
  const nlohmann::json& pre = (*j)["pre_tokenizer"];
  if (pre.is_object() && pre.value("type", "") != "BertPreTokenizer") {
    return Status::InvalidArgument(path + ": pre_tokenizer type '" + pre.value("type", "") +
                                   "': only BertPreTokenizer is supported");
  }
  if ((*j)["added_tokens"].is_array()) {
    for (const auto& a : (*j)["added_tokens"]) {
      if (a.value("normalized", true) == false && a.contains("content") && a.contains("id")) {
        t.added_tokens_.emplace_back(a["content"].get<std::string>(), a["id"].get<int32_t>());
      }
    }
  }
  TRAINRT_RETURN_IF_ERROR(t.Finish(path));
  return t;
}

Result<WordPieceTokenizer> WordPieceTokenizer::FromVocabFile(const std::string& vocab_path,
                                                             const std::string& config_path) {
  auto text = runtime::ReadFileToString(vocab_path);
  if (!text.ok()) return text.status();
  WordPieceTokenizer t;
  t.source_dir_ = DirOf(vocab_path);
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string token = text->substr(start, end - start);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    t.token_to_id_.emplace(token, static_cast<int32_t>(t.id_to_token_.size()));
    t.id_to_token_.push_back(std::move(token));
    start = end + 1;
  }
  if (runtime::PathExists(config_path)) {
    auto config = ReadJson(config_path);
    if (!config.ok()) return config.status();
    const nlohmann::json& c = *config;
    t.normalizer_.lowercase = c.value("do_lower_case", true);
    t.normalizer_.handle_chinese_chars = c.value("tokenize_chinese_chars", true);
    if (c.contains("strip_accents") && c["strip_accents"].is_boolean()) {
      t.normalizer_.strip_accents = c["strip_accents"].get<bool>();
    }
    t.unk_token_ = c.value("unk_token", "[UNK]");
  }
  for (const char* special : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    auto it = t.token_to_id_.find(special);
    if (it != t.token_to_id_.end()) t.added_tokens_.emplace_back(special, it->second);
  }
  TRAINRT_RETURN_IF_ERROR(t.Finish(vocab_path));
  return t;
}

Status WordPieceTokenizer::Finish(const std::string& source) {
  auto id_of = [&](const std::string& token, int32_t& out) -> Status {
    auto it = token_to_id_.find(token);
    if (it == token_to_id_.end()) return Status::InvalidArgument(source + ": vocabulary has no '" + token + "' token");
    out = it->second;
    return Status::Ok();
  };
  TRAINRT_RETURN_IF_ERROR(id_of(unk_token_, unk_id_));
  TRAINRT_RETURN_IF_ERROR(id_of("[CLS]", cls_id_));
  TRAINRT_RETURN_IF_ERROR(id_of("[SEP]", sep_id_));
  TRAINRT_RETURN_IF_ERROR(id_of("[PAD]", pad_id_));
  special_ = SpecialTokens{pad_id_, unk_id_, cls_id_, sep_id_};
  std::stable_sort(added_tokens_.begin(), added_tokens_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return Status::Ok();
}

void WordPieceTokenizer::WordPiece(const std::u32string& word, std::vector<int32_t>& out) const {
  if (word.size() > max_chars_per_word_) {
    out.push_back(unk_id_);
    return;
  }
  std::vector<int32_t> pieces;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = word.size();
    int32_t found = -1;
    while (start < end) {
      std::string piece = EncodeUtf8(word, start, end);
      if (start > 0) piece = prefix_ + piece;
      auto it = token_to_id_.find(piece);
      if (it != token_to_id_.end()) {
        found = it->second;
        break;
      }
      --end;
    }
    if (found < 0) {  // no piece matches: the whole word is unknown
      out.push_back(unk_id_);
      return;
    }
    pieces.push_back(found);
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

void WordPieceTokenizer::TokenizeSegment(std::string_view text, std::vector<int32_t>& out, std::vector<int32_t>* words,
                                         int32_t& next_word) const {
  for (const std::u32string& word : PreTokenize(Normalize(normalizer_, text))) {
    const size_t before = out.size();
    WordPiece(word, out);
    if (words != nullptr) words->resize(out.size(), next_word);
    if (out.size() > before) ++next_word;
  }
}

void WordPieceTokenizer::Tokenize(std::string_view text, std::vector<int32_t>& out, std::vector<int32_t>* words) const {
  int32_t next_word = 0;
  SplitOnAddedTokens(
      text, added_tokens_, [&](std::string_view segment) { TokenizeSegment(segment, out, words, next_word); },
      [&](int32_t id, std::string_view) {
        out.push_back(id);
        if (words != nullptr) words->push_back(next_word++);
      });
}

std::vector<int32_t> WordPieceTokenizer::TokenizeToIds(std::string_view text) const {
  std::vector<int32_t> out;
  Tokenize(text, out, nullptr);
  return out;
}

Encoding WordPieceTokenizer::Encode(std::string_view text, const std::optional<std::string_view>& pair,
                                    const EncodeOptions& options) const {
  std::vector<int32_t> a, a_words, b, b_words;
  Tokenize(text, a, &a_words);
  if (pair) Tokenize(*pair, b, &b_words);
  const size_t specials = pair ? 3 : 2;
  if (options.max_length > 0) {
    const size_t budget = static_cast<size_t>(options.max_length) > specials ? options.max_length - specials : 0;
    TruncateLongestFirst(budget, a, a_words, b, b_words);
  }
  Encoding e;
  e.input_ids.push_back(cls_id_);
  e.input_ids.insert(e.input_ids.end(), a.begin(), a.end());
  e.input_ids.push_back(sep_id_);
  e.word_ids.push_back(-1);
  e.word_ids.insert(e.word_ids.end(), a_words.begin(), a_words.end());
  e.word_ids.push_back(-1);
  e.token_type_ids.assign(e.input_ids.size(), 0);
  if (pair) {
    e.input_ids.insert(e.input_ids.end(), b.begin(), b.end());
    e.input_ids.push_back(sep_id_);
    e.word_ids.insert(e.word_ids.end(), b_words.begin(), b_words.end());
    e.word_ids.push_back(-1);
    e.token_type_ids.resize(e.input_ids.size(), 1);
  }
  e.attention_mask.assign(e.input_ids.size(), 1);
  if (options.pad_to_max_length && options.max_length > 0) {
    const size_t n = static_cast<size_t>(options.max_length);
    if (e.input_ids.size() < n) {
      e.input_ids.resize(n, pad_id_);
      e.attention_mask.resize(n, 0);
      e.token_type_ids.resize(n, 0);
      e.word_ids.resize(n, -1);
    }
  }
  return e;
}

Status WordPieceTokenizer::Save(const std::string& dir, const TokenizerExport& options) const {
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(dir));
  auto write = [&](const std::string& name, const std::string& contents) {
    return runtime::WriteFileAtomically(dir + "/" + name, contents);
  };
  auto json_text = [](const nlohmann::json& j) { return j.dump(2, ' ', /*ensure_ascii=*/true) + "\n"; };
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    auto contents = runtime::ReadFileToString(source_dir_ + "/" + name);
    if (contents.ok()) TRAINRT_RETURN_IF_ERROR(write(name, *contents));
  }
  if (!runtime::PathExists(dir + "/tokenizer_config.json")) {
    nlohmann::json tc = {{"do_lower_case", normalizer_.lowercase},
                         {"model_max_length", options.model_max_length},
                         {"tokenizer_class", options.tokenizer_class},
                         {"tokenize_chinese_chars", normalizer_.handle_chinese_chars},
                         {"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                         {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}};
    TRAINRT_RETURN_IF_ERROR(write("tokenizer_config.json", json_text(tc)));
  }
  nlohmann::json special = {{"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}, {"pad_token", "[PAD]"},
                            {"sep_token", "[SEP]"}, {"unk_token", "[UNK]"}};
  TRAINRT_RETURN_IF_ERROR(write("special_tokens_map.json", json_text(special)));
  std::string vocab;
  for (const auto& token : id_to_token_) vocab += token + "\n";
  return write("vocab.txt", vocab);
}

std::string WordPieceTokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) continue;
    if (id == special_.pad || id == special_.bos || id == special_.eos || id == special_.unk) continue;
    const std::string& token = id_to_token_[static_cast<size_t>(id)];
    if (!out.empty() && token.rfind(prefix_, 0) == 0) {
      out += token.substr(prefix_.size());
    } else {
      out += (out.empty() ? "" : " ") + token;
    }
  }
  return out;
}

}  // namespace trainrt::trainer
