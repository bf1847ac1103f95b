#include "trainer/tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <functional>
#include <queue>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <nlohmann/json.hpp>
#include <pcre2.h>
#include <utf8proc.h>

#include "runtime/file_util.h"
#include "runtime/strings.h"
#include "trainer/tokenizer/added_tokens.h"
#include "trainer/tokenizer/aligned_text.h"

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

// The byte ranges of the pieces of `text` that `regex` matches, and of the gaps between them, in
// order (Split with behavior Isolated).
std::vector<std::pair<size_t, size_t>> SplitIsolated(const pcre2_code* regex, std::string_view text) {
  std::vector<std::pair<size_t, size_t>> pieces;
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
    if (ov[0] > gap) pieces.emplace_back(gap, ov[0]);
    pieces.emplace_back(ov[0], ov[1]);
    start = gap = ov[1];
  }
  if (gap < text.size()) pieces.emplace_back(gap, text.size());
  pcre2_match_data_free(match);
  return pieces;
}

// Whether `s` is well-formed UTF-8.
bool IsValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                    static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) return false;
    i += static_cast<size_t>(n);
  }
  return true;
}

// `s` with each ill-formed part replaced by U+FFFD as Rust's String::from_utf8_lossy does it: one
// replacement per maximal prefix of a valid sequence, else per byte.
std::string Utf8Lossy(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                    static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n > 0) {
      out.append(s, i, static_cast<size_t>(n));
      i += static_cast<size_t>(n);
      continue;
    }
    const auto lead = static_cast<unsigned char>(s[i]);
    const size_t want = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 1;
    size_t k = 1;
    while (k < want && i + k < s.size()) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      const unsigned char low = k == 1 && lead == 0xE0 ? 0xA0 : k == 1 && lead == 0xF0 ? 0x90 : 0x80;
      const unsigned char high = k == 1 && lead == 0xED ? 0x9F : k == 1 && lead == 0xF4 ? 0x8F : 0xBF;
      if (c < low || c > high) break;
      ++k;
    }
    out += "\xEF\xBF\xBD";
    i += k;
  }
  return out;
}

