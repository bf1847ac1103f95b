#include "trainer/task/causal_lm.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "runtime/file_util.h"
#include "trainer/data/text_rows.h"

namespace trainrt::trainer {
namespace {

using runtime::Status;

// One example as ids and, per id, whether it is learned (its prediction is a target).
struct Example {
  std::vector<int32_t> ids;
  std::vector<int32_t> learned;
};

const char* StrategyName(PackingStrategy s) {
  switch (s) {
    case PackingStrategy::kBfd: return "bfd";
    case PackingStrategy::kBfdSplit: return "bfd_split";
    case PackingStrategy::kWrapped: return "wrapped";
  }
  return "";
}

// Position t's target is token t + 1 where that token is learned: within [begin, end) of `e`.
void AppendTargets(const Example& e, size_t begin, size_t end, std::vector<int32_t>& targets) {
  for (size_t t = begin; t < end; ++t) targets.push_back(t + 1 < end && e.learned[t + 1] ? e.ids[t + 1] : kIgnoreIndex);
}

// Per token, 1 where its bytes overlap one of `spans` (transformers' assistant mask).
std::vector<int32_t> OverlapMask(const std::vector<ByteSpan>& tokens, const std::vector<std::pair<size_t, size_t>>& spans) {
  std::vector<int32_t> mask(tokens.size(), 0);
  size_t s = 0;
  for (size_t k = 0; k < tokens.size(); ++k) {
    while (s < spans.size() && tokens[k].begin >= spans[s].second) ++s;
    if (s == spans.size()) break;
    mask[k] = tokens[k].end > spans[s].first ? 1 : 0;
  }
  return mask;
}

// One row of `ids` (and its targets) as model inputs.
void AddRow(std::vector<int32_t> ids, std::vector<int32_t> targets, EncodedSet& set) {
  Encoding e;
  const size_t n = ids.size();
  e.input_ids = std::move(ids);
  e.attention_mask.assign(n, 1);
  e.token_type_ids.assign(n, 0);
  e.word_ids.assign(n, -1);
  set.inputs.push_back(std::move(e));
  set.token_labels.push_back(std::move(targets));
}

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
    for (const auto& [name, id] : {std::pair<const char*, int32_t>{"bos_token", tokenizer.special_tokens().bos},
                                   {"eos_token", tokenizer.special_tokens().eos},
                                   {"unk_token", tokenizer.special_tokens().unk},
                                   {"pad_token", tokenizer.special_tokens().pad}}) {
      if (id >= 0) template_variables_[name] = tokenizer.TokenText(id);
    }
    TRAINRT_RETURN_IF_ERROR(Read(train_dir, tokenizer, max_length, options_.packing, train, train_examples_));
    train_rows_ = static_cast<int64_t>(train.size());
    if (!test_dir.empty() && runtime::PathExists(test_dir)) {
      int64_t eval_examples = 0;
      TRAINRT_RETURN_IF_ERROR(Read(test_dir, tokenizer, max_length, options_.eval_packing, eval, eval_examples));
    }
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
  // A checkpoint's data position counts packed rows: packing differently is another layout.
  std::vector<std::string> LayoutNames() const override {
    if (!options_.packing) return {};
    return {std::string("packing=") + StrategyName(*options_.packing)};
  }
  std::string Describe() const override {
    std::string data = conversational_ ? "conversations" : prompt_completion_ ? "prompt-completion data" : "";
    std::string out = prompt_completion_ ? data + ", loss on " + (completion_only_ ? "the completions" : "every token")
                      : conversational_  ? data + " (chat template" +
                                               (options_.assistant_only_loss ? ", loss on the assistant's tokens)" : ")")
                                         : "language modelling on '" + options_.dataset_text_field + "'";
    if (options_.packing) {
      out += ", packed (" + std::string(StrategyName(*options_.packing)) + "): " + std::to_string(train_examples_) +
             " examples in " + std::to_string(train_rows_) + " rows";
    }
    if (dropped_ > 0) out += ", " + std::to_string(dropped_) + " example(s) dropped: max_length left them nothing to learn";
    return out;
  }

 private:
  // The text a chat template makes of a conversation (JSON text of its messages).
  runtime::Result<std::string> RenderChat(const std::string& messages_json, bool add_generation_prompt) const {
    return options_.chat_template->Render(nlohmann::json::parse(messages_json), add_generation_prompt, std::nullopt,
                                          template_variables_);
  }

