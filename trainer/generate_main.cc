// trainrt-generate: greedy generation from a causal-LM model folder (an export of
// trainrt-finetune, or any Llama, Mistral, Qwen2, Qwen3 or GPT-2 folder): what the fine-tuned model
// answers, without Python. Prints one JSON object: prompt_ids, new_ids, text.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include "trainer/generate/greedy.h"

int main(int argc, char** argv) {
  CLI::App app{"trainrt-generate: greedy generation from a causal-LM model folder, as transformers' "
               "generate(do_sample=False) makes it (stops at max_new_tokens or the end-of-sequence id)"};
  trainrt::trainer::GreedyRequest request;
  std::string messages_file;
  app.add_option("--model", request.model_dir, "model folder (config.json, safetensors, tokenizer files)")->required();
  app.add_option("--prompt", request.prompt, "plain text prompt (the tokenizer adds BOS as its post-processor says)");
  app.add_option("--messages", messages_file,
                 "a JSON file holding a conversation ([{\"role\": ..., \"content\": ...}]), rendered with the "
                 "model's chat template and the generation prompt");
  app.add_option("--max_new_tokens", request.max_new_tokens, "tokens to generate at most")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (request.prompt.empty() == messages_file.empty()) {
    std::fprintf(stderr, "trainrt-generate: give one of --prompt and --messages\n");
    return 2;
  }
  if (!messages_file.empty()) {
    std::ifstream in(messages_file);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json messages = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (!in || !messages.is_array()) {
      std::fprintf(stderr, "trainrt-generate: --messages %s: expected a JSON list of messages\n", messages_file.c_str());
      return 2;
    }
    request.messages_json = messages.dump();
  }
  try {
    auto result = trainrt::trainer::GenerateGreedy(request);
    if (!result.ok()) {
      std::fprintf(stderr, "trainrt-generate: %s\n", result.status().ToString().c_str());
      return 1;
    }
    const nlohmann::json out = {{"prompt_ids", result->prompt_ids}, {"new_ids", result->new_ids}, {"text", result->text}};
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "trainrt-generate: %s\n", e.what_without_backtrace());
    return 1;
  }
  return 0;
}
