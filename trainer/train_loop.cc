#include "trainer/train_loop.h"

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "runtime/file_util.h"
#include "trainer/data/text_classification_data.h"
#include "trainer/export_model.h"
#include "trainer/metrics/classification_metrics.h"
#include "trainer/model/model_config.h"
#include "trainer/model/safetensors.h"
#include "trainer/model/sequence_classifier.h"
#include "trainer/optim/adamw.h"
#include "trainer/tokenizer/wordpiece_tokenizer.h"
#include "trainer/trainer_log.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;
using Clock = std::chrono::steady_clock;

// ---- data ---------------------------------------------------------------------------------------

struct EncodedSet {
  std::vector<Encoding> inputs;  // unpadded
  std::vector<int64_t> labels;
};

EncodedSet Encode(const std::vector<TextExample>& examples, const LabelMap& labels, const WordPieceTokenizer& tokenizer,
                  int max_length) {
  EncodedSet set;
  EncodeOptions options;
  options.max_length = max_length;
  for (const TextExample& ex : examples) {
    if (!ex.input_ids.empty()) {  // pre-tokenized: keep the ids, cut to max_length
      Encoding e;
      e.input_ids.assign(ex.input_ids.begin(),
                         ex.input_ids.begin() + std::min<std::ptrdiff_t>(max_length, ex.input_ids.size()));
      if (ex.attention_mask.empty()) {
        e.attention_mask.assign(e.input_ids.size(), 1);
      } else {
        e.attention_mask.assign(ex.attention_mask.begin(), ex.attention_mask.begin() + e.input_ids.size());
      }
      e.token_type_ids.assign(e.input_ids.size(), 0);
      set.inputs.push_back(std::move(e));
    } else {
      set.inputs.push_back(tokenizer.Encode(ex.text, ex.pair ? std::optional<std::string_view>(*ex.pair) : std::nullopt,
                                            options));
    }
    set.labels.push_back(labels.ids.at(ex.label));
  }
  return set;
}

struct Batch {
  at::Tensor input_ids, attention_mask, token_type_ids, labels;  // [B, L] x3 (padded to the longest), [B]
};

Batch Collate(const EncodedSet& set, const std::vector<int64_t>& index, int32_t pad_id, const at::Device& device) {
  size_t longest = 0;
  for (int64_t i : index) longest = std::max(longest, set.inputs[static_cast<size_t>(i)].input_ids.size());
  const int64_t b = static_cast<int64_t>(index.size()), l = static_cast<int64_t>(longest);
  at::Tensor ids = at::full({b, l}, pad_id, at::kLong), mask = at::zeros({b, l}, at::kLong),
             types = at::zeros({b, l}, at::kLong), labels = at::empty({b}, at::kLong);
  auto ids_a = ids.accessor<int64_t, 2>(), mask_a = mask.accessor<int64_t, 2>(), types_a = types.accessor<int64_t, 2>();
  auto labels_a = labels.accessor<int64_t, 1>();
  for (int64_t r = 0; r < b; ++r) {
    const Encoding& e = set.inputs[static_cast<size_t>(index[static_cast<size_t>(r)])];
    for (size_t t = 0; t < e.input_ids.size(); ++t) {
      ids_a[r][static_cast<int64_t>(t)] = e.input_ids[t];
      mask_a[r][static_cast<int64_t>(t)] = e.attention_mask[t];
      types_a[r][static_cast<int64_t>(t)] = e.token_type_ids[t];
    }
    labels_a[r] = set.labels[static_cast<size_t>(index[static_cast<size_t>(r)])];
  }
  const bool pin = device.is_cuda();
  auto move = [&](const at::Tensor& t) { return (pin ? t.pin_memory() : t).to(device, /*non_blocking=*/pin); };
  return {move(ids), move(mask), move(types), move(labels)};
}