  // A conversation's ids, learned where the chat template's {% generation %} blocks wrote them.
  Status AssistantTokens(const std::string& messages_json, const Tokenizer& tokenizer, const std::string& where,
                         Example& e) const {
    std::vector<std::pair<size_t, size_t>> generated;
    auto text = options_.chat_template->RenderWithGenerationSpans(nlohmann::json::parse(messages_json), false,
                                                                   std::nullopt, template_variables_, generated);
    if (!text.ok()) return Status::InvalidArgument(where + ": " + text.status().message());
    std::vector<ByteSpan> spans;
    e.ids = tokenizer.TokenizeWithSpans(*text, spans);
    if (spans.size() != e.ids.size()) {
      return Status::InvalidArgument("--assistant_only_loss True: this tokenizer does not tell where its tokens come from");
    }
    e.learned = OverlapMask(spans, generated);
    if (std::find(e.learned.begin(), e.learned.end(), 1) == e.learned.end()) {
      return Status::InvalidArgument(where + ": --assistant_only_loss True, but the chat template's {% generation %} "
                                     "blocks marked none of its tokens (no assistant message?)");
    }
    return Status::Ok();
  }

  Status ReadExamples(const std::string& dir, const Tokenizer& tokenizer, std::vector<Example>& out) {
    auto read = ReadTextRows(dir, {{options_.dataset_text_field}, {"prompt", "completion"}, {"messages"}});
    if (!read.ok()) return read.status();
    prompt_completion_ = read->columns.size() == 2;
    conversational_ = read->conversational;
    completion_only_ = prompt_completion_ && options_.completion_only_loss.value_or(true);
    if (conversational_ && options_.chat_template == nullptr) {
      return Status::InvalidArgument(dir + ": the data are conversations ('" + read->columns[0] +
                                     "' holds messages) but the model has no chat template (chat_template.jinja or "
                                     "tokenizer_config.json's chat_template)");
    }
    if (options_.assistant_only_loss && !conversational_) {
      return Status::InvalidArgument("--assistant_only_loss True: the data in " + dir +
                                     " are not conversations (a messages column, or conversational prompt/completion), "
                                     "the only data it applies to (as in TRL)");
    }
    if (options_.assistant_only_loss && !options_.chat_template->has_generation_blocks()) {
      return Status::InvalidArgument(
          "--assistant_only_loss True: " + options_.chat_template->where() +
          " has no {% generation %} blocks, which mark the assistant's tokens; give a template that has them with "
          "--chat_template_path FILE.jinja (TRL ships such versions of common templates as "
          "trl/chat_templates/*_training.jinja)");
    }
    auto with_eos = [&](const std::string& s) {
      return s.size() >= eos_text_.size() && s.compare(s.size() - eos_text_.size(), eos_text_.size(), eos_text_) == 0
                 ? s
                 : s + eos_text_;
    };
    const EncodeOptions whole{0, false};  // truncation comes after, keeping the start (TRL's keep_start)
    // Ids of a text: plain text through the post-processor (BOS), a rendered chat as it is.
    auto ids_of = [&](const std::string& text) {
      return conversational_ ? tokenizer.TokenizeToIds(text) : tokenizer.Encode(text, std::nullopt, whole).input_ids;
    };
    for (size_t r = 0; r < read->rows.size(); ++r) {
      const auto& row = read->rows[r];
      const std::string where = dir + ": example " + std::to_string(r + 1);
      Example e;
      if (!prompt_completion_) {
        std::string text = row[0];
        if (options_.assistant_only_loss) {
          TRAINRT_RETURN_IF_ERROR(AssistantTokens(row[0], tokenizer, where, e));
          out.push_back(std::move(e));
          continue;
        }
        if (conversational_) {
          auto rendered = RenderChat(row[0], false);
          if (!rendered.ok()) return Status::InvalidArgument(where + ": " + rendered.status().message());
          text = std::move(*rendered);
        } else {
          text = with_eos(text);
        }
        e.ids = ids_of(text);
        e.learned.assign(e.ids.size(), 1);
      } else {
        std::string prompt = row[0], whole_text = row[0] + with_eos(row[1]);
        if (conversational_) {
          nlohmann::json both = nlohmann::json::parse(row[0]);
          for (const auto& m : nlohmann::json::parse(row[1])) both.push_back(m);
          auto p = RenderChat(row[0], true);
          if (!p.ok()) return Status::InvalidArgument(where + ": " + p.status().message());
          prompt = std::move(*p);
          if (options_.assistant_only_loss) {
            TRAINRT_RETURN_IF_ERROR(AssistantTokens(both.dump(), tokenizer, where, e));
          } else {
            auto w = RenderChat(both.dump(), false);
            if (!w.ok()) return Status::InvalidArgument(where + ": " + w.status().message());
            whole_text = std::move(*w);
          }
        }
        const std::vector<int32_t> prompt_ids = ids_of(prompt);
        if (!options_.assistant_only_loss) {
          e.ids = ids_of(whole_text);
          e.learned.assign(e.ids.size(), 1);
        }
        // The completion starts where the prompt alone and prompt + completion diverge (TRL).
        size_t prefix = 0;
        while (prefix < prompt_ids.size() && prefix < e.ids.size() && prompt_ids[prefix] == e.ids[prefix]) ++prefix;
        if (completion_only_) std::fill(e.learned.begin(), e.learned.begin() + static_cast<std::ptrdiff_t>(prefix), 0);
      }
      out.push_back(std::move(e));
    }
    return Status::Ok();
  }

