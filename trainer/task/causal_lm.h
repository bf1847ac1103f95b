// CausalLMTask: supervised fine-tuning of a decoder-only language model, as TRL's SFTTrainer
// prepares it. Data in TRL's formats: a text column (dataset_text_field, default `text`: language
// modelling), or `prompt` and `completion` (the loss on the completion only, unless
// completion_only_loss is False). The EOS token is appended as TRL appends it (to the text, or the
// completion, unless it ends with it), the tokenizer adds what its post-processor adds (BOS for
// Llama 3), sequences are cut to max_length (default 1024, SFTConfig's; an example left with
// nothing to learn is dropped, as TRL drops it), and each position's
// target is the next token (-100 where nothing is learned). The loss is cross-entropy summed over
// the targets; evaluation adds perplexity, exp(eval_loss), as transformers' run_clm does.
#ifndef TRAINRT_TRAINER_TASK_CAUSAL_LM_H_
#define TRAINRT_TRAINER_TASK_CAUSAL_LM_H_

#include <memory>
#include <optional>
#include <string>

#include "trainer/task/task.h"

namespace trainrt::trainer {

struct CausalLMOptions {
  std::string dataset_text_field = "text";
  std::optional<bool> completion_only_loss;  // unset: true for prompt-completion data (TRL's default)
};

std::unique_ptr<Task> NewCausalLMTask(const CausalLMOptions& options);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TASK_CAUSAL_LM_H_