// Epoch `epoch`'s batches: randperm(N) from a CPU generator seeded seed + epoch, cut into batches.
// With group_by_length, each window of 50 batches is sorted by length first (less padding).
std::vector<std::vector<int64_t>> EpochBatches(const EncodedSet& set, int64_t batch_size, int64_t seed, int64_t epoch,
                                               bool group_by_length) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed + epoch));
  at::Tensor perm = at::randperm(static_cast<int64_t>(set.labels.size()), gen, at::kLong);
  std::vector<int64_t> order(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + perm.numel());
  if (group_by_length) {
    const size_t window = static_cast<size_t>(batch_size) * 50;
    for (size_t start = 0; start < order.size(); start += window) {
      auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + window));
      std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start), end, [&](int64_t a, int64_t b) {
        return set.inputs[static_cast<size_t>(a)].input_ids.size() > set.inputs[static_cast<size_t>(b)].input_ids.size();
      });
    }
  }
  std::vector<std::vector<int64_t>> batches;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + batch_size)));
  }
  return batches;
}

// ---- optimization -----------------------------------------------------------------------------

// Linear warmup then linear decay to 0 (get_linear_schedule_with_warmup); `step` is 0-based.
double LinearSchedule(int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup)));
}

// Transformers' decay rule: no weight decay for biases and LayerNorm parameters.
bool Decays(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("bias") == std::string::npos && lower.find("layernorm") == std::string::npos &&
         lower.find("layer_norm") == std::string::npos;
}

// clip_grad_norm_ (torch's foreach path) without a host synchronisation: returns the pre-clip
// total L2 norm as a tensor.
at::Tensor ClipGradNorm(const std::vector<at::Tensor>& params, double max_norm) {
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  at::Tensor total = at::stack(at::_foreach_norm(grads, 2)).norm(2);
  if (max_norm > 0) at::_foreach_mul_(grads, (max_norm / (total + 1e-6)).clamp_max(1.0));
  return total;
}

// fp16 dynamic loss scaling, as torch's GradScaler: scale the loss, unscale the gradients and
// detect overflow before the step, grow the scale after 2000 good steps, halve it on overflow.
// A no-op without fp16.
class LossScaler {
 public:
  LossScaler(bool enabled, const at::Device& device) : enabled_(enabled) {
    if (!enabled) return;
    scale_ = at::full({}, 65536.0, at::TensorOptions().dtype(at::kFloat).device(device));
    growth_tracker_ = at::zeros({}, at::TensorOptions().dtype(at::kInt).device(device));
    found_inf_ = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device));
  }
  at::Tensor Scale(const at::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }
  // Unscales every gradient in place; false when one is inf or NaN (the step must be skipped).
  bool Unscale(const std::vector<at::Tensor>& params) {
    if (!enabled_) return true;
    std::vector<at::Tensor> grads;
    for (const auto& p : params) {
      if (p.grad().defined()) grads.push_back(p.grad());
    }
    found_inf_.zero_();
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, scale_.reciprocal());
    return found_inf_.item<float>() == 0.0f;
  }
  void Update() {
    if (enabled_) at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, 2.0, 0.5, 2000);
  }

 private:
  bool enabled_;
  at::Tensor scale_, growth_tracker_, found_inf_;
};

int64_t StepsFor(double value, int64_t total) {  // values < 1 are ratios of the total steps
  return value < 1 ? static_cast<int64_t>(std::ceil(static_cast<double>(total) * value)) : static_cast<int64_t>(value);
}

// ---- evaluation -------------------------------------------------------------------------------

LogDict Evaluate(SequenceClassifier& model, const EncodedSet& set, int64_t batch_size, int64_t num_labels,
                 int32_t pad_id, const at::Device& device) {
  const auto start = Clock::now();
  model.eval();
  at::NoGradGuard no_grad;
  std::vector<int64_t> predictions;
  double loss_sum = 0;
  int64_t steps = 0;
  for (size_t begin = 0; begin < set.labels.size(); begin += static_cast<size_t>(batch_size)) {
    std::vector<int64_t> index;
    for (size_t i = begin; i < std::min(set.labels.size(), begin + batch_size); ++i) index.push_back(static_cast<int64_t>(i));
    Batch b = Collate(set, index, pad_id, device);
    at::Tensor logits = model.forward(b.input_ids, b.attention_mask, b.token_type_ids).to(at::kFloat);
    loss_sum += at::cross_entropy_loss(logits, b.labels).item<double>() * static_cast<double>(index.size());
    at::autocast::clear_cache();  // as after each training forward
    at::Tensor pred = logits.argmax(-1).to(at::kCPU);
    predictions.insert(predictions.end(), pred.data_ptr<int64_t>(), pred.data_ptr<int64_t>() + pred.numel());
    ++steps;
  }
  model.train();
  const ClassificationMetrics m = ComputeClassificationMetrics(predictions, set.labels, num_labels);
  const double runtime = std::chrono::duration<double>(Clock::now() - start).count();
  return {{"eval_loss", loss_sum / static_cast<double>(set.labels.size())},
          {"eval_accuracy", m.accuracy},
          {"eval_f1", m.f1},
          {"eval_precision", m.precision},
          {"eval_recall", m.recall},
          {"eval_runtime", PyRound(runtime, 4)},
          {"eval_samples_per_second", PyRound(static_cast<double>(set.labels.size()) / runtime, 3)},
          {"eval_steps_per_second", PyRound(static_cast<double>(steps) / runtime, 3)}};
}

