#include "trainer/task/task.h"

#include "trainer/task/sequence_classification.h"

namespace trainrt::trainer {

runtime::Result<std::unique_ptr<Task>> NewTask(const FinetuneArgs& args) {
  SequenceClassificationOptions options;
  options.columns = {args.text_column, args.text_pair_column, args.label_column};
  options.num_labels = args.num_labels;
  return NewSequenceClassificationTask(options);
}

}  // namespace trainrt::trainer
