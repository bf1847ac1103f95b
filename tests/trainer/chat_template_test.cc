#include "trainer/tokenizer/chat_template.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/runtime/test_util.h"
#include "tests/trainer/python_fixture.h"

namespace trainrt::trainer {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every real chat template llama.cpp ships (70, from Llama 3.x, Qwen2.5/3, Mistral, DeepSeek,
// Gemma, Phi, Granite, ...) on four conversations, against transformers' own rendering.
TEST(ChatTemplate, RendersEveryShippedTemplateAsTransformersDoes) {
  static testing::PythonFixture fixture("scripts/tokenizer/render_chat_templates.py");
  ASSERT_TRUE(fixture.ok()) << "scripts/tokenizer/render_chat_templates.py failed";
  const nlohmann::json& expected = fixture.expected();
  std::map<std::string, std::string> specials;
  for (const auto& [k, v] : expected["specials"].items()) specials[k] = v.get<std::string>();
  int rendered = 0, refused = 0;
  std::map<std::string, ChatTemplate> parsed;
  for (const nlohmann::json& c : expected["cases"]) {
    const std::string name = c["template"];
    auto it = parsed.find(name);
    if (it == parsed.end()) {
      auto t = ChatTemplate::Parse(ReadFile(expected["templates_dir"].get<std::string>() + "/" + name), name);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      it = parsed.emplace(name, std::move(*t)).first;
    }
    auto text = it->second.Render(c["messages"], c["add_generation_prompt"], std::nullopt, specials);
    const std::string what = name + ", conversation " + std::to_string(c["conversation"].get<int>());
    if (c.contains("text")) {
      ASSERT_TRUE(text.ok()) << what << ": " << text.status().ToString();
      EXPECT_EQ(*text, c["text"].get<std::string>()) << what;
      ++rendered;
    } else if (c["error"].get<std::string>().rfind("TemplateError", 0) == 0) {  // the template's raise_exception
      EXPECT_FALSE(text.ok()) << what << " renders, though transformers says " << c["error"];
      ++refused;
    }
    // Else transformers' jinja2 fails on a tool-use template called without tools (iterating
    // None); the engine may render it or refuse it.
  }
  EXPECT_GT(rendered, 250);
  EXPECT_GT(refused, 0);
}

TEST(ChatTemplate, ARaisedExceptionIsTheTemplatesOwnMessage) {
  auto t = ChatTemplate::Parse(
      "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
      "{% endif %}{{ m['content'] }}{% endfor %}",
      "config");
  ASSERT_TRUE(t.ok());
  auto text = t->Render(nlohmann::json::parse(R"([{"role": "system", "content": "x"}])"), false, std::nullopt, {});
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("System role not supported"), std::string::npos) << text.status().ToString();
  EXPECT_NE(text.status().message().find("config"), std::string::npos);
}

TEST(ChatTemplate, LoadsAsTransformersFindsIt) {
  testing::ScratchDir dir;
  auto none = LoadChatTemplate(dir.path());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  dir.Write("tokenizer_config.json", R"({"chat_template": [{"name": "tool_use", "template": "T"},
                                                           {"name": "default", "template": "D{{ bos_token }}"}]})");
  auto listed = LoadChatTemplate(dir.path());
  ASSERT_TRUE(listed.ok() && listed->has_value());
  EXPECT_EQ(*(*listed)->Render(nlohmann::json::array(), false, std::nullopt, {{"bos_token", "<s>"}}), "D<s>");

  dir.Write("chat_template.jinja", "J{{ messages | length }}");  // the file wins over the config's field
  auto file = LoadChatTemplate(dir.path());
  ASSERT_TRUE(file.ok() && file->has_value());
  EXPECT_EQ(*(*file)->Render(nlohmann::json::array({1, 2}), false, std::nullopt, {}), "J2");

  dir.Write("chat_template.jinja", "{% for x in messages %}");
  auto broken = LoadChatTemplate(dir.path());
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("chat_template.jinja"), std::string::npos) << broken.status().ToString();
}

// assistant_only_loss: what {% generation %} blocks write, as byte ranges of the same text that a
// plain render gives, whitespace control on the tags kept.
TEST(ChatTemplate, GenerationBlocksAreFoundInTheRenderedText) {
  const std::string source =
      "{% for m in messages %}{{ m.role }}: {% if m.role == 'assistant' %}{% generation %}{{ m.content }}<end>"
      "{% endgeneration %}{% else %}{{ m.content }}{% endif %}|\n  {%- generation -%}  x  {%- endgeneration %}\n{% endfor %}";
  auto t = ChatTemplate::Parse(source, "test template");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE(t->has_generation_blocks());
  const nlohmann::json messages = nlohmann::json::parse(
      R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
          {"role": "user", "content": "and?"}, {"role": "assistant", "content": "bye"}])");
  std::vector<std::pair<size_t, size_t>> spans;
  auto text = t->RenderWithGenerationSpans(messages, false, std::nullopt, {}, spans);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, *t->Render(messages, false, std::nullopt, {}));
  // trim_blocks takes the newline after a block tag, the tags' "-" the spaces beside them.
  EXPECT_EQ(*text, "user: hi|xassistant: hello<end>|xuser: and?|xassistant: bye<end>|x");
  std::vector<std::string> generated;
  for (const auto& [b, e] : spans) generated.push_back(text->substr(b, e - b));
  EXPECT_EQ(generated, (std::vector<std::string>{"x", "hello<end>", "x", "x", "bye<end>", "x"}));

  auto plain = ChatTemplate::Parse("{{ messages[0].content }}", "plain");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->has_generation_blocks());
  EXPECT_FALSE(plain->RenderWithGenerationSpans(messages, false, std::nullopt, {}, spans).ok());
}

TEST(ChatTemplate, ATemplateFileIsAJinjaFile) {
  testing::ScratchDir dir;
  dir.Write("t.jinja", "{{ 'J' }}");
  auto file = LoadChatTemplateFile(dir.path() + "/t.jinja");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*(*file)->Render(nlohmann::json::array(), false, std::nullopt, {}), "J");
  auto folder = LoadChatTemplateFile(dir.path());
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.status().message().find("expected a .jinja or .j2 template file"), std::string::npos);
  EXPECT_FALSE(LoadChatTemplateFile(dir.path() + "/missing.jinja").ok());
}

}  // namespace
}  // namespace trainrt::trainer