// A log_history entry: the values unrounded, then epoch and step, as Trainer.log records them.
nlohmann::json HistoryEntry(const LogDict& values, double epoch, int64_t step) {
  nlohmann::json entry = nlohmann::json::object();
  for (const auto& [k, v] : values) {
    if (k == "epoch") continue;
    if (std::holds_alternative<double>(v)) entry[k] = std::get<double>(v); else entry[k] = std::get<int64_t>(v);
  }
  entry["epoch"] = epoch;
  entry["step"] = step;
  return entry;
}

void PrintLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "'" : ", '") + s + "'";
  return "[" + out + "]";
}

}  // namespace

Result<std::string> ResolveModelPath(const std::string& name, const runtime::EnvMap& env) {
  if (runtime::PathExists(name + "/config.json")) return name;
  const std::string channel = runtime::EnvOr(env, "SM_CHANNEL_MODEL", "");
  if (!channel.empty() && runtime::PathExists(channel + "/config.json")) return channel;
  std::string hub = runtime::EnvOr(env, "HF_HUB_CACHE", "");
  if (hub.empty()) {
    const std::string hf_home = runtime::EnvOr(env, "HF_HOME", runtime::EnvOr(env, "HOME", "/root") + "/.cache/huggingface");
    hub = hf_home + "/hub";
  }
  // org/name -> models--org--name
  const std::string repo_dir = hub + "/models--" + (name.find('/') != std::string::npos
                                                        ? name.substr(0, name.find('/')) + "--" + name.substr(name.find('/') + 1)
                                                        : name);
  auto ref = runtime::ReadFileToString(repo_dir + "/refs/main");
  if (ref.ok()) {
    std::string rev = *ref;
    while (!rev.empty() && (rev.back() == '\n' || rev.back() == ' ')) rev.pop_back();
    if (runtime::PathExists(repo_dir + "/snapshots/" + rev + "/config.json")) return repo_dir + "/snapshots/" + rev;
  }
  if (DIR* d = opendir((repo_dir + "/snapshots").c_str())) {
    std::string found;
    while (dirent* e = readdir(d)) {
      const std::string snapshot = repo_dir + "/snapshots/" + e->d_name;
      if (e->d_name[0] != '.' && runtime::PathExists(snapshot + "/config.json")) found = snapshot;
    }
    closedir(d);
    if (!found.empty()) return found;
  }
  return Status::NotFound("model '" + name + "': not a folder with config.json, not in the model channel, not in " +
                          "the Hugging Face cache " + hub + " (trainrt does not download; ship the model as a channel)");
}

