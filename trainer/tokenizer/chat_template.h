// ChatTemplate: a model's chat template, rendered as transformers' apply_chat_template renders
// it (Jinja with trim_blocks and lstrip_blocks; messages, tools, add_generation_prompt and the
// tokenizer's special tokens in the context). The engine is llama.cpp's C++ Jinja
// (scripts/fetch_jinja.sh); its headers stay in chat_template.cc. Immutable; safe to share.
#ifndef TRAINRT_TRAINER_TOKENIZER_CHAT_TEMPLATE_H_
#define TRAINRT_TRAINER_TOKENIZER_CHAT_TEMPLATE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/status.h"

namespace trainrt::trainer {

class ChatTemplate {
 public:
  // `where` names the template's origin in errors ("tokenizer_config.json's chat_template").
  static runtime::Result<ChatTemplate> Parse(const std::string& source, const std::string& where);

  // The text of `messages` (a JSON array of {"role", "content", ...}). `variables` holds the other
  // names the template sees: the special tokens (bos_token, eos_token, ...). InvalidArgument
  // carries the template's own message (raise_exception) or the engine's.
  runtime::Result<std::string> Render(const nlohmann::json& messages, bool add_generation_prompt,
                                      const std::optional<nlohmann::json>& tools,
                                      const std::map<std::string, std::string>& variables) const;

  // Whether the template marks what the assistant writes with {% generation %} blocks.
  bool has_generation_blocks() const;
  // Render, and the byte ranges of the text that its {% generation %} blocks wrote (what
  // transformers' return_assistant_tokens_mask tracks). Needs has_generation_blocks().
  runtime::Result<std::string> RenderWithGenerationSpans(const nlohmann::json& messages, bool add_generation_prompt,
                                                         const std::optional<nlohmann::json>& tools,
                                                         const std::map<std::string, std::string>& variables,
                                                         std::vector<std::pair<size_t, size_t>>& spans) const;

  const std::string& source() const { return *source_; }
  const std::string& where() const { return where_; }

 private:
  struct Program;
  ChatTemplate(std::shared_ptr<const Program> program, std::shared_ptr<const std::string> source, std::string where)
      : program_(std::move(program)), source_(std::move(source)), where_(std::move(where)) {}
  std::shared_ptr<const Program> program_;
  std::shared_ptr<const std::string> source_;
  std::string where_;
};

// The chat template of the model folder `dir`, as transformers finds it: chat_template.jinja,
// else tokenizer_config.json's chat_template (a string, or a list of named templates: "default").
// nullopt when the folder has none; InvalidArgument when one does not parse.
runtime::Result<std::optional<ChatTemplate>> LoadChatTemplate(const std::string& dir);

// The template in `path`, a .jinja or .j2 file (TRL's chat_template_path; a tokenizer folder,
// which TRL clones tokens and all from, is refused). The error names the path.
runtime::Result<std::optional<ChatTemplate>> LoadChatTemplateFile(const std::string& path);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TOKENIZER_CHAT_TEMPLATE_H_
