// Greedy generation from a causal-LM model folder, as transformers' generate(do_sample=False)
// runs it: the prompt's ids, then at each step the most likely next token, until max_new_tokens
// or an end-of-sequence id (generation_config.json's eos_token_id, else config.json's). Without a
// KV cache: every step runs the whole sequence (a check and a convenience, not a server).
#ifndef TRAINRT_TRAINER_GENERATE_GREEDY_H_
#define TRAINRT_TRAINER_GENERATE_GREEDY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::trainer {

struct GreedyRequest {
  std::string model_dir;
  std::string prompt;                      // plain text, through the tokenizer's post-processor (BOS)
  std::string messages_json;               // or a conversation (JSON text), rendered with the chat template
  int64_t max_new_tokens = 32;
};

struct GreedyResult {
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> new_ids;  // the generated ids, the end-of-sequence id included if reached
  std::string text;              // new_ids decoded, special tokens skipped
};

runtime::Result<GreedyResult> GenerateGreedy(const GreedyRequest& request);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_GENERATE_GREEDY_H_