Status RunFinetune(const FinetuneArgs& args, const runtime::EnvMap& env) {
  // ---- setup ----
  const int64_t world = std::stoll(runtime::EnvOr(env, "WORLD_SIZE", "1"));
  const int64_t local_rank = std::stoll(runtime::EnvOr(env, "LOCAL_RANK", "0"));
  if (world > 1) {
    return Status::InvalidArgument("data parallel fine-tuning across " + std::to_string(world) +
                                   " workers is not available in this build yet; run one worker (TRAINRT_NUM_GPUS=1)");
  }
  for (const auto& arg : args.ignored) std::fprintf(stderr, "trainrt-finetune: ignoring argument %s\n", arg.c_str());

  auto model_path = ResolveModelPath(args.model_name_or_path, env);
  if (!model_path.ok()) return model_path.status();
  auto tokenizer = WordPieceTokenizer::Load(*model_path);
  if (!tokenizer.ok()) return tokenizer.status();
  auto config = ModelConfig::Load(*model_path + "/config.json");
  if (!config.ok()) return config.status();

  Columns columns{args.text_column, args.text_pair_column, args.label_column};
  auto train_examples = ReadTextClassificationChannel(args.training_dir, columns);
  if (!train_examples.ok()) return train_examples.status();
  std::vector<TextExample> eval_examples;
  if (!args.test_dir.empty() && runtime::PathExists(args.test_dir)) {
    auto read = ReadTextClassificationChannel(args.test_dir, columns);
    if (!read.ok()) return read.status();
    eval_examples = std::move(*read);
  }
  auto labels = BuildLabelMap(*train_examples, eval_examples, args.num_labels);
  if (!labels.ok()) return labels.status();
  config->num_labels = static_cast<int64_t>(labels->names.size());

  at::manual_seed(static_cast<uint64_t>(args.seed));
  auto model_or = BuildSequenceClassifier(*config);
  if (!model_or.ok()) return model_or.status();
  SequenceClassifier& model = **model_or;
  auto weights = LoadModelWeights(*model_path);
  if (!weights.ok()) return weights.status();
  auto report = LoadWeights(model, *weights);
  if (!report.ok()) return report.status().WithContext(*model_path);
  if (!report->missing.empty()) {
    std::fprintf(stderr, "Some weights of %s were not initialized from the model checkpoint at %s and are newly "
                 "initialized: %s\n", model.architecture().c_str(), args.model_name_or_path.c_str(),
                 Join(report->missing).c_str());
  }
  if (!report->unexpected.empty()) {
    std::fprintf(stderr, "Some weights of the model checkpoint at %s were not used when initializing %s: %s\n",
                 args.model_name_or_path.c_str(), model.architecture().c_str(), Join(report->unexpected).c_str());
  }
  const bool cuda = torch::cuda::is_available();
  const at::Device device = cuda ? at::Device(at::kCUDA, static_cast<at::DeviceIndex>(local_rank)) : at::Device(at::kCPU);
  model.to(device);
  model.train();

  const int max_length = static_cast<int>(std::min(args.max_seq_length, config->max_position_embeddings));
  const EncodedSet train = Encode(*train_examples, *labels, *tokenizer, max_length);
  const EncodedSet eval = Encode(eval_examples, *labels, *tokenizer, max_length);
  const int32_t pad_id = tokenizer->pad_id();

  std::vector<at::Tensor> decay, no_decay, all_params;
  for (const auto& item : model.named_parameters()) {
    (Decays(item.key()) ? decay : no_decay).push_back(item.value());
    all_params.push_back(item.value());
  }
  AdamW optimizer(AdamWOptions{args.adam_beta1, args.adam_beta2, args.adam_epsilon});
  optimizer.AddGroup(decay, args.weight_decay);  // transformers' order: the decay group first
  optimizer.AddGroup(no_decay, 0.0);

  const int64_t n = static_cast<int64_t>(train.labels.size());
  const int64_t batches_per_epoch = (n + args.per_device_train_batch_size - 1) / args.per_device_train_batch_size;
  const int64_t ga = args.gradient_accumulation_steps;
  const int64_t updates_per_epoch = std::max<int64_t>(batches_per_epoch / ga + (batches_per_epoch % ga > 0), 1);
  const int64_t max_steps = args.max_steps > 0 ? args.max_steps
                                               : static_cast<int64_t>(std::ceil(args.num_train_epochs * updates_per_epoch));
  const int64_t num_epochs = args.max_steps > 0 ? max_steps / updates_per_epoch + (max_steps % updates_per_epoch > 0)
                                                : static_cast<int64_t>(std::ceil(args.num_train_epochs));
  const int64_t warmup = args.warmup_steps > 0 ? StepsFor(args.warmup_steps, max_steps)
                                               : static_cast<int64_t>(std::ceil(static_cast<double>(max_steps) * args.warmup_ratio));
  const int64_t logging_steps = std::max<int64_t>(1, StepsFor(args.logging_steps, max_steps));
  const int64_t eval_steps = args.eval_steps > 0 ? std::max<int64_t>(1, StepsFor(args.eval_steps, max_steps)) : logging_steps;
  const double progress_seconds = std::stod(runtime::EnvOr(env, "TRAINRT_PROGRESS_SECONDS", "30"));
  if (args.bf16 || args.fp16) {
    at::autocast::set_autocast_dtype(device.type(), args.bf16 ? at::kBFloat16 : at::kHalf);
    at::autocast::set_autocast_enabled(device.type(), true);
  }
  LossScaler scaler(args.fp16, device);
  std::fprintf(stderr, "trainrt-finetune: %s from %s on %s, %lld train / %zu eval examples, %zu labels, %lld steps "
               "(%lld epochs x %lld), batch %lld x %lld accumulation%s\n", model.architecture().c_str(),
               model_path->c_str(), device.str().c_str(), static_cast<long long>(n), eval.labels.size(),
               labels->names.size(), static_cast<long long>(max_steps), static_cast<long long>(num_epochs),
               static_cast<long long>(updates_per_epoch), static_cast<long long>(args.per_device_train_batch_size),
               static_cast<long long>(ga), args.bf16 ? ", bf16 autocast" : args.fp16 ? ", fp16 autocast with loss scaling" : "");

  // ---- training loop ----
  const auto start = Clock::now();
  auto last_progress = start;
  int64_t global_step = 0, last_logged_step = 0, scheduler_step = 0;
  at::Tensor loss_since_log = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device));
  double total_loss = 0;
  double epoch_progress = 0;
  nlohmann::json log_history = nlohmann::json::array();  // Trainer's state.log_history, full precision
  // Evaluates on the test channel and prints Trainer's eval dict; `record` adds it to log_history.
  auto evaluate = [&](bool record) {
    LogDict metrics = Evaluate(model, eval, args.per_device_eval_batch_size, config->num_labels, pad_id, device);
    if (record) log_history.push_back(HistoryEntry(metrics, epoch_progress, global_step));
    metrics.emplace_back("epoch", PyRound(epoch_progress, 2));
    PrintLine(PythonDictLine(metrics));
    return metrics;
  };
  for (int64_t epoch = 0; epoch < num_epochs && global_step < max_steps; ++epoch) {
    const auto batches = EpochBatches(train, args.per_device_train_batch_size, args.seed, epoch, args.group_by_length);
    // The next batch is collated (and copied to the device) on a helper thread while this one runs.
    auto collate = [&](size_t i) { return Collate(train, batches[i], pad_id, device); };
    std::future<Batch> next = std::async(std::launch::async, collate, 0);
    for (size_t b = 0; b < batches.size() && global_step < max_steps; ++b) {
      // The accumulation window this batch belongs to (the last one of an epoch may be shorter).
      const int64_t window_start = static_cast<int64_t>(b) / ga * ga;
      const int64_t window = std::min<int64_t>(ga, static_cast<int64_t>(batches.size()) - window_start);
      Batch batch = next.get();
      if (b + 1 < batches.size()) next = std::async(std::launch::async, collate, b + 1);
      at::Tensor logits = model.forward(batch.input_ids, batch.attention_mask, batch.token_type_ids).to(at::kFloat);
      at::Tensor loss = at::cross_entropy_loss(logits, batch.labels).div(static_cast<double>(window));
      scaler.Scale(loss).backward();
      // Autocast caches the low-precision copies of the weights; Python's autocast drops them when
      // each forward's region ends, so must we, or later steps would see stale weights.
      if (args.bf16 || args.fp16) at::autocast::clear_cache();
      loss_since_log.add_(loss.detach());
      if (static_cast<int64_t>(b) - window_start + 1 < window) continue;  // more micro-batches to accumulate

      const bool finite = scaler.Unscale(all_params);  // fp16: gradients back to their true scale
      at::Tensor grad_norm = ClipGradNorm(all_params, args.max_grad_norm);
      const double lr = args.learning_rate * LinearSchedule(scheduler_step, warmup, max_steps);
      if (finite) {  // an overflowed fp16 step is skipped, and so is its schedule step (Trainer)
        optimizer.Step(lr);
        ++scheduler_step;
      }
      scaler.Update();
      optimizer.ZeroGrad();
      ++global_step;
      epoch_progress = static_cast<double>(epoch) + static_cast<double>(b + 1) / static_cast<double>(batches.size());

      // ---- diagnostics: logs, evaluation, progress (the only host synchronisations) ----
      const bool log_now = global_step % logging_steps == 0 || (args.logging_first_step && global_step == 1);
      if (log_now) {
        const double loss_value = loss_since_log.item<double>() / static_cast<double>(global_step - last_logged_step);
        total_loss += loss_value * static_cast<double>(global_step - last_logged_step);
        loss_since_log.zero_();
        last_logged_step = global_step;
        LogDict line = {{"loss", PyRound(loss_value, 4)}};
        nlohmann::json entry = {{"loss", loss_value}};
        if (args.max_grad_norm > 0) {
          line.emplace_back("grad_norm", grad_norm.item<double>());
          entry["grad_norm"] = std::get<double>(line.back().second);
        }
        line.emplace_back("learning_rate", lr);
        line.emplace_back("epoch", PyRound(epoch_progress, 2));
        PrintLine(PythonDictLine(line));
        entry["learning_rate"] = lr;
        entry["epoch"] = epoch_progress;
        entry["step"] = global_step;
        log_history.push_back(entry);
      }
      if (args.eval_strategy == "steps" && global_step % eval_steps == 0 && !eval.labels.empty()) evaluate(true);
      const auto now = Clock::now();
      if (std::chrono::duration<double>(now - last_progress).count() >= progress_seconds) {
        last_progress = now;
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const double rate = static_cast<double>(global_step * args.per_device_train_batch_size * ga) / elapsed;
        const double eta = elapsed / static_cast<double>(global_step) * static_cast<double>(max_steps - global_step);
        std::fprintf(stderr, "trainrt-finetune: step %lld/%lld (%.0f%%), %.1f samples/s, ETA %d:%02d:%02d\n",
                     static_cast<long long>(global_step), static_cast<long long>(max_steps),
                     100.0 * static_cast<double>(global_step) / static_cast<double>(max_steps), rate,
                     static_cast<int>(eta) / 3600, static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60);
      }
    }
    if (args.eval_strategy == "epoch" && !eval.labels.empty()) evaluate(true);
  }
  if (global_step > last_logged_step) {
    total_loss += loss_since_log.item<double>();
  }

  // ---- summary, final evaluation, export ----
  const double runtime = std::chrono::duration<double>(Clock::now() - start).count();
  const double samples = args.max_steps > 0 ? static_cast<double>(max_steps * args.per_device_train_batch_size * ga)
                                            : static_cast<double>(n) * args.num_train_epochs;
  LogDict summary = {{"train_runtime", PyRound(runtime, 4)},
                     {"train_samples_per_second", PyRound(samples / runtime, 3)},
                     {"train_steps_per_second", PyRound(static_cast<double>(max_steps) / runtime, 3)},
                     {"train_loss", total_loss / std::max<double>(static_cast<double>(global_step), 0.001)},
                     {"epoch", PyRound(epoch_progress, 2)}};
  PrintLine(PythonDictLine(summary));
  PrintLine(ResultsBlock("train results", summary));
  log_history.push_back(HistoryEntry(summary, epoch_progress, global_step));
  nlohmann::json state = {{"global_step", global_step}, {"max_steps", max_steps}, {"epoch", epoch_progress},
                          {"num_train_epochs", num_epochs}, {"logging_steps", logging_steps},
                          {"train_batch_size", args.per_device_train_batch_size}, {"log_history", log_history}};
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(args.output_data_dir));
  TRAINRT_RETURN_IF_ERROR(
      runtime::WriteFileAtomically(args.output_data_dir + "/trainer_state.json", state.dump(2) + "\n"));
  if (!eval.labels.empty()) {
    const std::string block = ResultsBlock("eval results", evaluate(false));
    PrintLine(block);
    TRAINRT_RETURN_IF_ERROR(
        runtime::WriteFileAtomically(args.output_data_dir + "/eval_results.txt", block.substr(block.find('\n') + 1)));
  }
  if (args.bf16 || args.fp16) at::autocast::set_autocast_enabled(device.type(), false);
  model.to(at::kCPU);
  TRAINRT_RETURN_IF_ERROR(ExportModel(args.model_dir, model, *config, labels->names, *tokenizer, *model_path));
  std::fprintf(stderr, "trainrt-finetune: model saved to %s\n", args.model_dir.c_str());
  return Status::Ok();
}

}  // namespace trainrt::trainer
