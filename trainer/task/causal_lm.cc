#include "trainer/task/causal_lm.h"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "trainer/data/text_rows.h"

namespace trainrt::trainer {
namespace {

using runtime::Status;

class CausalLMTask final : public Task {
 public:
  explicit CausalLMTask(const CausalLMOptions& options) : options_(options) {}

  Status LoadData(const std::string& train_dir, const std::string& test_dir, const Tokenizer& tokenizer,
                  int max_length, EncodedSet& train, EncodedSet& eval) override {
    if (tokenizer.special_tokens().eos < 0) {
      return Status::InvalidArgument("the tokenizer has no eos_token (tokenizer_config.json): causal-LM fine-tuning "
                                     "appends it to every example");
    }
    eos_text_ = tokenizer.TokenText(tokenizer.special_tokens().eos);
    TRAINRT_RETURN_IF_ERROR(Read(train_dir, tokenizer, max_length, train));
    if (!test_dir.empty() && runtime::PathExists(test_dir)) TRAINRT_RETURN_IF_ERROR(Read(test_dir, tokenizer, max_length, eval));
    return Status::Ok();
  }

  HeadSpec head() const override { return {HeadKind::kCausalLM, 0}; }
  int default_max_length() const override { return 1024; }

  // logits [B, T, V]; labels [B, T]: the next token of each position, or -100.
  LossTerms Loss(const at::Tensor& logits, const at::Tensor& labels) const override {
    const at::Tensor flat = logits.reshape({-1, logits.size(-1)});
    return {at::cross_entropy_loss(flat, labels.reshape({-1}), {}, at::Reduction::Sum, kIgnoreIndex),
            labels.ne(kIgnoreIndex).sum()};
  }

  size_t EvalStateSize(const EncodedSet&) const override { return 0; }
  void AddToEval(const at::Tensor&, const std::vector<int64_t>&, std::vector<double>&) const override {}
  // After the task's (empty) state, Evaluate keeps the loss weighted by rows and the rows.
  LogDict EvalMetrics(const std::vector<double>& state, const EncodedSet&) const override {
    const double loss = state[0] / std::max(1.0, state[1]);
    return {{"perplexity", std::exp(loss)}};
  }

  void AddToExportConfig(nlohmann::json&) const override {}
  std::vector<std::string> LayoutNames() const override { return {}; }
  std::string Describe() const override {
    const std::string dropped =
        dropped_ > 0 ? ", " + std::to_string(dropped_) + " example(s) dropped: max_length left them nothing to learn" : "";
    return (prompt_completion_ ? std::string("prompt-completion data, loss on ") +
                                     (completion_only_ ? "the completions" : "every token")
                               : "language modelling on '" + options_.dataset_text_field + "'") +
           dropped;
  }

 private:
  Status Read(const std::string& dir, const Tokenizer& tokenizer, int max_length, EncodedSet& set) {
    auto read = ReadTextRows(dir, {{options_.dataset_text_field}, {"prompt", "completion"}});
    if (!read.ok()) return read.status();
    prompt_completion_ = read->columns.size() == 2;
    completion_only_ = prompt_completion_ && options_.completion_only_loss.value_or(true);
    auto with_eos = [&](const std::string& s) {
      return s.size() >= eos_text_.size() && s.compare(s.size() - eos_text_.size(), eos_text_.size(), eos_text_) == 0
                 ? s
                 : s + eos_text_;
    };
    const EncodeOptions whole{0, false};  // truncation comes after, keeping the start (TRL's keep_start)
    for (const auto& row : read->rows) {
      Encoding e;
      std::vector<int32_t> learned;  // per position: 1 where its token is a target
      if (!prompt_completion_) {
        e = tokenizer.Encode(with_eos(row[0]), std::nullopt, whole);
        learned.assign(e.input_ids.size(), 1);
      } else {
        const std::vector<int32_t> prompt = tokenizer.Encode(row[0], std::nullopt, whole).input_ids;
        e = tokenizer.Encode(row[0] + with_eos(row[1]), std::nullopt, whole);
        // The completion starts where the prompt alone and prompt + completion diverge (TRL).
        size_t prefix = 0;
        while (prefix < prompt.size() && prefix < e.input_ids.size() && prompt[prefix] == e.input_ids[prefix]) ++prefix;
        learned.assign(e.input_ids.size(), 1);
        if (completion_only_) std::fill(learned.begin(), learned.begin() + static_cast<std::ptrdiff_t>(prefix), 0);
      }
      const size_t n = std::min(e.input_ids.size(), static_cast<size_t>(max_length));
      for (auto* v : {&e.input_ids, &e.attention_mask, &e.token_type_ids, &e.word_ids, &learned}) v->resize(n);
      // An example truncation left without a learned token teaches nothing: dropped, as TRL drops it.
      if (std::none_of(learned.begin(), learned.end(), [](int32_t l) { return l != 0; })) {
        ++dropped_;
        continue;
      }
      std::vector<int32_t> targets(n, kIgnoreIndex);  // position t predicts token t + 1
      for (size_t t = 0; t + 1 < n; ++t) {
        if (learned[t + 1]) targets[t] = e.input_ids[t + 1];
      }
      set.inputs.push_back(std::move(e));
      set.token_labels.push_back(std::move(targets));
    }
    return Status::Ok();
  }

  CausalLMOptions options_;
  std::string eos_text_;
  bool prompt_completion_ = false, completion_only_ = false;
  int64_t dropped_ = 0;  // examples left without targets by truncation
};

}  // namespace

std::unique_ptr<Task> NewCausalLMTask(const CausalLMOptions& options) { return std::make_unique<CausalLMTask>(options); }

}  // namespace trainrt::trainer