// "<0x41>" for byte 0x41: the tokens byte_fallback spells a byte as.
std::string ByteToken(unsigned char b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// A normalizer or pre-tokenizer object, or each of a Sequence's `list` members.
std::vector<nlohmann::json> Flatten(const nlohmann::json& j, const char* list) {
  std::vector<nlohmann::json> out;
  if (j.is_object() && j.value("type", "") == "Sequence" && j.contains(list) && j[list].is_array()) {
    for (const auto& item : j[list]) out.push_back(item);
  } else if (j.is_object()) {
    out.push_back(j);
  }
  return out;
}

// A Replace's pattern: {"String": s} (a Regex pattern is not supported).
std::optional<std::string> StringPattern(const nlohmann::json& step) {
  const nlohmann::json pattern = step.value("pattern", nlohmann::json());
  if (!pattern.is_object() || !pattern.contains("String") || !pattern["String"].is_string()) return std::nullopt;
  return pattern["String"].get<std::string>();
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
  for (const auto& n : Flatten(j.value("normalizer", nlohmann::json()), "normalizers")) {
    const std::string type = n.value("type", "");
    Step step{type, "", "", 0, 0};
    if (type == "Prepend") {
      if (!n.contains("prepend") || !n["prepend"].is_string()) return bad("normalizer", "Prepend without a prepend string");
      step.content = n["prepend"].get<std::string>();
    } else if (type == "Replace") {
      auto pattern = StringPattern(n);
      if (!pattern || !n.contains("content") || !n["content"].is_string()) {
        return bad("normalizer", "Replace: expected a String pattern and a content string");
      }
      step.pattern = *pattern;
      step.content = n["content"].get<std::string>();
    } else if (type != "NFC") {
      return bad("normalizer", "type '" + type + "' is not supported (expected NFC, Prepend or Replace)");
    }
    t.normalizers_.push_back(std::move(step));
  }

  // ---- pre-tokenizer ----
  const std::vector<nlohmann::json> pres = Flatten(j.value("pre_tokenizer", nlohmann::json()), "pretokenizers");
  bool byte_level_regex = false;
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
      t.byte_level_ = true;
      t.add_prefix_space_ = p.value("add_prefix_space", false);
      byte_level_regex = p.value("use_regex", true);
    } else if (type == "Metaspace") {
      if (pres.size() != 1) return bad("pre_tokenizer", "Metaspace is supported alone, not in a Sequence");
      t.metaspace_ = true;
      t.metaspace_replacement_ = p.value("replacement", std::string("\u2581"));
      t.metaspace_prepend_ = p.value("prepend_scheme", std::string(p.value("add_prefix_space", true) ? "always" : "never"));
      t.metaspace_split_ = p.value("split", true);
      if (t.metaspace_prepend_ != "always" && t.metaspace_prepend_ != "first" && t.metaspace_prepend_ != "never") {
        return bad("pre_tokenizer", "Metaspace prepend_scheme '" + t.metaspace_prepend_ + "' (expected always, first or never)");
      }
    } else {
      return bad("pre_tokenizer", "type '" + type + "' is not supported (expected Split, ByteLevel or Metaspace)");
    }
  }
  if (byte_level_regex) {
    auto compiled = compile(kGpt2Pattern, "pre_tokenizer");
    if (!compiled.ok()) return compiled.status();
    t.byte_level_split_ = *compiled;
  }

  // ---- model ----
  const nlohmann::json& model = j["model"];
  if (!model.is_object() || model.value("type", "") != "BPE" || !model.contains("vocab") || !model["vocab"].is_object()) {
    return bad("model", "expected a BPE model with a vocab");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty()) {
      return bad(std::string("model.") + key, "is not supported (expected null)");
    }
  }
  t.byte_fallback_ = model.value("byte_fallback", false);
  t.fuse_unk_ = model.value("fuse_unk", false);
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
      std::string left, right;
      if (m.is_string()) {
        const std::string text = m.get<std::string>();
        const size_t space = text.find(' ');
        if (space != std::string::npos) {
          left = text.substr(0, space);
          right = text.substr(space + 1);
        }
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        left = m[0].get<std::string>();
        right = m[1].get<std::string>();
      }
      const auto l = t.token_to_id_.find(left), r = t.token_to_id_.find(right), lr = t.token_to_id_.find(left + right);
      if (left.empty() || right.empty()) {
        return bad("model.merges", "entry " + std::to_string(rank) + ": expected \"left right\" or [left, right]");
      }
      if (l == t.token_to_id_.end() || r == t.token_to_id_.end() || lr == t.token_to_id_.end()) {
        return bad("model.merges", "entry " + std::to_string(rank) + " ('" + left + "', '" + right +
                                       "'): its parts and their merge must be in the vocab");
      }
      t.merges_.emplace(PairKey(l->second, r->second), std::make_pair(rank++, lr->second));
    }
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = t.token_to_id_.find(model["unk_token"].get<std::string>());
    if (it != t.token_to_id_.end()) t.unk_id_ = it->second;
  }

  // ---- decoder ----
  for (const auto& d : Flatten(j.value("decoder", nlohmann::json()), "decoders")) {
    const std::string type = d.value("type", "");
    Step step{type, "", "", 0, 0};
    if (type == "Replace") {
      auto pattern = StringPattern(d);
      if (!pattern) return bad("decoder", "Replace: expected a String pattern");
      step.pattern = *pattern;
      step.content = d.value("content", std::string());
    } else if (type == "Strip") {
      step.content = d.value("content", std::string(" "));
      step.start = d.value("start", 0);
      step.stop = d.value("stop", 0);
    } else if (type == "Metaspace") {
      step.content = d.value("replacement", std::string("\u2581"));
      step.pattern = d.value("prepend_scheme", std::string(d.value("add_prefix_space", true) ? "always" : "never"));
    } else if (type != "ByteLevel" && type != "ByteFallback" && type != "Fuse") {
      return bad("decoder", "type '" + type + "' is not supported (expected ByteLevel, Replace, ByteFallback, Fuse, Strip "
                            "or Metaspace)");
    }
    t.decoders_.push_back(std::move(step));
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

void BpeTokenizer::Bpe(const std::string& piece, std::vector<int32_t>& ids, std::vector<ByteSpan>& ranges) const {
  const auto& alphabet = ByteLevelAlphabet();
  if (ignore_merges_) {
    std::string whole;
    if (byte_level_) {
      for (unsigned char c : piece) whole += alphabet[c];
    }
    if (auto it = token_to_id_.find(byte_level_ ? whole : piece); it != token_to_id_.end()) {
      ids.push_back(it->second);
      ranges.push_back({0, piece.size()});
      return;
    }
  }
  // The symbols: bytes (byte-level) or characters, those outside the vocabulary as byte tokens
  // (byte_fallback) or the unknown token (runs of them fused with fuse_unk), else dropped.
  struct Symbol {
    int32_t id;
    size_t begin, end;
    int prev, next;
  };
  std::vector<Symbol> word;
  bool last_unknown = false;
  auto push = [&](int32_t id, size_t begin, size_t end, bool unknown) {
    if (unknown && last_unknown && fuse_unk_) {
      word.back().end = end;
      return;
    }
    word.push_back({id, begin, end, static_cast<int>(word.size()) - 1, static_cast<int>(word.size()) + 1});
    last_unknown = unknown;
  };
  for (size_t i = 0; i < piece.size();) {
    const size_t n = byte_level_ ? 1 : std::min(Utf8Length(static_cast<unsigned char>(piece[i])), piece.size() - i);
    const std::string symbol = byte_level_ ? alphabet[static_cast<unsigned char>(piece[i])] : piece.substr(i, n);
    if (auto it = token_to_id_.find(symbol); it != token_to_id_.end()) {
      push(it->second, i, i + n, false);
    } else {
      std::vector<int32_t> bytes;
      if (byte_fallback_) {
        for (size_t k = i; k < i + n; ++k) {
          auto b = token_to_id_.find(ByteToken(static_cast<unsigned char>(piece[k])));
          if (b == token_to_id_.end()) break;
          bytes.push_back(b->second);
        }
      }
      if (byte_fallback_ && bytes.size() == n) {
        for (size_t k = 0; k < n; ++k) push(bytes[k], i + k, i + k + 1, false);
      } else if (unk_id_) {
        push(*unk_id_, i, i + n, true);
      }
    }
    i += n;
  }
  if (word.empty()) return;
  word.back().next = -1;
  // Merges as tokenizers' Word::merge_all: the pair of lowest rank first, the leftmost on a tie;
  // a queued pair that a merge changed is skipped when it comes up.
  struct Candidate {
    int32_t rank;
    int pos;
    int32_t merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int left) {
    const int right = word[static_cast<size_t>(left)].next;
    if (right < 0) return;
    auto it = merges_.find(PairKey(word[static_cast<size_t>(left)].id, word[static_cast<size_t>(right)].id));
    if (it != merges_.end()) queue.push({it->second.first, left, it->second.second});
  };
  for (size_t i = 0; i + 1 < word.size(); ++i) consider(static_cast<int>(i));
  std::vector<bool> gone(word.size(), false);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = word[static_cast<size_t>(c.pos)];
    if (gone[static_cast<size_t>(c.pos)] || left.next < 0) continue;
    const Symbol& right = word[static_cast<size_t>(left.next)];
    auto it = merges_.find(PairKey(left.id, right.id));
    if (it == merges_.end() || it->second.second != c.merged) continue;  // stale
    gone[static_cast<size_t>(left.next)] = true;
    left.id = c.merged;
    left.end = right.end;
    left.next = right.next;
    if (left.next >= 0) word[static_cast<size_t>(left.next)].prev = c.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(c.pos);
  }
  for (size_t i = 0; i < word.size(); ++i) {
    if (gone[i]) continue;
    ids.push_back(word[i].id);
    ranges.push_back({word[i].begin, word[i].end});
  }
}