  Status Read(const std::string& dir, const Tokenizer& tokenizer, int max_length,
              const std::optional<PackingStrategy>& packing, EncodedSet& set, int64_t& examples_read) {
    std::vector<Example> examples;
    TRAINRT_RETURN_IF_ERROR(ReadExamples(dir, tokenizer, examples));
    set.share_rows = true;  // causal attention, kept inside each example: rows can be shared
    set.head_on_targets_only = true;  // logits only where the loss reads them
    examples_read = static_cast<int64_t>(examples.size());
    const size_t cap = static_cast<size_t>(max_length);
    if (!packing) {
      for (Example& e : examples) {
        const size_t n = std::min(e.ids.size(), cap);
        // An example truncation left without a learned token teaches nothing: dropped, as TRL drops it.
        if (std::none_of(e.learned.begin(), e.learned.begin() + static_cast<std::ptrdiff_t>(n), [](int32_t l) { return l != 0; })) {
          ++dropped_;
          continue;
        }
        std::vector<int32_t> targets;
        AppendTargets(e, 0, n, targets);
        e.ids.resize(n);
        AddRow(std::move(e.ids), std::move(targets), set);
      }
      return Status::Ok();
    }
    for (size_t block = 0; block < examples.size(); block += kPackingBlock) {
      const size_t block_end = std::min(examples.size(), block + kPackingBlock);
      if (*packing == PackingStrategy::kWrapped) {
        Example stream;  // the block's examples end to end, cut every max_length ids
        for (size_t i = block; i < block_end; ++i) {
          stream.ids.insert(stream.ids.end(), examples[i].ids.begin(), examples[i].ids.end());
          stream.learned.insert(stream.learned.end(), examples[i].learned.begin(), examples[i].learned.end());
        }
        for (const auto& [begin, end] : CutIntoPieces(stream.ids.size(), cap)) {
          std::vector<int32_t> targets;
          AppendTargets(stream, begin, end, targets);
          AddRow(std::vector<int32_t>(stream.ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                      stream.ids.begin() + static_cast<std::ptrdiff_t>(end)),
                 std::move(targets), set);
        }
        continue;
      }
      // Best-fit decreasing over pieces: each example's first max_length ids (bfd), or all of its
      // ids in max_length fragments (bfd_split). A piece is a sequence of its own: positions
      // restart and its first id is never a target.
      struct Piece {
        size_t example, begin, end;
      };
      std::vector<Piece> pieces;
      for (size_t i = block; i < block_end; ++i) {
        const size_t n = examples[i].ids.size();
        if (n == 0) continue;
        if (*packing == PackingStrategy::kBfd) {
          pieces.push_back({i, 0, std::min(n, cap)});
        } else {
          for (const auto& [begin, end] : CutIntoPieces(n, cap)) pieces.push_back({i, begin, end});
        }
      }
      std::vector<size_t> lengths;
      for (const Piece& p : pieces) lengths.push_back(p.end - p.begin);
      for (const std::vector<size_t>& bin : BestFitDecreasing(lengths, cap)) {
        std::vector<int32_t> ids, targets, segments;
        for (size_t k : bin) {
          const Piece& p = pieces[k];
          const Example& e = examples[p.example];
          ids.insert(ids.end(), e.ids.begin() + static_cast<std::ptrdiff_t>(p.begin),
                     e.ids.begin() + static_cast<std::ptrdiff_t>(p.end));
          AppendTargets(e, p.begin, p.end, targets);
          segments.push_back(static_cast<int32_t>(p.end - p.begin));
        }
        AddRow(std::move(ids), std::move(targets), set);
        set.segment_lengths.push_back(std::move(segments));
      }
    }
    return Status::Ok();
  }

  CausalLMOptions options_;
  std::string eos_text_;
  std::map<std::string, std::string> template_variables_;  // the special tokens a chat template sees
  bool prompt_completion_ = false, completion_only_ = false, conversational_ = false;
  int64_t dropped_ = 0;  // examples left without targets by truncation
  int64_t train_examples_ = 0, train_rows_ = 0;  // for Describe
};

}  // namespace

std::unique_ptr<Task> NewCausalLMTask(const CausalLMOptions& options) { return std::make_unique<CausalLMTask>(options); }

}  // namespace trainrt::trainer
