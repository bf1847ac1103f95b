#include "trainer/tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <nlohmann/json.hpp>
#include <pcre2.h>
#include <utf8proc.h>

#include "runtime/file_util.h"
#include "trainer/tokenizer/added_tokens.h"

namespace trainrt::trainer {

using runtime::Result;
using runtime::Status;

struct BpeTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

namespace {

// GPT-2's split, which ByteLevel applies itself when use_regex is set.
constexpr char kGpt2Pattern[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// GPT-2's bytes_to_unicode: every byte as one printable code point, UTF-8 encoded.
const std::array<std::string, 256>& ByteLevelAlphabet() {
  static const std::array<std::string, 256> alphabet = [] {
    std::array<std::string, 256> a;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const int32_t cp = printable ? b : next++;
      utf8proc_uint8_t buf[4];
      const auto n = utf8proc_encode_char(cp, buf);
      a[static_cast<size_t>(b)] = std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
    }
    return a;
  }();
  return alphabet;
}

// The length of the UTF-8 character starting with byte `c` (1 for a stray continuation byte).
size_t Utf8Length(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1; }

// The pieces of `text` that `regex` matches, and the gaps between them, in order (Split with
// behavior Isolated).
std::vector<std::string> SplitIsolated(const pcre2_code* regex, const std::string& text) {
  std::vector<std::string> pieces;
  pcre2_match_data* match = pcre2_match_data_create_from_pattern(regex, nullptr);
  size_t start = 0, gap = 0;
  while (start < text.size()) {
    const int rc = pcre2_match(regex, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start, 0, match, nullptr);
    if (rc < 0) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match);
    if (ov[1] == ov[0]) {  // an empty match: step over one character
      start = ov[0] + Utf8Length(static_cast<unsigned char>(text[ov[0]]));
      continue;
    }
    if (ov[0] > gap) pieces.push_back(text.substr(gap, ov[0] - gap));
    pieces.push_back(text.substr(ov[0], ov[1] - ov[0]));
    start = gap = ov[1];
  }
  if (gap < text.size()) pieces.push_back(text.substr(gap));
  pcre2_match_data_free(match);
  return pieces;
}

std::string Nfc(const std::string& text) {
  utf8proc_uint8_t* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(text.c_str()));
  if (out == nullptr) return text;  // not UTF-8: left as it is
  std::string s(reinterpret_cast<const char*>(out));
  std::free(out);
  return s;
}