void BpeTokenizer::TokenizeSegment(std::string_view segment, size_t base, Output out, int32_t& next_word) const {
  if (segment.empty()) return;
  AlignedText normalized = AlignedText::Of(segment, base);
  for (const Step& n : normalizers_) {
    if (n.type == "NFC") normalized.Nfc();
    else if (n.type == "Prepend") normalized.Prepend(n.content);
    else normalized.Replace(n.pattern, n.content);
  }
  std::vector<AlignedText> pieces = {std::move(normalized)};
  auto split_all = [&](auto&& split) {
    std::vector<AlignedText> next;
    for (const AlignedText& p : pieces) {
      for (const auto& [b, e] : split(p)) next.push_back(p.Slice(b, e));
    }
    pieces = std::move(next);
  };
  for (const auto& regex : splits_) split_all([&](const AlignedText& p) { return SplitIsolated(regex->code, p.text); });
  if (byte_level_) {
    // ByteLevel: each piece (with a space in front if asked), split by its own regex if asked.
    if (add_prefix_space_) {
      for (AlignedText& p : pieces) {
        if (!p.text.empty() && p.text[0] != ' ') p.Prepend(" ");
      }
    }
    if (byte_level_split_) split_all([&](const AlignedText& p) { return SplitIsolated(byte_level_split_->code, p.text); });
  }
  if (metaspace_) {
    // Metaspace: spaces as the replacement, which is put in front (always; first: at the very
    // start of the text only), and split before each replacement when asked.
    AlignedText& p = pieces.front();
    p.Replace(" ", metaspace_replacement_);
    const bool prepend = metaspace_prepend_ == "always" || (metaspace_prepend_ == "first" && base == 0);
    if (prepend && p.text.compare(0, metaspace_replacement_.size(), metaspace_replacement_) != 0) {
      p.Prepend(metaspace_replacement_);
    }
    if (metaspace_split_) {
      split_all([&](const AlignedText& q) {
        std::vector<std::pair<size_t, size_t>> cuts;
        size_t start = 0;
        for (size_t at = q.text.find(metaspace_replacement_, 1); at != std::string::npos;
             at = q.text.find(metaspace_replacement_, at + 1)) {
          cuts.emplace_back(start, at);
          start = at;
        }
        cuts.emplace_back(start, q.text.size());
        return cuts;
      });
    }
  }
  std::vector<ByteSpan> ranges;
  for (const AlignedText& piece : pieces) {
    if (piece.text.empty()) continue;
    const size_t before = out.ids.size();
    ranges.clear();
    Bpe(piece.text, out.ids, ranges);
    if (out.words != nullptr) out.words->resize(out.ids.size(), next_word);
    if (out.spans != nullptr) {
      for (const ByteSpan& r : ranges) out.spans->push_back({piece.origin[r.begin].first, piece.origin[r.end - 1].second});
    }
    if (out.ids.size() > before) ++next_word;
  }
}

