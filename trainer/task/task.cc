#include "trainer/task/task.h"

#include "trainer/model/model_family.h"
#include "trainer/task/causal_lm.h"
#include "trainer/task/sequence_classification.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<Task>> NewTask(const FinetuneArgs& args, const ModelFamily& family,
                                               const std::string& model_dir) {
  const std::string& t = args.task;
  HeadKind kind = family.default_head();
  if (t == "sequence-classification" || t == "text-classification" || t == "SEQ_CLS" || t == "seq_cls") {
    kind = HeadKind::kSequenceClassification;
  } else if (t == "causal-lm" || t == "text-generation" || t == "CAUSAL_LM" || t == "causal_lm") {
    kind = HeadKind::kCausalLM;
  } else if (!t.empty()) {
    return runtime::Status::InvalidArgument("argument --task='" + t + "': expected sequence-classification or causal-lm");
  }
  if (kind == HeadKind::kCausalLM) {
    CausalLMOptions options;
    options.dataset_text_field = args.dataset_text_field;
    options.completion_only_loss = args.completion_only_loss;
    if (args.packing) options.packing = args.packing_strategy_parsed;
    if (args.eval_packing.value_or(args.packing)) options.eval_packing = args.packing_strategy_parsed;
    options.assistant_only_loss = args.assistant_only_loss;
    auto chat_template = args.chat_template_path.empty() ? LoadChatTemplate(model_dir)
                                                         : LoadChatTemplateFile(args.chat_template_path);
    if (!chat_template.ok()) return chat_template.status();
    if (chat_template->has_value()) options.chat_template = std::make_shared<const ChatTemplate>(std::move(**chat_template));
    return NewCausalLMTask(options);
  }
  SequenceClassificationOptions options;
  options.columns = {args.text_column, args.text_pair_column, args.label_column};
  options.num_labels = args.num_labels;
  return NewSequenceClassificationTask(options);
}

}  // namespace trainrt::trainer