// tokenizer_config.json's name of a special token: a string, or an AddedToken dict's content.
std::optional<std::string> SpecialTokenName(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

Result<BpeTokenizer> BpeTokenizer::FromTokenizerJson(nlohmann::json j, const std::string& path) {
  BpeTokenizer t;
  const size_t slash = path.rfind('/');
  t.source_dir_ = slash == std::string::npos ? "." : path.substr(0, slash);
  auto bad = [&](const std::string& key, const std::string& what) {
    return Status::InvalidArgument(path + ": key '" + key + "': " + what);
  };
  auto compile = [&](const std::string& pattern, const std::string& key) -> Result<std::shared_ptr<const Regex>> {
    int error = 0;
    PCRE2_SIZE offset = 0;
    auto regex = std::make_shared<Regex>();
    regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                &error, &offset, nullptr);
    if (regex->code == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      return bad(key, "regex does not compile at offset " + std::to_string(offset) + ": " +
                          reinterpret_cast<const char*>(message));
    }
    (void)pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);  // faster where the JIT exists
    return std::shared_ptr<const Regex>(regex);
  };

  // ---- normalizer ----
  const nlohmann::json norm = j.value("normalizer", nlohmann::json());
  std::vector<nlohmann::json> normalizers;
  if (norm.is_object() && norm.value("type", "") == "Sequence" && norm.contains("normalizers")) {
    for (const auto& n : norm["normalizers"]) normalizers.push_back(n);
  } else if (norm.is_object()) {
    normalizers.push_back(norm);
  }
  for (const auto& n : normalizers) {
    const std::string type = n.value("type", "");
    if (type != "NFC") return bad("normalizer", "type '" + type + "' is not supported (expected none or NFC)");
    t.nfc_ = true;
  }

  // ---- pre-tokenizer ----
  const nlohmann::json pre = j.value("pre_tokenizer", nlohmann::json());
  std::vector<nlohmann::json> pres;
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers")) {
    for (const auto& p : pre["pretokenizers"]) pres.push_back(p);
  } else if (pre.is_object()) {
    pres.push_back(pre);
  }
  bool byte_level = false;
  for (const auto& p : pres) {
    const std::string type = p.value("type", "");
    if (type == "Split") {
      const nlohmann::json pattern = p.value("pattern", nlohmann::json());
      if (!pattern.is_object() || !(pattern.contains("Regex") || pattern.contains("String"))) {
        return bad("pre_tokenizer", "a Split without a Regex or String pattern");
      }
      if (p.value("behavior", "") != "Isolated" || p.value("invert", false)) {
        return bad("pre_tokenizer", "Split behavior '" + p.value("behavior", "") + "' is not supported (expected Isolated)");
      }
      std::string regex = pattern.contains("Regex") ? pattern["Regex"].get<std::string>() : "";
      if (pattern.contains("String")) {  // a literal: quoted for PCRE2
        regex = "\\Q" + pattern["String"].get<std::string>() + "\\E";
      }
      auto compiled = compile(regex, "pre_tokenizer");
      if (!compiled.ok()) return compiled.status();
      t.splits_.push_back(*compiled);
    } else if (type == "ByteLevel") {
      byte_level = true;
      t.add_prefix_space_ = p.value("add_prefix_space", false);
      t.byte_level_regex_ = p.value("use_regex", true);
    } else {
      return bad("pre_tokenizer", "type '" + type + "' is not supported (expected Split and ByteLevel)");
    }
  }
  if (!byte_level) return bad("pre_tokenizer", "expected a ByteLevel pre-tokenizer (byte-level BPE)");
  if (t.byte_level_regex_) {
    auto compiled = compile(kGpt2Pattern, "pre_tokenizer");
    if (!compiled.ok()) return compiled.status();
    t.byte_level_split_ = *compiled;
  }

  // ---- model ----
  const nlohmann::json& model = j["model"];
  if (!model.is_object() || model.value("type", "") != "BPE" || !model.contains("vocab") || !model["vocab"].is_object()) {
    return bad("model", "expected a BPE model with a vocab");
  }
  if (model.value("byte_fallback", false)) return bad("model.byte_fallback", "true is not supported (byte-level BPE only)");
  t.ignore_merges_ = model.value("ignore_merges", false);
  auto add = [&](const std::string& token, const nlohmann::json& id, const std::string& key) -> Status {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX / 2) {
      return bad(key, "'" + token + "': expected a non-negative id");
    }
    const auto i = static_cast<size_t>(id.get<int64_t>());
    if (t.id_to_token_.size() <= i) t.id_to_token_.resize(i + 1);
    t.id_to_token_[i] = token;
    t.token_to_id_[token] = static_cast<int32_t>(i);
    return Status::Ok();
  };
  for (const auto& [token, id] : model["vocab"].items()) TRAINRT_RETURN_IF_ERROR(add(token, id, "model.vocab"));
  if (model.contains("merges") && model["merges"].is_array()) {
    int32_t rank = 0;
    for (const auto& m : model["merges"]) {
      std::string key;
      if (m.is_string()) {
        key = m.get<std::string>();
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        key = m[0].get<std::string>() + " " + m[1].get<std::string>();
      } else {
        return bad("model.merges", "entry " + std::to_string(rank) + ": expected \"left right\" or [left, right]");
      }
      t.merge_rank_.emplace(std::move(key), rank++);
    }
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = t.token_to_id_.find(model["unk_token"].get<std::string>());
    if (it != t.token_to_id_.end()) t.unk_id_ = it->second;
  }

  // ---- added tokens ----
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& a : j["added_tokens"]) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string() || !a.contains("id")) {
        return bad("added_tokens", "expected objects with content and id");
      }
      const std::string content = a["content"].get<std::string>();
      TRAINRT_RETURN_IF_ERROR(add(content, a["id"], "added_tokens"));
      t.added_tokens_.emplace_back(content, a["id"].get<int32_t>());
      if (a.value("special", false)) {
        const size_t id = static_cast<size_t>(a["id"].get<int32_t>());
        if (t.special_ids_.size() <= id) t.special_ids_.resize(id + 1, false);
        t.special_ids_[id] = true;
      }
    }
  }
  std::stable_sort(t.added_tokens_.begin(), t.added_tokens_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });

  // ---- post-processor ----
  const nlohmann::json post = j.value("post_processor", nlohmann::json());
  std::vector<nlohmann::json> posts;
  if (post.is_object() && post.value("type", "") == "Sequence" && post.contains("processors")) {
    for (const auto& p : post["processors"]) posts.push_back(p);
  } else if (post.is_object()) {
    posts.push_back(post);
  }
  for (const auto& p : posts) {
    const std::string type = p.value("type", "");
    if (type == "ByteLevel") continue;  // offsets only
    if (type == "TemplateProcessing") {
      for (const auto& [key, target] : {std::pair<const char*, std::vector<TemplatePiece>*>{"single", &t.single_},
                                        {"pair", &t.pair_}}) {
        if (!p.contains(key) || !p[key].is_array()) return bad("post_processor", std::string("TemplateProcessing without ") + key);
        for (const auto& piece : p[key]) {
          TemplatePiece tp;
          if (piece.contains("SpecialToken")) {
            const std::string name = piece["SpecialToken"].value("id", "");
            const auto& specials = p.value("special_tokens", nlohmann::json::object());
            if (!specials.contains(name) || !specials[name].contains("ids")) {
              return bad("post_processor", "special token '" + name + "' has no ids in special_tokens");
            }
            tp.special = true;
            tp.ids = specials[name]["ids"].get<std::vector<int32_t>>();
            tp.type_id = piece["SpecialToken"].value("type_id", 0);
          } else if (piece.contains("Sequence")) {
            tp.second = piece["Sequence"].value("id", "A") == "B";
            tp.type_id = piece["Sequence"].value("type_id", 0);
          } else {
            return bad("post_processor", "a template piece that is neither SpecialToken nor Sequence");
          }
          target->push_back(std::move(tp));
        }
      }
    } else if (type == "RobertaProcessing") {
      const int32_t cls = p["cls"][1].get<int32_t>(), sep = p["sep"][1].get<int32_t>();
      t.single_ = {{true, false, {cls}, 0}, {false, false, {}, 0}, {true, false, {sep}, 0}};
      t.pair_ = {{true, false, {cls}, 0}, {false, false, {}, 0}, {true, false, {sep, sep}, 0}, {false, true, {}, 0},
                 {true, false, {sep}, 0}};
    } else {
      return bad("post_processor", "type '" + type + "' is not supported (expected ByteLevel, TemplateProcessing or "
                                   "RobertaProcessing)");
    }
  }

  // ---- special tokens, as tokenizer_config.json names them ----
  const std::string config_path = t.source_dir_ + "/tokenizer_config.json";
  if (runtime::PathExists(config_path)) {
    auto text = runtime::ReadFileToString(config_path);
    if (!text.ok()) return text.status();
    const nlohmann::json config = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!config.is_object()) return Status::InvalidArgument(config_path + ": not a JSON object");
    for (const auto& [key, slot] : {std::pair<const char*, int32_t*>{"pad_token", &t.special_.pad},
                                    {"unk_token", &t.special_.unk}, {"bos_token", &t.special_.bos},
                                    {"eos_token", &t.special_.eos}}) {
      if (auto name = SpecialTokenName(config, key)) {
        auto id = t.IdOf(*name);
        if (!id) return Status::InvalidArgument(config_path + ": key '" + key + "': '" + *name + "' is not in the vocabulary");
        *slot = *id;
      }
    }
  }
  if (t.special_.unk < 0 && t.unk_id_) t.special_.unk = *t.unk_id_;
  return t;
}