void BpeTokenizer::Tokenize(std::string_view text, Output out) const {
  int32_t next_word = 0;
  SplitOnAddedTokens(
      text, added_tokens_,
      [&](std::string_view segment) {
        TokenizeSegment(segment, static_cast<size_t>(segment.data() - text.data()), out, next_word);
      },
      [&](int32_t id, std::string_view match) {
        out.ids.push_back(id);
        if (out.words != nullptr) out.words->push_back(next_word++);
        if (out.spans != nullptr) {
          const auto begin = static_cast<size_t>(match.data() - text.data());
          out.spans->push_back({begin, begin + match.size()});
        }
      });
}

std::vector<int32_t> BpeTokenizer::TokenizeToIds(std::string_view text) const {
  std::vector<int32_t> ids;
  Tokenize(text, {ids, nullptr, nullptr});
  return ids;
}

std::vector<int32_t> BpeTokenizer::TokenizeWithSpans(std::string_view text, std::vector<ByteSpan>& spans) const {
  std::vector<int32_t> ids;
  spans.clear();
  Tokenize(text, {ids, nullptr, &spans});
  return ids;
}

Encoding BpeTokenizer::Encode(std::string_view text, const std::optional<std::string_view>& pair,
                              const EncodeOptions& options) const {
  std::vector<int32_t> a, a_words, b, b_words;
  Tokenize(text, {a, &a_words, nullptr});
  if (pair) Tokenize(*pair, {b, &b_words, nullptr});
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
  std::vector<std::string> tokens;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) continue;
    if (static_cast<size_t>(id) < special_ids_.size() && special_ids_[static_cast<size_t>(id)]) continue;
    tokens.push_back(id_to_token_[static_cast<size_t>(id)]);
  }
  // tokenizers' decode_chain, decoder after decoder; no decoder joins with spaces.
  if (decoders_.empty()) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i > 0 ? " " : "") + tokens[i];
    return out;
  }
  for (const Step& d : decoders_) {
    std::vector<std::string> next;
    if (d.type == "ByteLevel") {  // every code point back to its byte; the text made valid
      std::string bytes;
      for (const std::string& token : tokens) {
        for (size_t i = 0; i < token.size();) {
          const size_t n = Utf8Length(static_cast<unsigned char>(token[i]));
          const auto it = byte_of.find(token.substr(i, n));
          bytes += it == byte_of.end() ? token.substr(i, n) : std::string(1, it->second);
          i += n;
        }
      }
      next.push_back(Utf8Lossy(bytes));
    } else if (d.type == "ByteFallback") {  // runs of <0xXX> back to text, U+FFFD per byte if invalid
      std::string run;
      size_t run_tokens = 0;
      auto flush = [&] {
        if (run_tokens == 0) return;
        if (IsValidUtf8(run)) next.push_back(run);
        else next.insert(next.end(), run_tokens, "\xEF\xBF\xBD");
        run.clear();
        run_tokens = 0;
      };
      for (const std::string& token : tokens) {
        if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>' && std::isxdigit(token[3]) &&
            std::isxdigit(token[4])) {
          run += static_cast<char>(std::stoi(token.substr(3, 2), nullptr, 16));
          ++run_tokens;
          continue;
        }
        flush();
        next.push_back(token);
      }
      flush();
    } else if (d.type == "Fuse") {
      std::string all;
      for (const std::string& token : tokens) all += token;
      next.push_back(std::move(all));
    } else if (d.type == "Replace") {
      for (const std::string& token : tokens) {
        next.push_back(d.pattern.empty() ? token : runtime::ReplaceAll(token, d.pattern, d.content));
      }
    } else if (d.type == "Strip") {  // up to `start` leading and `stop` trailing copies of content
      for (std::string token : tokens) {
        for (int k = 0; k < d.start && token.compare(0, d.content.size(), d.content) == 0 && !d.content.empty(); ++k) {
          token.erase(0, d.content.size());
        }
        for (int k = 0; k < d.stop && !d.content.empty() && token.size() >= d.content.size() &&
                        token.compare(token.size() - d.content.size(), d.content.size(), d.content) == 0;
             ++k) {
          token.erase(token.size() - d.content.size());
        }
        next.push_back(std::move(token));
      }
    } else if (d.type == "Metaspace") {  // the replacement as a space; the first token's dropped
      for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string space = i == 0 && d.pattern != "never" ? "" : " ";
        next.push_back(d.content.empty() ? tokens[i] : runtime::ReplaceAll(tokens[i], d.content, space));
      }
    }
    tokens = std::move(next);
  }
  std::string out;
  for (const std::string& token : tokens) out += token;
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
