#include "trainer/tokenizer/chat_template.h"

#include <exception>

#include <nlohmann/json.hpp>

// llama.cpp's engine (scripts/fetch_jinja.sh): only this file sees it.
#include "jinja/lexer.h"
#include "jinja/parser.h"
#include "jinja/runtime.h"
#include "jinja/value.h"
#include "json.h"

#include "runtime/file_util.h"

namespace trainrt::trainer {

using runtime::Status;

struct ChatTemplate::Program {
  jinja::program program;
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
    auto program = std::make_shared<Program>(Program{jinja::parse_from_tokens(lexer.tokenize(source))});
    return ChatTemplate(std::move(program), std::make_shared<const std::string>(source), where);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(where + ": not a template this Jinja engine parses: " + e.what());
  }
}

runtime::Result<std::string> ChatTemplate::Render(const nlohmann::json& messages, bool add_generation_prompt,
                                                  const std::optional<nlohmann::json>& tools,
                                                  const std::map<std::string, std::string>& variables) const {
  // transformers' render context: the special tokens first, then the call's own names; tools and
  // documents are None when not given.
  nlohmann::json globals = nlohmann::json::object();
  for (const auto& [name, value] : variables) globals[name] = value;
  globals["messages"] = WithReasoningAliases(messages);
  globals["add_generation_prompt"] = add_generation_prompt;
  globals["tools"] = tools ? *tools : nlohmann::json(nullptr);
  globals["documents"] = nullptr;
  try {
    jinja::context context(*source_);
    jinja::global_from_json(context, common_json::parse(globals.dump()), /*mark_input=*/false);
    jinja::runtime runtime(context);
    return jinja::runtime::gather_string_parts(runtime.execute(program_->program))->as_string().str();
  } catch (const jinja::raised_exception& e) {
    return Status::InvalidArgument(where_ + " refused the messages: " + e.what());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(where_ + ": rendering failed: " + e.what());
  }
}

runtime::Result<std::optional<ChatTemplate>> LoadChatTemplate(const std::string& dir) {
  if (const std::string jinja_file = dir + "/chat_template.jinja"; runtime::PathExists(jinja_file)) {
    auto source = runtime::ReadFileToString(jinja_file);
    if (!source.ok()) return source.status();
    auto parsed = ChatTemplate::Parse(*source, jinja_file);
    if (!parsed.ok()) return parsed.status();
    return std::optional<ChatTemplate>(std::move(*parsed));
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

}  // namespace trainrt::trainer