std::optional<int32_t> BpeTokenizer::IdOf(const std::string& token) const {
  auto it = token_to_id_.find(token);
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

void BpeTokenizer::Bpe(const std::string& piece, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    if (auto it = token_to_id_.find(piece); it != token_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  std::vector<std::string> word;
  for (size_t i = 0; i < piece.size();) {
    const size_t n = std::min(Utf8Length(static_cast<unsigned char>(piece[i])), piece.size() - i);
    word.push_back(piece.substr(i, n));
    i += n;
  }
  while (word.size() > 1) {
    int32_t best = INT32_MAX;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = merge_rank_.find(word[i] + " " + word[i + 1]);
      if (it != merge_rank_.end()) best = std::min(best, it->second);
    }
    if (best == INT32_MAX) break;
    std::vector<std::string> merged;
    for (size_t i = 0; i < word.size(); ++i) {  // every occurrence of the best pair, left to right
      if (i + 1 < word.size()) {
        auto it = merge_rank_.find(word[i] + " " + word[i + 1]);
        if (it != merge_rank_.end() && it->second == best) {
          merged.push_back(word[i] + word[i + 1]);
          ++i;
          continue;
        }
      }
      merged.push_back(word[i]);
    }
    word = std::move(merged);
  }
  for (const std::string& symbol : word) {
    auto it = token_to_id_.find(symbol);
    if (it != token_to_id_.end()) {
      out.push_back(it->second);
    } else if (unk_id_) {
      out.push_back(*unk_id_);
    }  // else dropped, as tokenizers does without an unk token
  }
}

void BpeTokenizer::TokenizeSegment(std::string_view text, std::vector<int32_t>& ids, std::vector<int32_t>* words,
                                   int32_t& next_word) const {
  if (text.empty()) return;
  std::vector<std::string> pieces = {nfc_ ? Nfc(std::string(text)) : std::string(text)};
  for (const auto& split : splits_) {
    std::vector<std::string> next;
    for (const std::string& p : pieces) {
      for (std::string& q : SplitIsolated(split->code, p)) next.push_back(std::move(q));
    }
    pieces = std::move(next);
  }
  // ByteLevel: each piece it gets (with a space in front if asked), split by its own regex if
  // asked, then every byte as its printable stand-in.
  std::vector<std::string> byte_pieces;
  for (std::string& p : pieces) {
    if (add_prefix_space_ && (p.empty() || p[0] != ' ')) p.insert(p.begin(), ' ');
    if (!byte_level_split_) {
      byte_pieces.push_back(std::move(p));
      continue;
    }
    for (std::string& q : SplitIsolated(byte_level_split_->code, p)) byte_pieces.push_back(std::move(q));
  }
  const auto& alphabet = ByteLevelAlphabet();
  for (const std::string& piece : byte_pieces) {
    std::string mapped;
    for (unsigned char c : piece) mapped += alphabet[c];
    const size_t before = ids.size();
    Bpe(mapped, ids);
    if (words != nullptr) words->resize(ids.size(), next_word);
    if (ids.size() > before) ++next_word;
  }
}

void BpeTokenizer::Tokenize(std::string_view text, std::vector<int32_t>& ids, std::vector<int32_t>* words) const {
  int32_t next_word = 0;
  SplitOnAddedTokens(
      text, added_tokens_, [&](std::string_view segment) { TokenizeSegment(segment, ids, words, next_word); },
      [&](int32_t id) {
        ids.push_back(id);
        if (words != nullptr) words->push_back(next_word++);
      });
}

std::vector<int32_t> BpeTokenizer::TokenizeToIds(std::string_view text) const {
  std::vector<int32_t> ids;
  Tokenize(text, ids, nullptr);
  return ids;
}

Encoding BpeTokenizer::Encode(std::string_view text, const std::optional<std::string_view>& pair,
                              const EncodeOptions& options) const {
  std::vector<int32_t> a, a_words, b, b_words;
  Tokenize(text, a, &a_words);
  if (pair) Tokenize(*pair, b, &b_words);
  const std::vector<TemplatePiece>& pieces = pair ? pair_ : single_;
  size_t specials = 0;
  for (const auto& p : pieces) specials += p.special ? p.ids.size() : 0;
  if (options.max_length > 0) {
    const size_t budget = static_cast<size_t>(options.max_length) > specials ? options.max_length - specials : 0;
    TruncateLongestFirst(budget, a, a_words, b, b_words);
  }
  Encoding e;
  auto append = [&](const std::vector<int32_t>& ids, const std::vector<int32_t>& words, int32_t type_id) {
    e.input_ids.insert(e.input_ids.end(), ids.begin(), ids.end());
    e.word_ids.insert(e.word_ids.end(), words.begin(), words.end());
    e.token_type_ids.resize(e.input_ids.size(), type_id);
  };
  if (pieces.empty()) {  // no template: the ids as they are, a pair one after the other
    append(a, a_words, 0);
    if (pair) append(b, b_words, 1);
  }
  for (const auto& p : pieces) {
    if (p.special) {
      append(p.ids, std::vector<int32_t>(p.ids.size(), -1), p.type_id);
    } else {
      append(p.second ? b : a, p.second ? b_words : a_words, p.type_id);
    }
  }
  e.attention_mask.assign(e.input_ids.size(), 1);
  if (options.pad_to_max_length && options.max_length > 0 && e.input_ids.size() < static_cast<size_t>(options.max_length)) {
    const size_t n = static_cast<size_t>(options.max_length);
    e.input_ids.resize(n, special_.pad >= 0 ? special_.pad : 0);
    e.attention_mask.resize(n, 0);
    e.token_type_ids.resize(n, 0);
    e.word_ids.resize(n, -1);
  }
  return e;
}

std::string BpeTokenizer::Decode(const std::vector<int32_t>& ids) const {
  static const std::unordered_map<std::string, char> byte_of = [] {
    std::unordered_map<std::string, char> m;
    const auto& alphabet = ByteLevelAlphabet();
    for (size_t b = 0; b < alphabet.size(); ++b) m[alphabet[b]] = static_cast<char>(b);
    return m;
  }();
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) continue;
    if (static_cast<size_t>(id) < special_ids_.size() && special_ids_[static_cast<size_t>(id)]) continue;
    const std::string& token = id_to_token_[static_cast<size_t>(id)];
    std::string bytes;
    bool mapped = true;
    for (size_t i = 0; i < token.size() && mapped;) {
      const size_t n = Utf8Length(static_cast<unsigned char>(token[i]));
      const auto it = byte_of.find(token.substr(i, n));
      if (it == byte_of.end()) mapped = false;
      else bytes += it->second;
      i += n;
    }
    out += mapped ? bytes : token;
  }
  return out;
}

Status BpeTokenizer::Save(const std::string& dir, const TokenizerExport&) const {
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(dir));
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"}) {
    auto contents = runtime::ReadFileToString(source_dir_ + "/" + name);
    if (contents.ok()) TRAINRT_RETURN_IF_ERROR(runtime::WriteFileAtomically(dir + "/" + name, *contents));
  }
  return Status::Ok();
}

}  // namespace trainrt::trainer
