// CausalLMTask: supervised fine-tuning of a decoder-only language model, as TRL's SFTTrainer
// prepares it. Data in TRL's formats: a text column (dataset_text_field, default `text`: language
// modelling), `prompt` and `completion` (the loss on the completion only, unless
// completion_only_loss is False), or `messages` (conversations, rendered with the model's chat
// template; prompt and completion may be conversations too; with assistant_only_loss, the loss
// on the tokens the template's {% generation %} blocks wrote, as transformers' assistant mask
// finds them). The EOS token is appended to plain
// text as TRL appends it (to the text, or the completion, unless it ends with it), the tokenizer
// adds what its post-processor adds (BOS for Llama 3; a chat template writes its own), sequences
// are cut to max_length (default 1024, SFTConfig's; an example left with nothing to learn is
// dropped, as TRL drops it), and each position's target is the next token (-100 where nothing is
// learned). With packing, examples share rows of max_length ids as TRL packs them
// (data/packing.h). The loss is cross-entropy summed over the targets; evaluation adds
// perplexity, exp(eval_loss), as transformers' run_clm does.
#ifndef TRAINRT_TRAINER_TASK_CAUSAL_LM_H_
#define TRAINRT_TRAINER_TASK_CAUSAL_LM_H_

#include <memory>
#include <optional>
#include <string>

#include "trainer/data/packing.h"
#include "trainer/task/task.h"
#include "trainer/tokenizer/chat_template.h"

namespace trainrt::trainer {

struct CausalLMOptions {
  std::string dataset_text_field = "text";
  std::optional<bool> completion_only_loss;  // unset: true for prompt-completion data (TRL's default)
  bool assistant_only_loss = false;          // conversations: the loss on what {% generation %} blocks wrote
  std::optional<PackingStrategy> packing;       // the train set's; unset: one example per row
  std::optional<PackingStrategy> eval_packing;  // the test set's
  std::shared_ptr<const ChatTemplate> chat_template;  // the model's, for conversations; may be null
};

std::unique_ptr<Task> NewCausalLMTask(const CausalLMOptions& options);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TASK_CAUSAL_LM_H_
