#include "trainer/tokenizer/chat_template.h"

#include <exception>
#include <regex>

#include <nlohmann/json.hpp>

// llama.cpp's engine (scripts/fetch_jinja.sh): only this file sees it.
#include "jinja/lexer.h"
#include "jinja/parser.h"
#include "jinja/runtime.h"
#include "jinja/value.h"
#include "json.h"

#include "runtime/file_util.h"
#include "runtime/strings.h"

namespace trainrt::trainer {

using runtime::Status;

namespace {

// The engine parses {% generation %} and ignores it. To find what those blocks write, a second
// copy of the template has each tag replaced by `{%X if true %}MARKER{% endif Y%}`: block tags
// that keep the original's whitespace control (X, Y) and trim_blocks/lstrip_blocks effects, around
// a marker that is taken out of the text after rendering.
constexpr char kBeginMarker[] = "\x02trainrt:generation\x02";
constexpr char kEndMarker[] = "\x03trainrt:endgeneration\x03";

std::optional<std::string> WithGenerationMarkers(const std::string& source) {
  static const std::regex tag(R"(\{%(-?)\s*(end)?generation\s*(-?)%\})");
  if (!std::regex_search(source, tag)) return std::nullopt;
  std::string out;
  auto last = source.cbegin();
  for (std::sregex_iterator it(source.begin(), source.end(), tag), end; it != end; ++it) {
    const std::smatch& m = *it;
    out.append(last, m[0].first);
    out += "{%" + m[1].str() + " if true %}" + (m[2].matched ? kEndMarker : kBeginMarker) + "{% endif " + m[3].str() + "%}";
    last = m[0].second;
  }
  out.append(last, source.cend());
  return out;
}

}  // namespace

struct ChatTemplate::Program {
  jinja::program program;
  std::optional<jinja::program> marked;  // with generation markers, when the template has blocks
  std::string marked_source;
};

namespace {

// transformers' _alias_reasoning_fields: a message's reasoning, under whichever of its names it
// came, is also its `thinking` and its `reasoning_content`, the names templates read.
nlohmann::json WithReasoningAliases(const nlohmann::json& messages) {
  if (!messages.is_array()) return messages;
  nlohmann::json out = messages;
  for (nlohmann::json& m : out) {
    if (!m.is_object()) continue;
    for (const char* name : {"reasoning_content", "thinking", "reasoning"}) {
      const auto it = m.find(name);
      if (it == m.end() || it->is_null()) continue;
      const nlohmann::json reasoning = *it;
      if (!m.contains("thinking")) m["thinking"] = reasoning;
      m["reasoning_content"] = reasoning;
      break;
    }
  }
  return out;
}

}  // namespace

runtime::Result<ChatTemplate> ChatTemplate::Parse(const std::string& source, const std::string& where) {
  try {
    jinja::lexer lexer;
    auto program = std::make_shared<Program>(Program{jinja::parse_from_tokens(lexer.tokenize(source)), std::nullopt, ""});
    if (auto marked = WithGenerationMarkers(source)) {
      jinja::lexer marked_lexer;
      program->marked = jinja::parse_from_tokens(marked_lexer.tokenize(*marked));
      program->marked_source = std::move(*marked);
    }
    return ChatTemplate(std::move(program), std::make_shared<const std::string>(source), where);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(where + ": not a template this Jinja engine parses: " + e.what());
  }
}

namespace {

runtime::Result<std::string> RenderProgram(const jinja::program& program, const std::string& source,
                                           const std::string& where, const nlohmann::json& messages,
                                           bool add_generation_prompt, const std::optional<nlohmann::json>& tools,
                                           const std::map<std::string, std::string>& variables) {
  // transformers' render context: the special tokens first, then the call's own names; tools and
  // documents are None when not given.
  nlohmann::json globals = nlohmann::json::object();
  for (const auto& [name, value] : variables) globals[name] = value;
  globals["messages"] = WithReasoningAliases(messages);
  globals["add_generation_prompt"] = add_generation_prompt;
  globals["tools"] = tools ? *tools : nlohmann::json(nullptr);
  globals["documents"] = nullptr;
  try {
    jinja::context context(source);
    jinja::global_from_json(context, common_json::parse(globals.dump()), /*mark_input=*/false);
    jinja::runtime runtime(context);
    return jinja::runtime::gather_string_parts(runtime.execute(program))->as_string().str();
  } catch (const jinja::raised_exception& e) {
    return Status::InvalidArgument(where + " refused the messages: " + e.what());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(where + ": rendering failed: " + e.what());
  }
}

}  // namespace

runtime::Result<std::string> ChatTemplate::Render(const nlohmann::json& messages, bool add_generation_prompt,
                                                  const std::optional<nlohmann::json>& tools,
                                                  const std::map<std::string, std::string>& variables) const {
  return RenderProgram(program_->program, *source_, where_, messages, add_generation_prompt, tools, variables);
}

bool ChatTemplate::has_generation_blocks() const { return program_->marked.has_value(); }

runtime::Result<std::string> ChatTemplate::RenderWithGenerationSpans(
    const nlohmann::json& messages, bool add_generation_prompt, const std::optional<nlohmann::json>& tools,
    const std::map<std::string, std::string>& variables, std::vector<std::pair<size_t, size_t>>& spans) const {
  spans.clear();
  if (!program_->marked) return Status::InvalidArgument(where_ + ": has no {% generation %} blocks");
  auto marked = RenderProgram(*program_->marked, program_->marked_source, where_, messages, add_generation_prompt, tools,
                              variables);
  if (!marked.ok()) return marked.status();
  std::string text;
  text.reserve(marked->size());
  const std::string begin = kBeginMarker, end = kEndMarker;
  int depth = 0;
  for (size_t i = 0; i < marked->size();) {
    if (marked->compare(i, begin.size(), begin) == 0) {
      if (depth++ == 0) spans.emplace_back(text.size(), text.size());
      i += begin.size();
    } else if (marked->compare(i, end.size(), end) == 0) {
      if (depth > 0 && --depth == 0) spans.back().second = text.size();
      i += end.size();
    } else {
      text += (*marked)[i++];
    }
  }
  if (depth != 0) spans.back().second = text.size();  // an unclosed block runs to the end
  return text;
}

namespace {

// The template that the file `path` holds.
runtime::Result<std::optional<ChatTemplate>> ParseFile(const std::string& path) {
  auto source = runtime::ReadFileToString(path);
  if (!source.ok()) return source.status();
  auto parsed = ChatTemplate::Parse(*source, path);
  if (!parsed.ok()) return parsed.status();
  return std::optional<ChatTemplate>(std::move(*parsed));
}

}  // namespace

runtime::Result<std::optional<ChatTemplate>> LoadChatTemplate(const std::string& dir) {
  if (const std::string jinja_file = dir + "/chat_template.jinja"; runtime::PathExists(jinja_file)) {
    return ParseFile(jinja_file);
  }
  const std::string config_file = dir + "/tokenizer_config.json";
  if (!runtime::PathExists(config_file)) return std::optional<ChatTemplate>();
  auto text = runtime::ReadFileToString(config_file);
  if (!text.ok()) return text.status();
  const nlohmann::json config = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object() || !config.contains("chat_template")) return std::optional<ChatTemplate>();
  const nlohmann::json& field = config["chat_template"];
  const std::string where = config_file + "'s chat_template";
  std::string source;
  if (field.is_string()) {
    source = field.get<std::string>();
  } else if (field.is_array()) {  // [{"name": ..., "template": ...}]: transformers uses "default"
    for (const auto& item : field) {
      if (item.is_object() && item.value("name", "") == "default" && item.contains("template") &&
          item["template"].is_string()) {
        source = item["template"].get<std::string>();
      }
    }
    if (source.empty()) return Status::InvalidArgument(where + ": a list without a template named \"default\"");
  } else if (!field.is_null()) {
    return Status::InvalidArgument(where + ": expected a string or a list of {name, template}");
  } else {
    return std::optional<ChatTemplate>();
  }
  auto parsed = ChatTemplate::Parse(source, where);
  if (!parsed.ok()) return parsed.status();
  return std::optional<ChatTemplate>(std::move(*parsed));
}

runtime::Result<std::optional<ChatTemplate>> LoadChatTemplateFile(const std::string& path) {
  if (!runtime::EndsWith(path, ".jinja") && !runtime::EndsWith(path, ".j2")) {
    return Status::InvalidArgument("argument --chat_template_path='" + path +
                                   "': expected a .jinja or .j2 template file (a tokenizer folder to clone is not "
                                   "supported)");
  }
  auto parsed = ParseFile(path);
  if (!parsed.ok() && parsed.status().code() != Status::Code::kInvalidArgument) {  // unreadable, not unparsable
    return Status::InvalidArgument("argument --chat_template_path='" + path + "': " + parsed.status().message());
  }
  return parsed;
}

}  // namespace trainrt::trainer
